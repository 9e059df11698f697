"""The streamed request body: JSON text, with large videos' base64 produced piece by piece.

A chat request that holds a stored video (a ``video_url`` part whose URL is a
``mimo-media:<sha256>`` reference) is not turned into one big JSON string. The JSON of the
rest of the request is made as usual; each stored video's base64 is encoded from the store
a piece at a time while the body is sent, so sending a 37 MB video holds only a small
buffer, not a 50 MB data URL and the SDK's two further copies of it (``json.dumps`` and
``.encode()``). The bytes on the wire are exactly ``json.dumps`` of the resolved request
(the references replaced by their ``data:`` URLs), with an exact ``Content-Length``.

The body goes through the openai SDK's own support for raw request content
(``client.post(..., content=body)``): the SDK's headers, auth, timeouts, retry policy,
errors and streaming responses are all unchanged. The body is a seekable file-like
object, which the SDK rewinds to re-send the whole body from the start on a retry. The
pieces it is made of (JSON text, inline data URLs, stored videos' base64) live in
``_body_segments``.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_mimo_video._body_segments import InlineText, LiteralBytes, Segment, StoredBase64
from langchain_mimo_video.store import REFERENCE_PREFIX, no_store_error, reference_id

if TYPE_CHECKING:
    import openai

    from langchain_mimo_video.store import MediaStore

__all__ = [
    "AsyncStreamedBody",
    "StreamedBody",
    "abuild_body",
    "apost_chat",
    "asend_chat_completion",
    "build_body",
    "dumps",
    "has_references",
    "post_chat",
    "send_chat_completion",
    "wire_order",
    "worth_streaming",
]

#: The httpx2 transport reads a sync body this many bytes at a time; async bodies are
#: read in larger pieces, each in a worker thread.
_ASYNC_CHUNK: Final = 1024 * 1024
#: Inline data URLs longer than this are streamed from the string (no JSON copies).
INLINE_STREAM_MIN: Final = 1024 * 1024
_SDK_FIRST: Final = ("model", "stream", "messages")


def _default(value: Any) -> Any:
    """What the openai SDK's encoder does with the non-JSON types it knows."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(exclude_unset=True, mode="json", by_alias=True)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(body: Any) -> bytes:
    """JSON bytes exactly as the openai SDK encodes a request body."""
    return json.dumps(
        body, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default
    ).encode()


