"""The JSON shapes the server sends: completion bodies, usage, stream chunks, model lists."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Final

from .answers import Completion, split_pieces
from .behaviour import Behaviour
from .contract import MODELS, ChatRequest

#: 2026-01-01T00:00:00Z; ``created`` is this plus a per-request offset from the body hash.
CREATED_BASE: Final = 1_767_225_600


def response_id(raw_body: bytes) -> str:
    """A bare hex id, derived from the request body (so a repeated request gets the same)."""
    return hashlib.sha256(raw_body).hexdigest()[:32]


def created_at(rid: str) -> int:
    """A fixed timestamp derived from the response id."""
    return CREATED_BASE + int(rid[:8], 16) % 86_400


def usage(request: ChatRequest, completion: Completion, cached_tokens: int) -> dict[str, Any]:
    """MiMo's usage object. The prompt details overlap, as in MiMo's documented example."""
    prompt = request.prompt_tokens
    return {
        "completion_tokens": completion.completion_tokens,
        "prompt_tokens": prompt,
        "total_tokens": prompt + completion.completion_tokens,
        "completion_tokens_details": {"reasoning_tokens": completion.reasoning_tokens},
        "prompt_tokens_details": {
            "audio_tokens": request.audio_tokens,
            "cached_tokens": cached_tokens,
            "video_tokens": request.video_tokens,
        },
    }


def completion_body(
    request: ChatRequest,
    completion: Completion,
    rid: str,
    usage_: dict[str, Any],
    behaviour: Behaviour | None = None,
) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` body."""
    behaviour = behaviour or Behaviour()
    message: dict[str, Any] = {
        "content": completion.content,
        "role": "assistant",
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in completion.tool_calls
        ]
        or None,
    }
    if completion.reasoning is not None or behaviour.reasoning_when_off == "null":
        message["reasoning_content"] = completion.reasoning
    return {
        "id": rid,
        "choices": [{"finish_reason": completion.finish_reason, "index": 0, "message": message}],
        "created": created_at(rid),
        "model": request.model,
        "object": "chat.completion",
        "usage": usage_,
    }


def stream_chunks(
    request: ChatRequest,
    completion: Completion,
    rid: str,
    usage_: dict[str, Any],
    behaviour: Behaviour | None = None,
) -> Iterator[dict[str, Any]]:
    """The ``chat.completion.chunk`` events of a streamed answer, in order ([DONE] excluded).

    Role chunk, reasoning deltas, content deltas, tool-call deltas (id and name first, then
    the arguments in pieces), the finish chunk, and with ``include_usage`` a usage chunk
    with empty ``choices`` (or, with ``usage_chunk="finish"``, ``usage`` on the finish chunk).
    """
    behaviour = behaviour or Behaviour()

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": rid,
            "choices": [{"delta": delta, "finish_reason": finish_reason, "index": 0}],
            "created": created_at(rid),
            "model": request.model,
            "object": "chat.completion.chunk",
        }

    yield chunk({"role": "assistant", "content": ""})
    for piece in split_pieces(completion.reasoning or ""):
        yield chunk({"reasoning_content": piece})
    for piece in split_pieces(completion.content):
        yield chunk({"content": piece})
    for index, call in enumerate(completion.tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
        for piece in split_pieces(call.arguments, tokens_per_piece=4):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    finish = chunk({}, completion.finish_reason)
    if request.include_usage and behaviour.usage_chunk == "finish":
        finish["usage"] = usage_
    yield finish
    if request.include_usage and behaviour.usage_chunk == "separate":
        last = chunk({})
        last["choices"] = []
        last["usage"] = usage_
        yield last


def models_body(hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The ``GET /v1/models`` list, leaving out the ``hidden`` names."""
    names = [name for name in MODELS if name not in hidden]
    return {"object": "list", "data": [model_entry(name) for name in names]}


def model_entry(name: str) -> dict[str, Any]:
    """One model of the list."""
    return {"id": name, "object": "model", "created": CREATED_BASE, "owned_by": "xiaomi"}
