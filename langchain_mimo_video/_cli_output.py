"""What ``mimo-video`` prints: answers, usage lines, estimates and dry-run requests.

Private to :mod:`langchain_mimo_video.cli`; nothing here reads arguments or sends anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from langchain_core.messages import AIMessage

from langchain_mimo_video._estimate import RequestEstimate
from langchain_mimo_video.store import REFERENCE_PREFIX
from langchain_mimo_video.tokens import DEFAULT_PRICES

if TYPE_CHECKING:
    from langchain_mimo_video.store import MediaStore

__all__ = [
    "Reencoded",
    "estimate_record",
    "one_line",
    "print_estimate",
    "print_reply",
    "summarise",
    "usage_line",
]


@dataclass(frozen=True)
class Reencoded:
    """A video the CLI measured (and sends) as a re-encoded copy, and why.

    Attributes:
        source_width: width of the original file.
        source_height: height of the original file.
        reason: why it was re-encoded (``"MiMo's 50 MB base64 limit"``, ``"--start/--end"``).
    """

    source_width: int
    source_height: int
    reason: str


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return " ".join(str(text).split())


def usage_line(usage: dict[str, Any]) -> str:
    """The ``[tokens: ...]`` line printed to stderr after an answer."""
    details = usage.get("input_token_details") or {}
    output_details = usage.get("output_token_details") or {}
    return (
        f"[tokens: {usage.get('input_tokens', 0)} in (video {details.get('video', 0)}, "
        f"audio {details.get('audio', 0)}, cached {details.get('cache_read', 0)}), "
        f"{usage.get('output_tokens', 0)} out (reasoning {output_details.get('reasoning', 0)})]"
    )


def summarise(body: dict[str, Any], store: MediaStore | None = None) -> dict[str, Any]:
    """The request body with every data URL cut down to its header and size.

    Args:
        body: the request body, as ``ChatMiMo.request_body`` builds it.
        store: where its ``mimo-media:`` references are; each is shown as the data URL
            the request will carry in its place (streamed from the store when sent).
    """

    def cut(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: cut(item) for key, item in value.items()}
        if isinstance(value, list):
            return [cut(item) for item in value]
        if isinstance(value, str) and value.startswith("data:") and "," in value:
            header = value.split(",", 1)[0]
            return f"{header},<{len(value) - len(header) - 1:,} base64 characters>"
        if isinstance(value, str) and store is not None and value.startswith(REFERENCE_PREFIX):
            info = store.info(value[len(REFERENCE_PREFIX) :])
            characters = -(-info.size // 3) * 4
            return f"data:{info.mime_type};base64,<{characters:,} base64 characters>"
        return value

    return {key: cut(value) for key, value in body.items()}


def print_reply(
    reply: AIMessage,
    label: str,
    *,
    as_json: bool,
    streamed: bool,
    show_reasoning: bool,
    out: TextIO,
    err: TextIO,
) -> None:
    """Print an answer (unless it was streamed already) and its usage."""
    reasoning = reply.additional_kwargs.get("reasoning_content", "")
    usage = dict(reply.usage_metadata or {})
    if as_json:
        record = {
            "video": label,
            "answer": reply.content,
            "reasoning": reasoning or None,
            "model": reply.response_metadata.get("model_name"),
            "finish_reason": reply.response_metadata.get("finish_reason"),
            "usage": usage,
        }
        print(json.dumps(record, ensure_ascii=False), file=out)
        return
    if not streamed:
        if show_reasoning and reasoning:
            print(f"[reasoning]\n{reasoning}\n[answer]", file=out)
        print(reply.content, file=out)
    if not reply.content:
        print(
            f"(no answer: finish_reason={reply.response_metadata.get('finish_reason')}; "
            "raise --max-tokens, which caps reasoning and answer together)",
            file=err,
        )
    print(usage_line(usage), file=err)


def estimate_record(
    estimate: RequestEstimate,
    model: str,
    output_tokens: int,
    reencoded: list[Reencoded | None] | None = None,
) -> dict[str, Any]:
    """The JSON form of an estimate (``complete`` is False when something was not measured)."""
    price = DEFAULT_PRICES.get(model)
    notes = reencoded or []
    videos = []
    for index, video in enumerate(estimate.videos):
        note = notes[index] if index < len(notes) else None
        videos.append(
            {
                "duration": video.duration,
                "width": video.width,
                "height": video.height,
                "fps": video.fps,
                "media_resolution": video.media_resolution,
                "has_audio": video.has_audio,
                "frames": video.tokens.frames,
                "frame_size": [video.tokens.frame_width, video.tokens.frame_height],
                "tokens": video.tokens.total,
                "reencoded_from": (
                    None
                    if note is None
                    else {
                        "width": note.source_width,
                        "height": note.source_height,
                        "reason": note.reason,
                    }
                ),
            }
        )
    return {
        "input_tokens": estimate.input_tokens,
        "video_tokens": estimate.video_tokens,
        "audio_tokens": estimate.audio_tokens,
        "text_tokens": estimate.text_tokens,
        "videos": videos,
        "unmeasured": estimate.unmeasured,
        "complete": not estimate.unmeasured,
        "cost": estimate.cost(model, output_tokens) if price else None,
        "currency": price.currency if price else None,
    }


def print_estimate(
    estimate: RequestEstimate,
    model: str,
    output_tokens: int,
    out: TextIO,
    reencoded: list[Reencoded | None] | None = None,
) -> None:
    """Print an estimate: each video's breakdown, what was not measured, tokens and price."""
    notes = reencoded or []
    for index, video in enumerate(estimate.videos):
        tokens = video.tokens
        print(
            f"video: {video.duration:.1f} s, {video.width}x{video.height}, "
            f"{'with' if video.has_audio else 'no'} audio; fps {video.fps:g}, "
            f"{video.media_resolution}: {tokens.frames} frames at "
            f"{tokens.frame_width}x{tokens.frame_height} -> {tokens.vision} vision + "
            f"{tokens.timestamps} timestamp + {tokens.special} marker + {tokens.audio} audio "
            f"= {tokens.total} tokens",
            file=out,
        )
        note = notes[index] if index < len(notes) else None
        if note is not None:
            print(
                f"  fitted copy: {video.width}x{video.height} from "
                f"{note.source_width}x{note.source_height} (re-encoded at MiMo's frame size "
                f"because of {note.reason}; this is the copy that is sent and measured, for "
                "the same tokens)",
                file=out,
            )
    for item in estimate.unmeasured:
        print(f"not measured: {item}", file=out)
    print(
        f"input tokens: {estimate.input_tokens} (video {estimate.video_tokens}, audio "
        f"{estimate.audio_tokens}, text about {estimate.text_tokens})",
        file=out,
    )
    price = DEFAULT_PRICES.get(model)
    if price is None:
        print(f"price: unknown for {model}", file=out)
        return
    cost = estimate.cost(model, output_tokens)
    extra = f" with {output_tokens} output tokens" if output_tokens else " (input only)"
    if estimate.unmeasured:
        count = len(estimate.unmeasured)
        parts = f"{count} part{'s' if count > 1 else ''}"
        print(
            f"price: INCOMPLETE, at least {cost:.6f} {price.currency}{extra}: {parts} could "
            "not be measured and the price leaves them out",
            file=out,
        )
        return
    print(f"price: {cost:.6f} {price.currency}{extra}", file=out)