def wire_order(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with its keys in the order ``chat.completions.create`` sends them.

    The SDK puts its typed fields first (``model``, ``stream``, ``messages``) and merges
    ``extra_body`` after them; a streamed body keeps that order, so its bytes are the same
    as the SDK call with the same fields would send.
    """
    ordered = {key: body[key] for key in _SDK_FIRST if key in body}
    ordered.update((key, value) for key, value in body.items() if key not in ordered)
    return ordered


# ---------------------------------------------------------------------------
# The body
# ---------------------------------------------------------------------------


class StreamedBody:
    """A request body read piece by piece: a seekable, re-readable binary file object.

    ``len(body)`` is the exact length (sent as ``Content-Length``). Reading from the start
    gives the whole body; :meth:`seek` back to 0 (as the SDK does before a retry) and it
    is produced again. Use it as a context manager, or :meth:`close` it, to close the
    stored files it opened.
    """

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._segments = [segment for segment in segments if segment.length]
        self._starts: list[int] = []
        total = 0
        for segment in self._segments:
            self._starts.append(total)
            total += segment.length
        self._length = total
        self._position = 0
        self._index = 0  # the segment holding the position

    def __len__(self) -> int:
        return self._length

    @property
    def headers(self) -> dict[str, str]:
        """The headers this body needs: its JSON type and exact length."""
        return {"Content-Type": "application/json", "Content-Length": str(self._length)}

    @property
    def streamed_bytes(self) -> int:
        """How many of the body's bytes are produced while sending, not held in memory."""
        return sum(s.length for s in self._segments if not isinstance(s, LiteralBytes))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` (from the start, the current position or the end)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}
        if whence not in base:
            raise ValueError(f"invalid whence {whence!r}")
        position = base[whence] + offset
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        self._index = 0
        while self._index + 1 < len(self._segments) and self._starts[self._index + 1] <= position:
            self._index += 1
        return position

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current position (all the rest when negative)."""
        if size is None or size < 0:
            size = self._length - self._position
        pieces: list[bytes] = []
        while size > 0 and self._position < self._length:
            segment = self._segments[self._index]
            offset = self._position - self._starts[self._index]
            piece = segment.read(offset, min(size, segment.length - offset))
            pieces.append(piece)
            self._position += len(piece)
            size -= len(piece)
            if offset + len(piece) >= segment.length:
                if isinstance(segment, StoredBase64):
                    segment.close()
                self._index = min(self._index + 1, len(self._segments) - 1)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def __iter__(self) -> Iterator[bytes]:
        while piece := self.read(64 * 1024):
            yield piece

    def getvalue(self) -> bytes:
        """The whole body at once (small bodies and tests; defeats the streaming)."""
        position = self.tell()
        try:
            self.seek(0)
            return self.read()
        finally:
            self.seek(position)

    def close(self) -> None:
        """Close the stored files the body has open."""
        for segment in self._segments:
            segment.close()

    def __enter__(self) -> StreamedBody:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def for_async(self) -> AsyncStreamedBody:
        """This body for the async SDK client (see :class:`AsyncStreamedBody`)."""
        return AsyncStreamedBody(self)


class AsyncStreamedBody:
    """A :class:`StreamedBody` for ``openai.AsyncOpenAI``: an async iterable of bytes.

    Each piece is read in a worker thread, so reading the store never blocks the event
    loop. It keeps ``read`` / ``seek`` / ``tell`` for the SDK's rewind before a retry;
    the transport learns the length from the ``Content-Length`` header in
    :attr:`headers`.
    """

    def __init__(self, body: StreamedBody) -> None:
        self.body = body

    def __len__(self) -> int:
        return len(self.body)

    @property
    def headers(self) -> dict[str, str]:
        """See :attr:`StreamedBody.headers`."""
        return self.body.headers

    def read(self, size: int = -1) -> bytes:
        return self.body.read(size)

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.body.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.body.seek(offset, whence)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while piece := await asyncio.to_thread(self.body.read, _ASYNC_CHUNK):
            yield piece

    def close(self) -> None:
        self.body.close()


# ---------------------------------------------------------------------------
# Building a body from a request
# ---------------------------------------------------------------------------


def _video_parts(body: Mapping[str, Any]) -> Iterator[tuple[int, int, str]]:
    """(message index, part index, url) of every ``video_url`` part with a string URL."""
    for m, message in enumerate(body.get("messages") or []):
        content = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(content, list):
            continue
        for p, part in enumerate(content):
            if not isinstance(part, Mapping) or part.get("type") != "video_url":
                continue
            video_url = part.get("video_url")
            url = video_url.get("url") if isinstance(video_url, Mapping) else None
            if isinstance(url, str):
                yield m, p, url


def has_references(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` holds a ``video_url`` part whose URL is a ``mimo-media:`` reference."""
    return any(url.startswith(REFERENCE_PREFIX) for _, _, url in _video_parts(body))


def worth_streaming(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` should go out as a :class:`StreamedBody` rather than through ``create``.

    True when it holds a ``mimo-media:`` reference (it must), or a long data URL that
    VideoLoader encoded (it then skips the SDK's two JSON copies of it).
    """
    return any(
        url.startswith(REFERENCE_PREFIX) or _streams_inline(url) for _, _, url in _video_parts(body)
    )


def _streams_inline(url: str) -> bool:
    """Whether a data URL can go out straight from its string: long, and plain base64.

    Only data URLs this package encoded itself are known to be plain base64 without
    checking every character; others go through ``json.dumps`` as usual.
    """
    if len(url) < INLINE_STREAM_MIN or not url.isascii() or not url.startswith("data:"):
        return False
    from langchain_mimo_video._data_urls import encoded_here  # VideoLoader's own data URLs

    return url in encoded_here


def build_body(body: Mapping[str, Any], store: MediaStore | None = None) -> StreamedBody:
    """Turn a chat request into a streamed body.

    ``video_url`` parts whose URL is ``mimo-media:<sha256>`` become that stored video's
    ``data:`` URL, produced from the store while sending; long data URLs VideoLoader
    encoded are sent from their string without JSON copies; everything else is JSON text
    made up front. The bytes equal ``dumps(wire_order(resolved))`` where ``resolved`` has
    every reference replaced by its data URL.

    Args:
        body: the request body, as built for ``chat.completions.create``.
        store: where references are resolved.

    Returns:
        The body; close it (or use ``with``) when the request is done.

    Raises:
        VideoSourceError: a reference with no store given, an invalid id, or a video that
            is not in the store. Raised before anything is sent.
    """
    ordered = wire_order(body)
    nonce = secrets.token_hex(16)
    replaced: list[tuple[bytes, list[Segment]]] = []
    messages: list[Any] = list(ordered.get("messages") or [])
    copied: set[int] = set()
    for m, p, url in _video_parts(ordered):
        if url.startswith(REFERENCE_PREFIX):
            segments = _stored_segments(url, store)
        elif _streams_inline(url):
            head, _, payload = url.partition(",")
            segments = [LiteralBytes(dumps(head + ",")[1:-1]), InlineText(payload)]
        else:
            continue
        marker = f"mimo-body-{nonce}-{len(replaced)}"
        replaced.append((marker.encode(), segments))
        if m not in copied:  # copy only what changes; the caller's body stays as it was
            messages[m] = {**messages[m], "content": list(messages[m]["content"])}
            copied.add(m)
        part = messages[m]["content"][p]
        messages[m]["content"][p] = {**part, "video_url": {**part["video_url"], "url": marker}}
    if not replaced:
        return StreamedBody([LiteralBytes(dumps(ordered))])
    text = dumps({**ordered, "messages": messages})
    pieces: list[Segment] = []
    cursor = 0
    for token, segments in replaced:
        found = text.find(token, cursor)
        if found < 0 or text.find(token, found + 1) >= 0:  # a random 128-bit marker
            raise RuntimeError("the request body could not be split; please report this")
        pieces.append(LiteralBytes(text[cursor:found]))
        pieces.extend(segments)
        cursor = found + len(token)
    pieces.append(LiteralBytes(text[cursor:]))
    return StreamedBody(pieces)


async def abuild_body(body: Mapping[str, Any], store: MediaStore | None = None) -> StreamedBody:
    """:func:`build_body` in a worker thread (it reads the store's metadata)."""
    return await asyncio.to_thread(build_body, body, store)


def _stored_segments(url: str, store: MediaStore | None) -> list[Segment]:
    media_id = reference_id(url)
    if store is None:
        raise no_store_error(media_id)
    size = store.size(media_id)  # raises VideoSourceError when it is not in the store
    mime_type = store.info(media_id).mime_type
    prefix = dumps(f"data:{mime_type};base64,")[1:-1]
    return [LiteralBytes(prefix), StoredBase64(store, media_id, size)]


# ---------------------------------------------------------------------------
# Sending through the openai SDK
# ---------------------------------------------------------------------------


# The openai SDK returns its raw response object (``.http_response``) for requests that
# carry this header; its ``with_raw_response`` wrappers set the same one.
_RAW_RESPONSE_HEADER: Final = "X-Stainless-Raw-Response"


def _options(body_headers: Mapping[str, str], headers: Mapping[str, Any] | None, raw: bool) -> Any:
    # What chat.completions.create passes for its own requests, plus our headers.
    merged: dict[str, Any] = {**(headers or {}), **body_headers}
    if raw:
        merged[_RAW_RESPONSE_HEADER] = "true"
    return {"headers": merged, "security": {"bearer_auth": True}}


def send_chat_completion(
    client: openai.OpenAI,
    body: StreamedBody,
    *,
    stream: bool,
    headers: Mapping[str, Any] | None = None,
    raw: bool = False,
) -> Any:
    """POST ``body`` to ``/chat/completions`` with the SDK's raw-content support.

    Args:
        client: the SDK client (its base URL, auth, timeout and retries apply).
        body: the streamed body; it is sent from its start.
        stream: ask for a streamed answer (the body must say ``"stream": true`` too).
        headers: extra request headers, as ``extra_headers`` (``openai.Omit()`` drops one).
        raw: return the SDK's raw response (``.http_response``), as ``with_raw_response``.

    Returns:
        What ``client.chat.completions.create`` returns: a ``ChatCompletion``, or a
        ``Stream`` of ``ChatCompletionChunk`` when ``stream`` is True (or the raw response).
        Retries, timeouts and errors are the SDK's own; before each retry the SDK seeks the
        body back to its start.
    """
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    body.seek(0)
    return client.post(
        "/chat/completions",
        cast_to=ChatCompletion,
        content=cast(Any, body),
        options=_options(body.headers, headers, raw),
        stream=stream,
        stream_cls=openai.Stream[ChatCompletionChunk],
    )


async def asend_chat_completion(
    client: openai.AsyncOpenAI,
    body: StreamedBody,
    *,
    stream: bool,
    headers: Mapping[str, Any] | None = None,
    raw: bool = False,
) -> Any:
    """Async :func:`send_chat_completion`; the body is read in worker threads."""
    import openai
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    body.seek(0)
    content = body.for_async()
    return await client.post(
        "/chat/completions",
        cast_to=ChatCompletion,
        content=cast(Any, content),
        options=_options(content.headers, headers, raw),
        stream=stream,
        stream_cls=openai.AsyncStream[ChatCompletionChunk],
    )


def post_chat(
    client: openai.OpenAI,
    body: Mapping[str, Any],
    arguments: Mapping[str, Any],
    store: MediaStore | None,
    *,
    stream: bool,
) -> Any:
    """Send a chat request as ChatMiMo does: the raw response, or the SDK stream.

    A body holding stored or large videos (:func:`worth_streaming`) goes out as a
    :class:`StreamedBody`; any other through ``chat.completions.create``.

    Args:
        client: the SDK client.
        body: the request body.
        arguments: the same body split into ``create``'s arguments (``extra_body``,
            ``extra_headers``).
        store: where ``mimo-media:`` references are read from.
        stream: whether the answer is streamed.

    Returns:
        The SDK's raw response (``.http_response``), or its ``Stream`` when ``stream``.
    """
    if not worth_streaming(body):
        completions = client.chat.completions
        if stream:
            return completions.create(**arguments)
        return completions.with_raw_response.create(**arguments)
    with build_body(body, store) as content:
        headers = arguments.get("extra_headers")
        return send_chat_completion(client, content, stream=stream, headers=headers, raw=not stream)


async def apost_chat(
    client: openai.AsyncOpenAI,
    body: Mapping[str, Any],
    arguments: Mapping[str, Any],
    store: MediaStore | None,
    *,
    stream: bool,
) -> Any:
    """Async :func:`post_chat`."""
    if not worth_streaming(body):
        completions = client.chat.completions
        if stream:
            return await completions.create(**arguments)
        return await completions.with_raw_response.create(**arguments)
    with await abuild_body(body, store) as content:
        headers = arguments.get("extra_headers")
        return await asend_chat_completion(
            client, content, stream=stream, headers=headers, raw=not stream
        )
