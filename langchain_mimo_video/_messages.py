"""Pure conversions between LangChain messages and MiMo's chat-completions dicts.

No I/O happens here, so every function can be unit- and property-tested on its own.
Outgoing: LangChain messages (v0 or v1 content, standard or provider-native blocks) become
MiMo wire dicts, with video blocks turned into MiMo's exact ``video_url`` parts and the
MiMo quirks handled (tool-call messages carry ``content: ""`` and their reasoning, tool
results are text). Incoming: response and stream-chunk dicts become ``AIMessage`` /
``AIMessageChunk`` with reasoning, tool calls, usage and metadata.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages import content as types
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.block_translators import register_translator
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.output_parsers.openai_tools import parse_tool_call

from langchain_mimo_video._audio import audio_mime_for, check_audio_data_url, format_for_mime
from langchain_mimo_video.errors import UnsupportedContentError
from langchain_mimo_video.store import is_reference, no_store_error, reference_id
from langchain_mimo_video.video import VideoDefaults, video_part_from_block

__all__ = [
    "PROVIDER",
    "ReferenceResolver",
    "ai_chunk_from_mimo",
    "ai_message_from_mimo",
    "came_from_mimo",
    "content_blocks",
    "message_to_mimo",
    "messages_to_mimo",
    "usage_from_mimo",
]


#: The value of ``response_metadata["model_provider"]`` on messages this package makes.
#: Reasoning is passed back to the API only for messages that carry it.
PROVIDER = "mimo"

#: Turns a ``mimo-media:`` reference block into MiMo's video part (ChatMiMo passes
#: ``store.resolve_reference`` bound to its ``media_store``); None: no store.
ReferenceResolver = Callable[[Mapping[str, Any], VideoDefaults], dict[str, Any]]

_IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


# ---------------------------------------------------------------------------
# LangChain -> MiMo
# ---------------------------------------------------------------------------


def messages_to_mimo(
    messages: Sequence[BaseMessage],
    video_defaults: VideoDefaults,
    resolve_reference: ReferenceResolver | None = None,
) -> list[dict[str, Any]]:
    """Convert a conversation to MiMo's ``messages`` list.

    Args:
        messages: the LangChain messages, in order.
        video_defaults: fps / media_resolution applied to video parts that set neither.
        resolve_reference: turns ``mimo-media:`` reference blocks into video parts; without
            it they are refused.

    Raises:
        UnsupportedContentError: for content MiMo cannot take (``file_id`` blocks, PDFs,
            non-text tool results, unknown message types).
        VideoValidationError: for a video part that breaks a documented limit.

    """
    return [message_to_mimo(message, video_defaults, resolve_reference) for message in messages]


def message_to_mimo(
    message: BaseMessage,
    video_defaults: VideoDefaults,
    resolve_reference: ReferenceResolver | None = None,
) -> dict[str, Any]:
    """Convert one LangChain message to a MiMo wire dict; see :func:`messages_to_mimo`."""
    if isinstance(message, HumanMessage):
        wire: dict[str, Any] = {
            "role": "user",
            "content": _user_content(message.content, video_defaults, resolve_reference),
        }
    elif isinstance(message, AIMessage):
        wire = _assistant_message(message)
    elif isinstance(message, SystemMessage):
        wire = {"role": "system", "content": _text_only(message.content, "system message")}
    elif isinstance(message, ToolMessage):
        wire = {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _text_only(message.content, "tool message"),
        }
    elif isinstance(message, FunctionMessage):
        wire = {
            "role": "function",
            "name": message.name,
            "content": _text_only(message.content, "function message"),
        }
    elif isinstance(message, ChatMessage):
        content: Any = (
            _user_content(message.content, video_defaults, resolve_reference)
            if message.role == "user"
            else _text_only(message.content, f"{message.role} message")
        )
        wire = {"role": message.role, "content": content}
    else:
        raise UnsupportedContentError(
            f"Messages of type {type(message).__name__} cannot be sent to MiMo; use "
            "HumanMessage, AIMessage, SystemMessage or ToolMessage."
        )
    if message.name and isinstance(message, (HumanMessage, AIMessage, SystemMessage)):
        wire["name"] = message.name
    return wire


def _user_content(
    content: str | list[str | dict[str, Any]],
    video_defaults: VideoDefaults,
    resolve_reference: ReferenceResolver | None = None,
) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    return [_user_part(part, video_defaults, resolve_reference) for part in content]


def _user_part(
    part: str | dict[str, Any],
    video_defaults: VideoDefaults,
    resolve_reference: ReferenceResolver | None = None,
) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    kind = part.get("type")
    if not isinstance(kind, str) or not kind:
        raise UnsupportedContentError(
            "Every content part needs a 'type' (e.g. 'text', 'video_url', 'image_url'); got a "
            f"part with keys {sorted(map(str, part))[:6]}."
        )
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    if is_reference(part):  # a MediaStore reference (VideoLoader(store=...))
        if resolve_reference is None:
            raise no_store_error(reference_id(part))
        return resolve_reference(part, video_defaults)
    if kind in ("video_url", "video"):
        return video_part_from_block(part, video_defaults)
    if kind == "file" or (kind in ("image", "audio") and "source_type" in part):
        mime_type = str(part.get("mime_type") or "")
        if mime_type.startswith("video/"):
            return video_part_from_block(part, video_defaults)
        if mime_type.startswith("image/") or kind == "image":
            return _image_part(part)
        if mime_type.startswith("audio/") or kind == "audio":
            return _audio_part(part)
        raise UnsupportedContentError(
            f"MiMo does not accept file blocks of type {mime_type or 'unknown'!r}; it takes "
            "text, images, audio and video. Extract the text yourself and send it as text."
        )
    if kind == "image":
        return _image_part(part)
    if kind == "audio":
        return _audio_part(part)
    if kind == "image_url":
        image = _url_object(part.get("image_url"))
        if not image.get("url"):
            raise UnsupportedContentError(
                "An 'image_url' part needs an 'image_url' object with a 'url' (an http(s) or "
                "data: URL)."
            )
        return {"type": "image_url", "image_url": image}
    if kind == "input_audio":
        return _audio_part(part)
    if kind == "text-plain":
        return {"type": "text", "text": part.get("text", "")}
    if kind == "non_standard":
        value = part.get("value")
        if isinstance(value, dict):
            return _user_part(value, video_defaults, resolve_reference)
    # An unknown but well-formed part: MiMo is OpenAI-compatible and may know it.
    return dict(part)


def _url_object(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {"url": value} if isinstance(value, str) else {}


def _data_url_or_url(part: Mapping[str, Any], default_mime: str) -> str:
    """Read a standard (v1) or v0 data block's payload as a URL or ``data:`` URL."""
    if part.get("file_id") or part.get("source_type") == "id" or part.get("id_source"):
        raise UnsupportedContentError(
            "MiMo cannot read files by id (file_id blocks): it has no file store. Pass the "
            "content as a URL or base64 (VideoLoader does this for local videos)."
        )
    mime_type = part.get("mime_type") or default_mime
    if part.get("url"):
        return str(part["url"])
    if part.get("base64"):
        return f"data:{mime_type};base64,{part['base64']}"
    if part.get("source_type") == "url" and part.get("data"):
        return str(part["data"])
    if part.get("source_type") == "base64" and part.get("data"):
        return f"data:{mime_type};base64,{part['data']}"
    raise UnsupportedContentError(
        f"A {part.get('type')!r} block needs a 'url' or 'base64' (with 'mime_type') field."
    )


