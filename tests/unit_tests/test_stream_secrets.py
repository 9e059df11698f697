"""A key a server echoes into a stream is masked even when it is cut across two chunks.

A tiny loopback server streams canned chat-completion chunks, one SSE event per write, so
the client reads them as a real stream. The key is split at every position, in the answer,
the reasoning and a tool call's arguments; sync and async streams alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video._stream_secrets import KeyHoldback, held_prefix_length
from langchain_mimo_video.errors import StreamInterruptedError
from tests.loopback import serving, url_of, without_proxies

KEY = "sk-SECRET-canary-0123456789abcdef"
LOCAL = pytest.mark.allow_hosts(["127.0.0.1"])
BEFORE, AFTER = "echo: ", " :end"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    chunks: list[dict[str, Any]]
    done: bool


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        events = [f"data: {json.dumps(chunk)}\n\n" for chunk in self.server.chunks]
        if self.server.done:
            events.append("data: [DONE]\n\n")
        for event in events:
            self.wfile.write(event.encode())
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.chunks, httpd.done = [], True
    with serving(httpd):
        yield httpd


@pytest.fixture
def llm(server: _Server, monkeypatch: pytest.MonkeyPatch) -> ChatMiMo:
    without_proxies(monkeypatch)
    server.done = True
    return ChatMiMo(
        api_key=KEY,
        base_url=url_of(server, "/v1"),
        max_retries=0,
        stream_usage=False,
    )


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mimo-v2.5",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def call_delta(arguments: str, *, first: bool) -> dict[str, Any]:
    call: dict[str, Any] = {"index": 0, "function": {"arguments": arguments}}
    if first:
        call.update(id="call_1", type="function")
        call["function"]["name"] = "look"
    return {"tool_calls": [call]}


def split_stream(field: str) -> list[dict[str, Any]]:
    """A stream whose ``field`` carries the key once for each place it can be cut."""
    deltas: list[dict[str, Any]] = []
    for at in range(1, len(KEY)):
        for text in (BEFORE + KEY[:at], KEY[at:] + AFTER):
            if field == "arguments":
                deltas.append(call_delta(text, first=not deltas))
            else:
                deltas.append({field: text})
    return [
        chunk({"role": "assistant", "content": ""}),
        *(chunk(delta) for delta in deltas),
        chunk({}, "stop"),
    ]


class Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.chunks: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(repr(kwargs.get("chunk")))


class AsyncTokens(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.chunks: list[str] = []

    async def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)
        self.chunks.append(repr(kwargs.get("chunk")))


def run(llm: ChatMiMo, *, use_async: bool) -> tuple[list[AIMessageChunk], Tokens | AsyncTokens]:
    if use_async:
        recorder: Tokens | AsyncTokens = AsyncTokens()

        async def collect() -> list[AIMessageChunk]:
            return [c async for c in llm.astream("hi", config={"callbacks": [recorder]})]

        return asyncio.run(collect()), recorder
    recorder = Tokens()
    return list(llm.stream("hi", config={"callbacks": [recorder]})), recorder


def model_chunks(chunks: list[AIMessageChunk]) -> list[AIMessageChunk]:
    """The chunks the model streamed, without the empty closing one LangChain adds."""
    if chunks and chunks[-1].chunk_position == "last" and not chunks[-1].content:
        return chunks[:-1]
    return chunks


def texts_of(message: AIMessageChunk) -> str:
    """Everything of a message chunk that could carry streamed text."""
    return " ".join(
        [
            str(message.content),
            repr(message.additional_kwargs),
            repr(message.tool_call_chunks),
            repr(message.response_metadata),
        ]
    )


#: The two halves of the key at every cut, where long enough to mean something.
KEY_PIECES = [
    piece for at in range(1, len(KEY)) for piece in (KEY[:at], KEY[at:]) if len(piece) >= 3
]


@LOCAL
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("field", ["content", "reasoning_content", "arguments"])
def test_a_key_cut_at_any_position_reaches_no_token_chunk_or_message(
    server: _Server, llm: ChatMiMo, field: str, use_async: bool
) -> None:
    server.chunks = split_stream(field)
    chunks, recorder = run(llm, use_async=use_async)
    message = sum(chunks[1:], chunks[0])
    emitted = [*map(texts_of, chunks), *recorder.tokens, *recorder.chunks]
    for text in [*emitted, texts_of(message)]:
        assert KEY not in text
        assert not [piece for piece in KEY_PIECES if piece in text], text
    masked = (BEFORE + "***" + AFTER) * (len(KEY) - 1)
    if field == "content":
        assert message.content == masked
    elif field == "reasoning_content":
        assert message.additional_kwargs["reasoning_content"] == masked
    else:
        assert message.tool_call_chunks[0]["args"] == masked
        assert message.tool_call_chunks[0]["name"] == "look"


@LOCAL
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_stream_without_a_key_start_is_unchanged_chunk_for_chunk(
    server: _Server, llm: ChatMiMo, use_async: bool
) -> None:
    pieces = ["Hello", ", wor", "ld. A", " cat ", "on a mat", "."]  # none ends in "s", "sk", ...
    server.chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": "thinking about it"}),
        *(chunk({"content": piece}) for piece in pieces),
        chunk({}, "stop"),
    ]
    chunks, recorder = run(llm, use_async=use_async)
    assert [c.content for c in model_chunks(chunks)] == ["", "", *pieces, ""]
    assert recorder.tokens == [c.content for c in chunks]
    assert chunks[1].additional_kwargs == {"reasoning_content": "thinking about it"}


@LOCAL
def test_a_key_start_that_is_not_the_key_is_sent_with_the_next_chunk(
    server: _Server, llm: ChatMiMo
) -> None:
    server.chunks = [
        chunk({"content": "two cats"}),  # "s" could start "sk-...": held back
        chunk({"content": " and sk-SE"}),  # so could "sk-SE"
        chunk({"content": "A bass"}),  # "sk-SEA" is not the key
        chunk({}, "stop"),  # the last "s" goes out with the finish chunk
    ]
    chunks, recorder = run(llm, use_async=False)
    assert [c.content for c in model_chunks(chunks)] == ["two cat", "s and ", "sk-SEA bas", "s"]
    assert recorder.tokens == [c.content for c in chunks]
    assert model_chunks(chunks)[-1].response_metadata["finish_reason"] == "stop"


@LOCAL
def test_text_held_when_a_stream_is_cut_is_kept_in_the_partial_content(
    server: _Server, llm: ChatMiMo
) -> None:
    server.chunks = [chunk({"content": "the key is sk-SECRET"})]
    server.done = False
    with pytest.raises(StreamInterruptedError) as caught:
        list(llm.stream("hi"))
    assert caught.value.partial_content == "the key is sk-SECRET"


def test_held_prefix_length_is_the_longest_proper_key_start_at_the_end() -> None:
    assert held_prefix_length("no key here.", KEY) == 0
    assert held_prefix_length("cats", KEY) == 1
    assert held_prefix_length("x sk-SECRET", KEY) == len("sk-SECRET")
    assert held_prefix_length(KEY, KEY) == 0  # the whole key is masked, not held
    assert held_prefix_length(KEY[:-1], KEY) == len(KEY) - 1


def test_a_short_placeholder_key_holds_nothing_back() -> None:
    holdback = KeyHoldback("k")
    raw = chunk({"content": "look"})
    assert holdback.feed(raw)["choices"][0]["delta"]["content"] == "look"
    assert holdback.flush() is None


@LOCAL
def test_a_held_end_goes_out_when_the_choice_moves_on_to_another_text(
    server: _Server, llm: ChatMiMo
) -> None:
    first_call = call_delta("", first=True)
    first_call["tool_calls"][0]["function"]["name"] = "list_cats"  # ends in "s"
    server.chunks = [
        chunk({"reasoning_content": "it thinks"}),  # "s" held back...
        chunk({"content": "Sure"}),  # ...and sent here: the reasoning is over
        chunk(first_call),  # "Sure" ends in no key start; the name's "s" is held...
        chunk(call_delta('{"n": 1}', first=False)),  # ...and sent with the arguments
        chunk({}, "tool_calls"),
    ]
    chunks = model_chunks(run(llm, use_async=False)[0])
    assert [c.additional_kwargs.get("reasoning_content") for c in chunks[:2]] == [
        "it think",
        "s",
    ]
    assert chunks[1].content == "Sure"
    assert [c.tool_call_chunks[0]["name"] if c.tool_call_chunks else None for c in chunks] == [
        None,
        None,
        "list_cat",
        "s",
        None,
    ]
    message = sum(chunks[1:], chunks[0])
    assert message.tool_calls[0]["name"] == "list_cats"
    assert message.tool_calls[0]["args"] == {"n": 1}
