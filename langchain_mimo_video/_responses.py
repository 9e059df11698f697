"""Reading MiMo's answers: bodies and stream events checked, then turned into results.

An answer that breaks the contract (an HTML page, invalid JSON, a body without
``choices``, a stream event that is not a JSON object) raises ``MiMoResponseError``
instead of whatever Python error the parsing would hit; an error event inside a stream
raises the class of its status. Everything read is scrubbed of the API key before it
reaches a message, metadata or a callback; in a stream, also a key cut across chunks
(``_stream_secrets``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx2
import openai
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import BaseModel

from langchain_mimo_video._api_errors import broken_answer, envelope_error, scrub
from langchain_mimo_video._messages import (
    PROVIDER,
    ai_chunk_from_mimo,
    ai_message_from_mimo,
    usage_from_mimo,
)
from langchain_mimo_video._stream_secrets import KeyHoldback
from langchain_mimo_video.errors import StreamInterruptedError

__all__ = [
    "StreamAssembler",
    "add_counts",
    "aiter_chunks",
    "chat_result",
    "iter_chunks",
    "parse_completion",
]


# -- one answer ------------------------------------------------------------------------------


def _problem_with_completion(payload: Any) -> str | None:
    """What is wrong with a chat.completion body, or ``None`` when it is usable."""
    if not isinstance(payload, dict):
        return f"JSON {type(payload).__name__ if payload is not None else 'null'}, not an object"
    if payload.get("error") is not None:
        error = payload["error"]
        detail = (
            " - ".join(str(error[key]) for key in ("message", "param") if error.get(key))
            if isinstance(error, Mapping)
            else str(error)
        )
        return f"an error object in a successful answer: {detail or 'no detail'}"
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        return "no choices"
    for choice in choices:
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            return "a choice without a message"
    return None


def parse_completion(response: httpx2.Response, secret: str | None) -> dict[str, Any]:
    """The checked, key-free body of a non-streamed answer.

    Raises:
        MiMoResponseError: if the body is not a usable chat completion.

    """
    try:
        payload = json.loads(response.content)
    except ValueError:
        content_type = response.headers.get("content-type", "")
        kind = "invalid JSON" if "json" in content_type else "not JSON"
        raise broken_answer(response, kind, secret) from None
    problem = _problem_with_completion(payload)
    if problem is not None:
        raise broken_answer(response, problem, secret)
    clean: dict[str, Any] = scrub(payload, secret)
    return clean


def _response_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"model_provider": PROVIDER}
    if response.get("model"):
        metadata["model_name"] = response["model"]
    if response.get("id"):
        metadata["id"] = response["id"]
    return metadata


def chat_result(response: Mapping[str, Any]) -> ChatResult:
    """A ``ChatResult`` from a checked chat.completion body."""
    usage = response.get("usage")
    usage_metadata = usage_from_mimo(usage) if usage else None
    generations = []
    for choice in response.get("choices") or []:
        message = ai_message_from_mimo(choice.get("message") or {})
        message.id = response.get("id")
        message.usage_metadata = usage_metadata
        message.response_metadata = {
            **_response_metadata(response),
            "finish_reason": choice.get("finish_reason"),
        }
        info = {"finish_reason": choice.get("finish_reason")}
        generations.append(ChatGeneration(message=message, generation_info=info))
    # LangChain copies llm_output into response_metadata for a single generation.
    llm_output = {"model_name": response.get("model"), "token_usage": dict(usage or {})}
    return ChatResult(generations=generations, llm_output=llm_output)


def add_counts(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Add two raw usage dicts key by key (nested detail dicts included)."""
    total = dict(left)
    for key, value in right.items():
        if isinstance(value, Mapping):
            total[key] = add_counts(total.get(key) or {}, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            total[key] = (total.get(key) or 0) + value
        elif key not in total:
            total[key] = value
    return total


# -- streams -----------------------------------------------------------------------------------


def _check_stream_start(response: httpx2.Response, secret: str | None) -> None:
    """Refuse a streamed answer that is not an event stream (an HTML page, a JSON body)."""
    content_type = response.headers.get("content-type", "")
    if "event-stream" in content_type:
        return
    content = response.read()
    try:
        payload = json.loads(content)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), Mapping):
        raise envelope_error(payload["error"], response, secret)
    raise broken_answer(response, "not an event stream", secret, content)