def _image_part(part: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": _data_url_or_url(part, "image/png")}}


def _audio_part(part: Mapping[str, Any]) -> dict[str, Any]:
    """MiMo's ``input_audio`` part; a data URL's MIME type is checked against its bytes."""
    if part.get("type") == "input_audio":
        if not isinstance(part.get("input_audio"), Mapping):
            raise UnsupportedContentError(
                "An 'input_audio' part needs an 'input_audio' object with 'data' (a URL or a "
                "'data:audio/...;base64,...' URL)."
            )
        audio = dict(part["input_audio"])
        data = str(audio.get("data", ""))
        audio_format = audio.get("format")
        if audio_format and not data.startswith(("data:", "http://", "https://")):
            # OpenAI's form (bare base64 + "format"); MiMo wants a data URL.
            data = f"data:{audio_mime_for(str(audio_format))};base64,{data}"
        if data.startswith("data:"):
            data = check_audio_data_url(data)
            if audio_format:  # kept, and made to agree with the bytes
                audio["format"] = format_for_mime(data[5:].split(";", 1)[0]) or audio_format
        audio["data"] = data
        return {"type": "input_audio", "input_audio": audio}
    data = _data_url_or_url(part, "audio/wav")
    if data.startswith("data:"):
        data = check_audio_data_url(data)
    return {"type": "input_audio", "input_audio": {"data": data}}


def _text_only(content: str | list[str | dict[str, Any]], where: str) -> str:
    """Flatten content to text for roles where MiMo takes only text (tool results, system)."""
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for part in content:
        if isinstance(part, str):
            pieces.append(part)
        elif part.get("type") in ("text", "text-plain"):
            pieces.append(str(part.get("text", "")))
        elif part.get("type") in (
            "image",
            "image_url",
            "audio",
            "input_audio",
            "video",
            "video_url",
            "file",
        ):
            raise UnsupportedContentError(
                f"MiMo accepts only text in a {where}, but it holds a {part.get('type')!r} "
                "block. Describe the media in text, or put it in a user message instead."
            )
        else:
            # Structured results (JSON-like blocks) are kept, as JSON text.
            pieces.append(json.dumps(part, ensure_ascii=False, default=str))
    return "".join(pieces)


def _assistant_message(message: AIMessage) -> dict[str, Any]:
    text_parts: list[str] = []
    reasoning_parts: list[str] = []
    if isinstance(message.content, str):
        text_parts.append(message.content)
    else:
        for part in message.content:
            if isinstance(part, str):
                text_parts.append(part)
            elif part.get("type") == "text":
                text_parts.append(str(part.get("text", "")))
            elif part.get("type") == "reasoning":
                reasoning_parts.append(str(part.get("reasoning", "")))
            # tool_call / tool_use / server blocks travel in ``tool_calls`` below.
    wire: dict[str, Any] = {"role": "assistant", "content": "".join(text_parts)}

    tool_calls = [_tool_call_to_mimo(call) for call in message.tool_calls]
    tool_calls += [_invalid_tool_call_to_mimo(call) for call in message.invalid_tool_calls]
    if tool_calls:
        wire["tool_calls"] = tool_calls

    if came_from_mimo(message):
        reasoning = message.additional_kwargs.get("reasoning_content")
        if not reasoning and reasoning_parts:
            reasoning = "".join(reasoning_parts)
        if reasoning:
            wire["reasoning_content"] = reasoning
    return wire


def came_from_mimo(message: BaseMessage) -> bool:
    """Whether ``message`` was produced by this package (so its reasoning may go back)."""
    return message.response_metadata.get("model_provider") == PROVIDER


def _tool_call_to_mimo(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call["id"],
        "type": "function",
        "function": {
            "name": call["name"],
            "arguments": json.dumps(call["args"], ensure_ascii=False),
        },
    }


def _invalid_tool_call_to_mimo(call: InvalidToolCall) -> dict[str, Any]:
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call.get("name") or "", "arguments": call.get("args") or ""},
    }


