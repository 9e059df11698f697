"""An in-process HTTP transport for ChatMiMo unit tests: no socket is ever opened.

``FakeMiMo`` answers the SDK's requests from a queue of canned responses and keeps every
request it saw, so a test can check the exact JSON body and headers, and count retries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2


@dataclass
class Seen:
    """One request as it reached the transport."""

    headers: dict[str, str]
    body: dict[str, Any]


def sse(chunks: Iterable[Mapping[str, Any]], *, done: bool = True) -> bytes:
    """Server-sent events for ``chunks``, optionally ended by ``[DONE]``."""
    text = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def error_body(status: int, message: str, param: str) -> dict[str, Any]:
    """MiMo's documented error body."""
    return {"error": {"code": str(status), "message": message, "param": param, "type": ""}}


@dataclass
class FakeMiMo:
    """Queue of responses; the last one repeats when the queue runs dry."""

    responses: list[httpx2.Response] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def reply_json(
        self,
        payload: Mapping[str, Any],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> FakeMiMo:
        self.responses.append(httpx2.Response(status, json=payload, headers=headers))
        return self

    def reply_stream(self, chunks: Iterable[Mapping[str, Any]], *, done: bool = True) -> FakeMiMo:
        self.responses.append(
            httpx2.Response(
                200,
                content=sse(chunks, done=done),
                headers={"content-type": "text/event-stream"},
            )
        )
        return self

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        self.seen.append(
            Seen(headers=dict(request.headers), body=json.loads(request.content or b"{}"))
        )
        if not self.responses:
            raise AssertionError("FakeMiMo got a request it has no answer for")
        index = min(len(self.seen) - 1, len(self.responses) - 1)
        return self.responses[index]

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        return self._answer(request)

    async def async_handler(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self._answer(request)

    def clients(self) -> dict[str, Any]:
        """``http_client`` / ``http_async_client`` arguments for ChatMiMo."""
        return {
            "http_client": httpx2.Client(transport=httpx2.MockTransport(self.handler)),
            "http_async_client": httpx2.AsyncClient(
                transport=httpx2.MockTransport(self.async_handler)
            ),
        }

    @property
    def last(self) -> Seen:
        return self.seen[-1]


def completion(
    content: str | None = "Hello.",
    *,
    reasoning: str | None = "Thinking it over.",
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    usage: Mapping[str, Any] | None = None,
    model: str = "mimo-v2.5",
    response_id: str = "0123abcd",
) -> dict[str, Any]:
    """A MiMo chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": tool_calls}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": 1776850708,
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": dict(usage)
        if usage is not None
        else {
            "prompt_tokens": 20,
            "completion_tokens": 12,
            "total_tokens": 32,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0, "video_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 5},
        },
    }


def stream_of(body: Mapping[str, Any], pieces: int = 3) -> list[dict[str, Any]]:
    """Split a chat.completion into the chunks MiMo would stream for it."""
    message = body["choices"][0]["message"]
    base = {
        "id": body["id"],
        "object": "chat.completion.chunk",
        "created": body["created"],
        "model": body["model"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    def split(text: str) -> list[str]:
        size = max(1, -(-len(text) // pieces))
        return [text[i : i + size] for i in range(0, len(text), size)]

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [
        chunk({"reasoning_content": p}) for p in split(message.get("reasoning_content") or "")
    ]
    chunks += [chunk({"content": p}) for p in split(message.get("content") or "")]
    for index, call in enumerate(message.get("tool_calls") or []):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {
                                "name": call["function"]["name"],
                                "arguments": arguments[:half],
                            },
                        }
                    ]
                }
            )
        )
        chunks.append(
            chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]})
        )
    chunks.append(chunk({}, body["choices"][0]["finish_reason"]))
    chunks.append({**base, "choices": [], "usage": body["usage"]})
    return chunks
