"""Deterministic answers built only from what the server measured in a request.

The server understands nothing: its answer lists the measurements of every media part,
repeats the user's question, and says it understands nothing more. With thinking on it
adds a few fixed sentences of "reasoning". Tools, JSON mode, ``stop`` and the
``max_completion_tokens`` cap follow the rules in the README; completion tokens are counted
"word-ish": every run of ASCII letters/digits/underscores is one token, and so is every
other non-space character.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from .arguments import asks_for_a_tool, build_arguments, mentioned_tool
from .contract import ChatRequest, Tool, VideoInput
from .probe import dominant

_TOKEN: Final = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")
_KEYS_WORD: Final = re.compile(r"\b(keys?|fields?|properties)\b", re.IGNORECASE)
_KEY_NAME: Final = re.compile(r"[`'\"]([A-Za-z_][\w-]{0,63})[`'\"]")
DISCLAIMER: Final = (
    "These are measurements of the request by the MiMo contract test server, "
    "not an understanding of its content."
)


def count_tokens(text: str | None) -> int:
    """Word-ish completion tokens of ``text``."""
    return len(_TOKEN.findall(text or ""))


def truncate_tokens(text: str, limit: int) -> str:
    """The prefix of ``text`` that holds its first ``limit`` word-ish tokens."""
    if limit <= 0:
        return ""
    for index, match in enumerate(_TOKEN.finditer(text)):
        if index + 1 == limit:
            return text[: match.end()]
    return text


def split_pieces(text: str, tokens_per_piece: int = 3) -> list[str]:
    """Split ``text`` into stream deltas of a few tokens each; they join back to ``text``."""
    starts = [m.start() for m in _TOKEN.finditer(text)][tokens_per_piece::tokens_per_piece]
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@dataclass(frozen=True)
class ToolCall:
    """One tool call of the answer."""

    id: str
    name: str
    arguments: str


@dataclass
class Completion:
    """The answer to a chat request, before it is put on the wire."""

    content: str
    reasoning: str | None
    finish_reason: str
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def reasoning_tokens(self) -> int:
        """Word-ish tokens of the reasoning."""
        return count_tokens(self.reasoning)

    @property
    def completion_tokens(self) -> int:
        """Reasoning + content + tool-call (name and arguments) tokens."""
        calls = sum(count_tokens(c.name + c.arguments) for c in self.tool_calls)
        return self.reasoning_tokens + count_tokens(self.content) + calls


def user_text(request: ChatRequest) -> str:
    """The text of the last user message (text parts joined by spaces)."""
    for message in reversed(request.messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            texts = [p["text"] for p in content if p.get("type") == "text"]
            return " ".join(t.strip() for t in texts if t.strip())
    return ""


def answer(request: ChatRequest, response_id: str) -> Completion:
    """Build the deterministic answer to ``request``."""
    question = user_text(request)
    tool = _choose_tool(request, question)
    calls: list[ToolCall] = []
    content = ""
    if tool is not None:
        arguments = json.dumps(
            build_arguments(tool.name, tool.parameters, question), ensure_ascii=False
        )
        call_id = "call_" + hashlib.sha256(f"{response_id}:0".encode()).hexdigest()[:24]
        calls.append(ToolCall(call_id, tool.name, arguments))
        plan = f"I will call the tool {tool.name} with the arguments {arguments}."
    elif request.messages[-1].get("role") == "tool":
        content = _tool_results(request, question)
        plan = "I will report what the tool returned."
    elif request.json_mode:
        content = _json_answer(request, question)
        plan = "I will answer with a JSON object."
    else:
        content = " ".join([*_observations(request), _echo(question), DISCLAIMER])
        plan = "I will answer in plain text with what I measured."
    reasoning = _reasoning(request, question, plan) if request.thinking else None
    content = _apply_stop(content, request.stop)
    completion = Completion(content, reasoning, "tool_calls" if calls else "stop", calls)
    if request.max_completion_tokens is not None:
        _apply_cap(completion, request.max_completion_tokens)
    return completion


def _choose_tool(request: ChatRequest, question: str) -> Tool | None:
    """Which tool to call, if any (see the README's rules)."""
    if not request.tools or request.tool_choice == "none":
        return None
    by_name = {tool.name: tool for tool in request.tools}
    named = request.named_tool
    if named is not None:
        return by_name[named]
    forced = request.tool_choice == "required"
    if request.messages[-1].get("role") == "tool" and not forced:
        return None
    mentioned = mentioned_tool(list(by_name), question)
    if mentioned is not None:
        return by_name[mentioned]
    if forced or asks_for_a_tool(question):
        return request.tools[0]
    return None


def _echo(question: str) -> str:
    if not question:
        return "No question was asked."
    short = question if len(question) <= 300 else question[:300] + "..."
    return f'Question: "{short}".'


def _observations(request: ChatRequest) -> list[str]:
    lines = [_describe_video(index, video) for index, video in enumerate(request.videos, 1)]
    lines += [
        f"Image {index}: {image.format}, {image.size} bytes."
        for index, image in enumerate(request.images, 1)
    ]
    lines += [
        f"Audio {index}: {audio.duration:.1f} s." for index, audio in enumerate(request.audios, 1)
    ]
    if not lines:
        count = _plural(len(request.messages), "message")
        lines.append(f"The request holds {count} of text and no media.")
    return lines


def _describe_video(index: int, video: VideoInput) -> str:
    probe = video.probe
    colors = probe.sampled_colors(video.tokens.frames)
    runs = [c for i, c in enumerate(colors) if i == 0 or colors[i - 1] != c]
    sound = "with an audio track" if probe.has_audio else "no audio track"
    text = (
        f"Video {index}: {probe.duration:.1f} s, {probe.width}x{probe.height}, "
        f"{video.tokens.frames} frames sampled at {video.fps:g} fps, "
        f"media_resolution {video.media_resolution}, {sound}, "
        f"dominant colour {dominant(colors)}."
    )
    if len(runs) > 1:
        text += f" Colours in order: {', '.join(runs)}."
    return text


def _tool_results(request: ChatRequest, question: str) -> str:
    names: dict[str, str] = {}
    for message in request.messages:
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
    results: list[str] = []
    for message in reversed(request.messages):
        if message.get("role") != "tool":
            break
        content = message["content"]
        text = content if isinstance(content, str) else " ".join(p["text"] for p in content)
        name = names.get(message["tool_call_id"]) or message.get("name") or "the tool"
        results.insert(0, f"The tool {name} returned: {text.strip()}.")
    return " ".join([*results, f"That is the result for: {_echo(question)}"])


def _json_answer(request: ChatRequest, question: str) -> str:
    keys: list[str] = []
    if _KEYS_WORD.search(question):
        for match in _KEY_NAME.finditer(question):
            if match.group(1) not in keys:
                keys.append(match.group(1))
    value: dict[str, Any]
    if keys:
        value = dict.fromkeys(keys, question)
    else:
        value = {"question": question, "observations": _observations(request)}
    return json.dumps(value, ensure_ascii=False)


def _reasoning(request: ChatRequest, question: str, plan: str) -> str:
    media = len(request.videos) + len(request.images) + len(request.audios)
    holds = (
        f"The request holds {_plural(len(request.videos), 'video')}, "
        f"{_plural(len(request.images), 'image')} and "
        f"{_plural(len(request.audios), 'audio clip')}, each measured with a decoder."
        if media
        else "The request holds text only."
    )
    asks = f'The user asks: "{question}".' if question else "The user asks nothing."
    return f"{asks} {holds} {plan}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _apply_stop(content: str, stops: list[str]) -> str:
    cut = min((content.find(s) for s in stops if s in content), default=-1)
    return content if cut < 0 else content[:cut]


def _apply_cap(completion: Completion, cap: int) -> None:
    """Cut reasoning, then the answer, to ``cap`` tokens together, like MiMo does."""
    remaining = cap
    if completion.reasoning is not None:
        full = count_tokens(completion.reasoning)
        if full > remaining or (
            full == remaining and (completion.content or completion.tool_calls)
        ):
            completion.reasoning = truncate_tokens(completion.reasoning, remaining)
            completion.content, completion.tool_calls = "", []
            completion.finish_reason = "length"
            return
        remaining -= full
    calls = sum(count_tokens(c.name + c.arguments) for c in completion.tool_calls)
    if completion.tool_calls and calls > remaining:
        completion.tool_calls = []
        completion.finish_reason = "length"
    elif count_tokens(completion.content) > remaining:
        completion.content = truncate_tokens(completion.content, remaining)
        completion.finish_reason = "length"
