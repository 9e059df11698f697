"""Fault catalogue: every fault the contract server can inject, against a live loopback server.

No cassettes: one ``MiMoContractServer`` for the module, reset before each test. Each fault
is either recovered (exactly one answer, and the server's log shows the faulted requests
plus one success) or surfaced (the exception names the status and carries the server's
``param``), and nothing is answered twice. Retry pauses are recorded, never slept, and no
test asserts a wall-clock duration.

The server answers deterministically and quotes the last user text (``Question: "..."``),
which is how an answer is matched to its prompt.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import openai
import openai._base_client as sdk
import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_mimo_video import (
    ChatMiMo,
    MiMoContentFilteredError,
    MiMoResponseError,
    MiMoStatusError,
    StreamInterruptedError,
)
from tests.mimo_server import MiMoContractServer
from tests.mimo_server.server import RecordedRequest

PROMPT = "What colour is the sky?"
#: Short enough to cut a "slow" fault, long enough for a normal answer on a busy machine.
RETRY_TIMEOUT = 0.75


@pytest.fixture(scope="module")
def contract_server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer(api_key="fault-catalogue-key") as server:
        yield server


@pytest.fixture
def server(contract_server: MiMoContractServer) -> Iterator[MiMoContractServer]:
    contract_server.reset()
    yield contract_server
    assert contract_server.pending_faults == [], "a queued fault was never used"


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry pauses the SDK asked for (sync and async); nothing actually waits."""
    asked: list[float] = []

    async def record_async(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(sdk.time, "sleep", asked.append)
    monkeypatch.setattr(sdk.anyio, "sleep", record_async)
    return asked


def chat(server: MiMoContractServer, **kwargs: Any) -> ChatMiMo:
    return ChatMiMo(api_key=server.api_key, base_url=server.base_url, **kwargs)


def inject(server: MiMoContractServer, kind: str, times: int = 1, **options: Any) -> None:
    for _ in range(times):
        server.enqueue_fault(kind, **options)


def question_of(request: RecordedRequest) -> str:
    return str(request.body["messages"][-1]["content"])


def log(server: MiMoContractServer) -> list[tuple[str | None, int | None]]:
    """(fault, status) of every chat request, oldest first."""
    return [(request.fault, request.status) for request in server.chat_requests]


def answers(reply: AIMessage | AIMessageChunk, prompt: str) -> bool:
    return f'Question: "{prompt}"' in str(reply.content)


def clean_answer(server: MiMoContractServer, prompt: str = PROMPT) -> AIMessage:
    """The answer to ``prompt`` with no fault, for comparison; leaves the log empty."""
    server.reset()
    reply = chat(server, max_retries=0).invoke(prompt)
    server.reset()
    return reply


# -- recovered: N faulted requests, then exactly one success ----------------------------


@pytest.mark.parametrize(
    ("kind", "times", "status"),
    [
        pytest.param("429", 1, 429, id="429"),
        pytest.param("429", 2, 429, id="429-twice"),
        pytest.param("500", 1, 500, id="500"),
        pytest.param("503", 2, 503, id="503-twice"),
        pytest.param("reset", 1, None, id="connection-reset"),
        pytest.param("reset", 2, None, id="connection-reset-twice"),
    ],
)
def test_recovered_after_retries(
    server: MiMoContractServer, pauses: list[float], kind: str, times: int, status: int | None
) -> None:
    expected = clean_answer(server)
    inject(server, kind, times)
    reply = chat(server, max_retries=2).invoke(PROMPT)
    assert reply.content == expected.content
    assert log(server) == [(kind, status)] * times + [(None, 200)]
    assert len(pauses) == times
    assert {question_of(request) for request in server.chat_requests} == {PROMPT}


@pytest.mark.parametrize("retry_after", [1, 7, 30])
def test_429_retry_after_is_the_pause(
    server: MiMoContractServer, pauses: list[float], retry_after: int
) -> None:
    inject(server, "429", 2, retry_after=retry_after)
    reply = chat(server, max_retries=2).invoke(PROMPT)
    assert answers(reply, PROMPT)
    assert pauses == [float(retry_after)] * 2
    assert log(server) == [("429", 429), ("429", 429), (None, 200)]


def test_503_with_retry_after_is_honoured_too(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "503", retry_after=4)
    assert answers(chat(server, max_retries=1).invoke(PROMPT), PROMPT)
    assert pauses == [4.0]


def test_slow_answer_past_the_timeout_is_retried(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "slow", seconds=5)
    reply = chat(server, max_retries=1, timeout=RETRY_TIMEOUT).invoke(PROMPT)
    assert answers(reply, PROMPT)
    faults = [request.fault for request in server.chat_requests]
    assert faults == ["slow", None]  # the timed-out attempt, then one success
    assert server.chat_requests[-1].status == 200
    assert len(pauses) == 1


# -- surfaced: the status, the server's param and a hint; not retried when pointless ------


CORE_CLASSES: dict[str, type[ModelError]] = {
    "401": ModelAuthenticationError,
    "402": ModelPermissionDeniedError,
    "403": ModelPermissionDeniedError,
    "429": ModelRateLimitError,
    "500": ModelAPIError,
    "503": ModelAPIError,
}


@pytest.mark.parametrize(
    ("kind", "error", "hint", "attempts"),
    [
        pytest.param("401", openai.AuthenticationError, "check MIMO_API_KEY", 1, id="401"),
        pytest.param("402", openai.APIStatusError, "balance is used up", 1, id="402"),
        pytest.param("403", openai.PermissionDeniedError, "may not use this model", 1, id="403"),
        pytest.param("429", openai.RateLimitError, "rate limited", 3, id="429-exhausted"),
        pytest.param("500", openai.InternalServerError, "server failed", 3, id="500-exhausted"),
        pytest.param("503", openai.InternalServerError, "server failed", 3, id="503-exhausted"),
    ],
)
def test_surfaced_with_the_server_detail(
    server: MiMoContractServer,
    pauses: list[float],
    kind: str,
    error: type[openai.APIStatusError],
    hint: str,
    attempts: int,
) -> None:
    param = f"messages[0]: detail of the injected {kind}"
    inject(server, kind, attempts, param=param)
    with pytest.raises(error) as caught:
        chat(server, max_retries=2).invoke(PROMPT)
    message = str(caught.value)
    assert message.startswith(f"MiMo API error {kind}")
    assert param in message
    assert hint in message
    assert caught.value.status_code == int(kind)
    assert isinstance(caught.value, CORE_CLASSES[kind])  # LangChain's family too
    assert isinstance(caught.value, MiMoStatusError)
    assert log(server) == [(kind, int(kind))] * attempts
    assert len(pauses) == attempts - 1


@pytest.mark.parametrize("kind", ["401", "403"])
def test_client_error_surfaces_before_a_stream_starts(
    server: MiMoContractServer, kind: str
) -> None:
    inject(server, kind, param=f"stream refused: {kind}")
    received: list[AIMessageChunk] = []
    with pytest.raises(openai.APIStatusError, match=f"MiMo API error {kind}.*stream refused"):
        for chunk in chat(server, max_retries=2).stream(PROMPT):
            received.append(chunk)
    assert received == []
    assert log(server) == [(kind, int(kind))]


def test_connection_resets_exhausted(server: MiMoContractServer, pauses: list[float]) -> None:
    inject(server, "reset", 3)
    with pytest.raises(openai.APIConnectionError) as caught:
        chat(server, max_retries=2).invoke(PROMPT)
    assert isinstance(caught.value, ModelConnectionError)
    assert server.base_url in str(caught.value)  # the URL that was tried
    assert log(server) == [("reset", None)] * 3
    assert len(pauses) == 2


def test_slow_answer_past_the_timeout_surfaces(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "slow", 2, seconds=3)
    with pytest.raises(openai.APITimeoutError) as caught:
        chat(server, max_retries=1, timeout=0.3).invoke(PROMPT)
    assert isinstance(caught.value, ModelTimeoutError)
    assert [request.fault for request in server.chat_requests] == ["slow", "slow"]


# -- streams: a retry before the stream starts, a cut in the middle ------------------------


def aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


@pytest.mark.parametrize("kind", ["429", "503", "reset"])
def test_retry_before_the_stream_starts_does_not_double_the_text(
    server: MiMoContractServer, pauses: list[float], kind: str
) -> None:
    clean = aggregate(list(chat(server, max_retries=0).stream(PROMPT)))
    server.reset()
    inject(server, kind)
    streamed = aggregate(list(chat(server, max_retries=2).stream(PROMPT)))
    assert streamed.content == clean.content
    assert streamed.additional_kwargs == clean.additional_kwargs  # the reasoning, once
    assert streamed.response_metadata["finish_reason"] == "stop"
    assert str(streamed.content).count(f'Question: "{PROMPT}"') == 1
    assert [request.fault for request in server.chat_requests] == [kind, None]


def test_stream_cut_mid_way_raises_and_is_not_resent(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    clean = clean_answer(server)
    inject(server, "stream_cut", after_chunks=6)
    received: list[str] = []
    with pytest.raises((openai.APIConnectionError, StreamInterruptedError)):
        for chunk in chat(server, max_retries=2).stream(PROMPT):
            received.append(str(chunk.content))
    partial = "".join(received)
    assert partial != clean.content
    assert str(clean.content).startswith(partial)  # whatever arrived is a true prefix
    assert log(server) == [("stream_cut", 200)]  # a started stream is never re-sent
    assert pauses == []


def test_stream_cut_is_not_returned_as_a_complete_answer(server: MiMoContractServer) -> None:
    """invoke() on a streaming model must raise, not hand back the truncated text."""
    inject(server, "stream_cut", after_chunks=8)
    outcome: Any = None
    with pytest.raises((openai.APIConnectionError, StreamInterruptedError)):
        outcome = chat(server, max_retries=2, streaming=True).invoke(PROMPT)
    assert outcome is None
    assert log(server) == [("stream_cut", 200)]


def test_non_streamed_body_cut_in_half_is_retried_once(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "stream_cut")  # a non-streamed body: half of it, then the connection closes
    reply = chat(server, max_retries=2).invoke(PROMPT)
    assert answers(reply, PROMPT)
    assert log(server) == [("stream_cut", 200), (None, 200)]


# -- batches: every prompt answered exactly once, by its own answer -------------------------

PROMPTS = [f"Question number {n}: what is in frame {n * 7}?" for n in range(1, 5)]


def assert_each_prompt_answered_once(server: MiMoContractServer) -> None:
    succeeded = Counter(
        question_of(request) for request in server.chat_requests if request.status == 200
    )
    assert succeeded == Counter(PROMPTS)


def test_batch_with_a_503_answers_each_prompt_once(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "503")
    replies = chat(server, max_retries=2).batch(PROMPTS)
    assert len(replies) == len(PROMPTS)
    for prompt, reply in zip(PROMPTS, replies, strict=True):
        assert answers(reply, prompt)
        assert sum(answers(reply, other) for other in PROMPTS) == 1
    assert len(server.chat_requests) == len(PROMPTS) + 1
    assert_each_prompt_answered_once(server)
    (faulted,) = [request for request in server.chat_requests if request.fault == "503"]
    assert Counter(map(question_of, server.chat_requests))[question_of(faulted)] == 2


def test_batch_with_every_first_attempt_failing(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "500", len(PROMPTS))
    # Faults go to whichever requests arrive next, and a retry may overtake another
    # prompt's first attempt; with this many retries no prompt can run out of them.
    replies = chat(server, max_retries=len(PROMPTS)).batch(PROMPTS)
    assert [answers(reply, prompt) for prompt, reply in zip(PROMPTS, replies, strict=True)] == [
        True
    ] * len(PROMPTS)
    assert len(server.chat_requests) == 2 * len(PROMPTS)
    assert_each_prompt_answered_once(server)


def test_batch_where_one_prompt_runs_out_of_retries(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "503", 3, param="overloaded, try later")
    results = chat(server, max_retries=2).batch(
        PROMPTS, config={"max_concurrency": 1}, return_exceptions=True
    )
    first, *rest = results
    assert isinstance(first, openai.InternalServerError)
    assert "overloaded, try later" in str(first)
    for prompt, reply in zip(PROMPTS[1:], rest, strict=True):
        assert isinstance(reply, AIMessage) and answers(reply, prompt)
    assert [question_of(r) for r in server.chat_requests] == [PROMPTS[0]] * 3 + PROMPTS[1:]
    assert Counter(question_of(r) for r in server.chat_requests if r.status == 200) == Counter(
        PROMPTS[1:]
    )


# -- async --------------------------------------------------------------------------------


async def test_async_429_honours_retry_after(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "429", retry_after=5)
    reply = await chat(server, max_retries=1).ainvoke(PROMPT)
    assert answers(reply, PROMPT)
    assert pauses == [5.0]
    assert log(server) == [("429", 429), (None, 200)]


async def test_async_429_exhausted_surfaces_the_param(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "429", 2, retry_after=2, param="quota: 60 requests per minute")
    with pytest.raises(openai.RateLimitError, match=r"MiMo API error 429.*60 requests per minute"):
        await chat(server, max_retries=1).ainvoke(PROMPT)
    assert pauses == [2.0]
    assert log(server) == [("429", 429)] * 2


async def test_async_timeout_surfaces(server: MiMoContractServer, pauses: list[float]) -> None:
    inject(server, "slow", seconds=3)
    with pytest.raises(openai.APITimeoutError):
        await chat(server, max_retries=0, timeout=0.3).ainvoke(PROMPT)
    assert [request.fault for request in server.chat_requests] == ["slow"]


async def test_async_timeout_is_retried(server: MiMoContractServer, pauses: list[float]) -> None:
    inject(server, "slow", seconds=5)
    reply = await chat(server, max_retries=1, timeout=RETRY_TIMEOUT).ainvoke(PROMPT)
    assert answers(reply, PROMPT)
    assert [request.fault for request in server.chat_requests] == ["slow", None]


async def test_async_stream_after_a_429_is_not_doubled(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    clean = clean_answer(server)
    inject(server, "429", retry_after=1)
    chunks = [chunk async for chunk in chat(server, max_retries=1).astream(PROMPT)]
    streamed = aggregate(chunks)
    assert streamed.content == clean.content
    assert streamed.additional_kwargs == clean.additional_kwargs
    assert pauses == [1.0]
    assert [request.fault for request in server.chat_requests] == ["429", None]


async def test_async_stream_cut_raises(server: MiMoContractServer) -> None:
    inject(server, "stream_cut", after_chunks=5)
    with pytest.raises((openai.APIConnectionError, StreamInterruptedError)):
        await chat(server, max_retries=2, streaming=True).ainvoke(PROMPT)
    assert log(server) == [("stream_cut", 200)]


async def test_async_batch_with_a_503_answers_each_prompt_once(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "503")
    replies = await chat(server, max_retries=2).abatch(PROMPTS)
    for prompt, reply in zip(PROMPTS, replies, strict=True):
        assert answers(reply, prompt)
    assert len(server.chat_requests) == len(PROMPTS) + 1
    assert_each_prompt_answered_once(server)


async def test_async_concurrent_calls_with_faults_each_get_their_own_answer(
    server: MiMoContractServer, pauses: list[float]
) -> None:
    inject(server, "429")
    inject(server, "reset")
    llm = chat(server, max_retries=2)
    replies = await asyncio.gather(*(llm.ainvoke(prompt) for prompt in PROMPTS))
    for prompt, reply in zip(PROMPTS, replies, strict=True):
        assert answers(reply, prompt)
    assert len(server.chat_requests) == len(PROMPTS) + 2
    assert_each_prompt_answered_once(server)


# -- hostile servers: answers that break the contract, over a real socket --------------------


class HostileServer:
    """A loopback server that answers every POST with the next canned (status, type, body)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str, bytes]] = []
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status, content_type, body = owner.answers[
                    min(owner.requests, len(owner.answers) - 1)
                ]
                owner.requests += 1
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(timeout=5)


def sse_event(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()


START = sse_event(
    json.dumps(
        {
            "id": "1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "mimo-v2.5",
            "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}],
        }
    )
)
BROKEN_ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html-200": (200, "text/html", b"<html><body>Sign in to the portal</body></html>"),
    "invalid-json": (200, "application/json", b'{"choices": [{"message": '),
    "empty-object": (200, "application/json", b"{}"),
    "no-choices": (200, "application/json", b'{"choices": []}'),
    "error-in-200": (200, "application/json", b'{"error": {"code": "500", "message": "upstream"}}'),
    "null": (200, "application/json", b"null"),
    "list": (200, "application/json", b"[]"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN_ANSWERS))
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_broken_answer_is_one_documented_error(
    hostile: HostileServer, pauses: list[float], kind: str, mode: str
) -> None:
    hostile.answers.append(BROKEN_ANSWERS[kind])
    llm = ChatMiMo(api_key="hostile-key", base_url=hostile.base_url, max_retries=0)
    with pytest.raises(MiMoResponseError) as caught:
        if mode == "sync":
            llm.invoke(PROMPT)
        else:
            asyncio.run(llm.ainvoke(PROMPT))
    assert isinstance(caught.value, ModelAPIError) and isinstance(caught.value, openai.APIError)
    assert caught.value.status_code == 200
    assert caught.value.content_type == BROKEN_ANSWERS[kind][1]
    assert "hostile-key" not in str(caught.value)
    assert hostile.requests == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (START + sse_event("{this is not json"), MiMoResponseError),
        (START + sse_event("null"), MiMoResponseError),
        (
            START
            + sse_event('{"error": {"code": "429", "message": "Too frequent", "param": "rpm"}}'),
            openai.RateLimitError,
        ),
        (
            sse_event('{"error": {"code": "400", "message": "Param Incorrect", "param": "fps"}}'),
            openai.BadRequestError,
        ),
    ],
    ids=["not-json", "null", "error-event-mid-stream", "error-event-first"],
)
def test_a_broken_or_error_stream_is_classified(
    hostile: HostileServer, body: bytes, error: type[Exception]
) -> None:
    hostile.answers.append((200, "text/event-stream", body))
    llm = ChatMiMo(api_key="hostile-key", base_url=hostile.base_url, max_retries=0)
    with pytest.raises(error) as caught:
        list(llm.stream(PROMPT))
    assert isinstance(caught.value, ModelError)
    if isinstance(caught.value, openai.APIStatusError):
        assert caught.value.param in ("rpm", "fps")


def test_a_421_is_content_filtered_in_both_families(hostile: HostileServer) -> None:
    body = b'{"error": {"code": "421", "message": "Content filtered", "param": "messages[0]"}}'
    hostile.answers.append((421, "application/json", body))
    llm = ChatMiMo(api_key="hostile-key", base_url=hostile.base_url, max_retries=2)
    with pytest.raises(openai.APIStatusError) as caught:
        llm.invoke(PROMPT)
    assert isinstance(caught.value, MiMoContentFilteredError)
    assert isinstance(caught.value, ModelInvalidRequestError)
    assert caught.value.status_code == 421 and caught.value.param == "messages[0]"
    assert hostile.requests == 1  # not retried