# ---------------------------------------------------------------------------
# MiMo -> LangChain
# ---------------------------------------------------------------------------


def ai_message_from_mimo(message: Mapping[str, Any]) -> AIMessage:
    """Build an ``AIMessage`` from a response's ``choices[i].message`` dict."""
    additional_kwargs: dict[str, Any] = {}
    if message.get("reasoning_content"):
        additional_kwargs["reasoning_content"] = message["reasoning_content"]
    tool_calls: list[ToolCall] = []
    invalid_tool_calls: list[InvalidToolCall] = []
    for raw in message.get("tool_calls") or []:
        try:
            parsed = parse_tool_call(dict(raw), return_id=True)
        except Exception as error:  # the parser raises OutputParserException subclasses
            function = raw.get("function") or {}
            invalid_tool_calls.append(
                invalid_tool_call(
                    name=function.get("name"),
                    args=function.get("arguments"),
                    id=raw.get("id"),
                    error=str(error),
                )
            )
            continue
        if parsed:
            tool_calls.append(
                tool_call(name=parsed["name"], args=parsed["args"], id=parsed.get("id"))
            )
    return AIMessage(
        content=message.get("content") or "",
        additional_kwargs=additional_kwargs,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid_tool_calls,
    )


def ai_chunk_from_mimo(chunk: Mapping[str, Any]) -> AIMessageChunk | None:
    """Build an ``AIMessageChunk`` from one ``chat.completion.chunk`` dict.

    Returns ``None`` for a chunk that carries nothing (no delta, usage or finish reason).
    """
    choices = chunk.get("choices") or []
    usage = chunk.get("usage")
    if not choices and not usage:
        return None
    choice = choices[0] if choices else {}
    delta = choice.get("delta") or {}

    additional_kwargs: dict[str, Any] = {}
    if delta.get("reasoning_content"):
        additional_kwargs["reasoning_content"] = delta["reasoning_content"]
    tool_call_chunks = [
        tool_call_chunk(
            name=(raw.get("function") or {}).get("name"),
            args=(raw.get("function") or {}).get("arguments"),
            id=raw.get("id"),
            index=raw.get("index"),
        )
        for raw in delta.get("tool_calls") or []
    ]
    response_metadata: dict[str, Any] = {}
    if choice.get("finish_reason"):
        response_metadata["finish_reason"] = choice["finish_reason"]
    return AIMessageChunk(
        content=delta.get("content") or "",
        additional_kwargs=additional_kwargs,
        tool_call_chunks=tool_call_chunks,
        usage_metadata=usage_from_mimo(usage) if usage else None,
        response_metadata=response_metadata,
    )