def _chunk(raw: Any, response: httpx2.Response, secret: str | None) -> dict[str, Any]:
    """One checked, key-free stream chunk."""
    payload = (
        raw.model_dump(exclude_unset=True, warnings=False) if isinstance(raw, BaseModel) else raw
    )
    if not isinstance(payload, dict):
        raise broken_answer(
            response, "a stream event that is not a JSON object", secret, json.dumps(payload)
        )
    choices = payload.get("choices")
    if choices is not None and not (
        isinstance(choices, list)
        and all(isinstance(c, dict) and isinstance(c.get("delta") or {}, dict) for c in choices)
    ):
        raise broken_answer(
            response, "a stream event with malformed choices", secret, json.dumps(payload)
        )
    clean: dict[str, Any] = scrub(payload, secret)
    return clean


def _stream_failure(
    error: Exception, response: httpx2.Response, secret: str | None
) -> Exception | None:
    """The package's error for a failure raised while reading events, if it is one of ours."""
    if isinstance(error, json.JSONDecodeError):
        return broken_answer(response, "a stream event that is not JSON", secret, error.doc)
    # The SDK raises a bare APIError for an event carrying an error object.
    bare = isinstance(error, openai.APIError) and not isinstance(
        error, (openai.APIStatusError, openai.APIConnectionError)
    )
    if bare and isinstance(getattr(error, "body", None), Mapping):
        return envelope_error(error.body, response, secret)  # type: ignore[attr-defined]
    return None


def iter_chunks(stream: openai.Stream[Any], secret: str | None) -> Iterator[dict[str, Any]]:
    """The checked chunks of an SDK stream (closed at the end); see the module docstring."""
    holdback = KeyHoldback(secret)
    with stream:
        _check_stream_start(stream.response, secret)
        try:
            for raw in stream:
                yield holdback.feed(_chunk(raw, stream.response, secret))
        except (json.JSONDecodeError, openai.APIError) as error:
            ours = _stream_failure(error, stream.response, secret)
            if ours is None:
                raise
            raise ours from None
        last = holdback.flush()
        if last is not None:
            yield last


async def aiter_chunks(
    stream: openai.AsyncStream[Any], secret: str | None
) -> AsyncIterator[dict[str, Any]]:
    """The async twin of :func:`iter_chunks`."""
    holdback = KeyHoldback(secret)
    async with stream:
        if "event-stream" not in stream.response.headers.get("content-type", ""):
            await stream.response.aread()
            _check_stream_start(stream.response, secret)
        try:
            async for raw in stream:
                yield holdback.feed(_chunk(raw, stream.response, secret))
        except (json.JSONDecodeError, openai.APIError) as error:
            ours = _stream_failure(error, stream.response, secret)
            if ours is None:
                raise
            raise ours from None
        last = holdback.flush()
        if last is not None:
            yield last


class StreamAssembler:
    """Turns checked stream chunks into generation chunks and notices a cut stream."""

    def __init__(self) -> None:
        self.started = False
        self.finished = False
        self.text: list[str] = []

    def feed(self, raw: Mapping[str, Any]) -> ChatGenerationChunk | None:
        """The generation chunk of one raw chunk, or ``None`` if it carries nothing."""
        chunk = ai_chunk_from_mimo(raw)
        if chunk is None:
            return None
        chunk.id = raw.get("id")
        if not self.started:
            # Metadata that must not repeat (strings concatenate when chunks are added).
            chunk.response_metadata = {**_response_metadata(raw), **chunk.response_metadata}
            self.started = True
        else:
            # Every chunk names its provider, so content_blocks uses our translator.
            chunk.response_metadata["model_provider"] = PROVIDER
        if raw.get("usage"):
            chunk.response_metadata["token_usage"] = dict(raw["usage"])
        finish_reason = chunk.response_metadata.get("finish_reason")
        if finish_reason:
            self.finished = True
        if isinstance(chunk.content, str):
            self.text.append(chunk.content)
        info = {"finish_reason": finish_reason} if finish_reason else None
        return ChatGenerationChunk(message=chunk, generation_info=info)

    def check_complete(self) -> None:
        """Raise :class:`StreamInterruptedError` if no chunk carried a finish reason."""
        if not self.finished:
            partial = "".join(self.text)
            raise StreamInterruptedError(
                "MiMo's streamed answer ended before it was finished (no finish_reason was "
                f"received, {len(partial)} characters arrived). The connection was probably "
                "cut; retry the request.",
                partial_content=partial,
            )