def usage_from_mimo(usage: Mapping[str, Any]) -> UsageMetadata:
    """Map MiMo's ``usage`` to LangChain's ``UsageMetadata``.

    MiMo reports token details along two axes that overlap: ``cached_tokens`` (billing)
    and ``video_tokens`` / ``audio_tokens`` (modality). In its documented example
    1256 cached + 1144 video > 1260 prompt tokens. They are kept as MiMo gives them
    (``cache_read``, ``video``, ``audio``), so unlike most providers the details do not
    add up to ``input_tokens``; the raw dict is also kept in ``response_metadata``.
    """
    input_tokens = int(usage.get("prompt_tokens") or 0)
    output_tokens = int(usage.get("completion_tokens") or 0)
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}

    input_details: dict[str, int] = {}
    for ours, theirs in (
        ("cache_read", "cached_tokens"),
        ("audio", "audio_tokens"),
        ("video", "video_tokens"),
    ):
        if prompt_details.get(theirs) is not None:
            input_details[ours] = int(prompt_details[theirs])
    output_details: dict[str, int] = {}
    if completion_details.get("reasoning_tokens") is not None:
        output_details["reasoning"] = int(completion_details["reasoning_tokens"])

    result = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=int(usage.get("total_tokens") or input_tokens + output_tokens),
    )
    if input_details:
        result["input_token_details"] = cast(InputTokenDetails, input_details)
    if output_details:
        result["output_token_details"] = cast(OutputTokenDetails, output_details)
    return result


# ---------------------------------------------------------------------------
# Standard content blocks (``content_blocks`` and ``output_version="v1"``)
# ---------------------------------------------------------------------------


def content_blocks(message: AIMessage) -> list[types.ContentBlock]:
    """Standard blocks of a MiMo message: reasoning, text, then tool calls.

    Registered as the ``"mimo"`` block translator. Stream chunks get string indices of
    their own (reasoning, text and each tool call apart), so aggregating a v1 stream never
    merges a tool call into the reasoning block, which LangChain's generic translator
    does when both start at index 0.
    """
    is_chunk = isinstance(message, AIMessageChunk)

    def indexed(block: dict[str, Any], index: str) -> Any:
        return {**block, "index": index} if is_chunk else block

    blocks: list[Any] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if reasoning:
        blocks.append(indexed({"type": "reasoning", "reasoning": reasoning}, "lc_reasoning"))
    if isinstance(message.content, str):
        if message.content:
            blocks.append(indexed({"type": "text", "text": message.content}, "lc_text"))
    else:
        blocks.extend(
            {"type": "text", "text": part} if isinstance(part, str) else part
            for part in message.content
        )
    if (
        isinstance(message, AIMessageChunk)
        and message.chunk_position != "last"
        and (message.tool_call_chunks)
    ):
        for position, call in enumerate(message.tool_call_chunks):
            index = call.get("index")
            block = {
                "type": "tool_call_chunk",
                "id": call.get("id"),
                "name": call.get("name"),
                "args": call.get("args"),
            }
            blocks.append(indexed(block, f"lc_tool_{position if index is None else index}"))
        return blocks
    blocks.extend({"type": "tool_call", **call} for call in message.tool_calls)
    blocks.extend(dict(call) for call in message.invalid_tool_calls)
    return blocks


register_translator(PROVIDER, content_blocks, content_blocks)
