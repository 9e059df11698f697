"""Faults end to end: retries, surfaced errors, timeouts and cut streams.

Status-code faults replay from cassettes recorded while the contract server was told to
fail. Faults that live in time or in the connection itself (a slow answer, a reset, a
stream cut mid-way) cannot be replayed from a cassette, so those tests always run against
a local contract server on loopback.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from langchain_core.exceptions import (
    ModelConnectionError,
    ModelInvalidRequestError,
    ModelNotFoundError,
)
from langchain_core.messages import HumanMessage

from langchain_mimo_video import (
    ChatMiMo,
    MiMoBadRequestError,
    MiMoNotFoundError,
    RetiredModelWarning,
    StreamInterruptedError,
    UnsupportedContentError,
    VideoLoader,
)
from tests.integration_tests.conftest import Target
from tests.mimo_server import MiMoContractServer
from tests.mimo_server.behaviour import Behaviour

VIDEOS = Path(__file__).parents[1] / "data" / "videos"


def used_interactions(cassette: Any) -> int:
    """Requests that got an answer from the cassette (replay) or were recorded (record)."""
    return cassette.play_count if cassette.rewound else len(cassette.responses)


def inject(server: MiMoContractServer | None, *faults: tuple[str, dict[str, Any]]) -> None:
    if server is not None:  # recording locally; replay has the answers already
        for kind, options in faults:
            server.enqueue_fault(kind, **options)


@pytest.fixture
def llm(target: Target) -> ChatMiMo:
    return ChatMiMo(**target.chat_params(max_retries=2, max_tokens=200))


@pytest.mark.vcr
def test_429_with_retry_after_then_success(llm: ChatMiMo, contract_server: Any, vcr: Any) -> None:
    inject(contract_server, ("429", {"retry_after": 0}))
    reply = llm.invoke("Say hello.")
    assert reply.content
    assert used_interactions(vcr) == 2
    assert vcr.responses[0]["status"]["code"] == 429
    assert vcr.responses[0]["headers"]["retry-after"] == ["0"]


@pytest.mark.vcr
@pytest.mark.parametrize("statuses", [("500",), ("503", "503")])
def test_server_errors_are_retried(
    llm: ChatMiMo, contract_server: Any, vcr: Any, statuses: tuple[str, ...]
) -> None:
    inject(contract_server, *[(status, {}) for status in statuses])
    reply = llm.invoke("Say hello.")
    assert reply.content
    assert used_interactions(vcr) == len(statuses) + 1


@pytest.mark.vcr
def test_retries_run_out(llm: ChatMiMo, contract_server: Any, vcr: Any) -> None:
    inject(contract_server, *[("503", {"param": "overloaded, try later"})] * 3)
    with pytest.raises(openai.InternalServerError, match="overloaded, try later"):
        llm.invoke("Say hello.")
    assert used_interactions(vcr) == 3


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("401", openai.AuthenticationError),
        ("402", openai.APIStatusError),
        ("403", openai.PermissionDeniedError),
    ],
)
def test_client_errors_surface_the_detail_and_are_not_retried(
    llm: ChatMiMo, contract_server: Any, vcr: Any, status: str, error: type[Exception]
) -> None:
    inject(contract_server, (status, {"param": f"detail of the {status}"}))
    with pytest.raises(error, match=f"MiMo API error {status}.*detail of the {status}"):
        llm.invoke("Say hello.")
    assert used_interactions(vcr) == 1


@pytest.mark.vcr
def test_wrong_key_is_a_401_with_the_server_detail(target: Target, vcr: Any) -> None:
    llm = ChatMiMo(**target.chat_params(api_key="sk-wrong-key-for-this-test", max_retries=2))
    with pytest.raises(openai.AuthenticationError, match="MiMo API error 401") as caught:
        llm.invoke("Say hello.")
    assert "MIMO_API_KEY" in str(caught.value)  # the hint
    assert used_interactions(vcr) == 1


@pytest.mark.vcr
def test_corrupt_video_is_a_400_with_the_server_detail(llm: ChatMiMo, vcr: Any) -> None:
    data = bytearray((VIDEOS / "kitten.mp4").read_bytes())
    data[200:4000] = bytes(3800)  # keep the header, destroy the frames and index
    # Built by hand: VideoLoader now refuses such bytes itself, before sending; this
    # test is about what the server says when a broken video does reach it.
    encoded = base64.b64encode(bytes(data)).decode()
    part = {
        "type": "video_url",
        "video_url": {"url": f"data:video/mp4;base64,{encoded}"},
        "fps": 2.0,
        "media_resolution": "default",
    }
    with pytest.raises(openai.BadRequestError, match="MiMo API error 400") as caught:
        llm.invoke([HumanMessage(content=[part, "What is this?"])])
    assert "corrupted" in str(caught.value).lower()
    assert used_interactions(vcr) == 1


@pytest.mark.vcr
def test_unknown_model_is_a_404(target: Target, vcr: Any) -> None:
    llm = ChatMiMo(**target.chat_params(model="mimo-v9-imaginary", max_retries=2))
    with pytest.raises(openai.NotFoundError, match="MiMo API error 404"):
        llm.invoke("Say hello.")
    assert used_interactions(vcr) == 1


# -- faults in time and in the connection: always against a local server ------------


@pytest.fixture(scope="module")
def local_server() -> Iterator[MiMoContractServer]:
    with MiMoContractServer() as server:
        yield server


@pytest.fixture
def server(local_server: MiMoContractServer) -> MiMoContractServer:
    local_server.reset()
    return local_server


def local_llm(server: MiMoContractServer, **kwargs: Any) -> ChatMiMo:
    return ChatMiMo(api_key=server.api_key, base_url=server.base_url, **kwargs)


def test_timeout_is_honoured(server: MiMoContractServer) -> None:
    server.enqueue_fault("slow", seconds=2)
    with pytest.raises(openai.APITimeoutError):
        local_llm(server, timeout=0.3, max_retries=0).invoke("Say hello.")
    assert len(server.chat_requests) == 1


def test_slow_answer_within_the_timeout_is_fine(server: MiMoContractServer) -> None:
    server.enqueue_fault("slow", seconds=0.3)
    assert local_llm(server, timeout=5, max_retries=0).invoke("Say hello.").content


def test_connection_reset_is_retried(server: MiMoContractServer) -> None:
    server.enqueue_fault("reset")
    reply = local_llm(server, max_retries=2).invoke("Say hello.")
    assert reply.content
    assert len(server.chat_requests) == 2


def test_stream_cut_mid_way_raises(server: MiMoContractServer) -> None:
    server.enqueue_fault("stream_cut", after_chunks=4)
    received: list[str] = []
    with pytest.raises((openai.APIConnectionError, StreamInterruptedError)) as caught:
        for chunk in local_llm(server, max_retries=2).stream("Tell me about the sea."):
            received.append(str(chunk.content))
    assert isinstance(caught.value, ModelConnectionError)  # LangChain's class for it too
    assert len(server.chat_requests) == 1  # a started stream is not silently re-sent


def test_429_honours_retry_after(
    server: MiMoContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai._base_client as sdk

    pauses: list[float] = []
    monkeypatch.setattr(sdk.time, "sleep", pauses.append)  # record the wait, do not wait
    server.enqueue_fault("429", retry_after=7)
    reply = local_llm(server, max_retries=1).invoke("Say hello.")
    assert reply.content
    assert pauses == [7.0]  # the server's Retry-After, not the SDK's own backoff


def test_one_model_across_event_loops(server: MiMoContractServer) -> None:
    import asyncio

    llm = local_llm(server, max_retries=0)
    first = asyncio.run(llm.ainvoke("Say hello."))
    second = asyncio.run(llm.ainvoke("Say hello."))  # the first loop and its pool are gone
    assert first.content == second.content
    assert len(server.chat_requests) == 2


# -- the contract refresh (tests/mimo_server's evidence behaviours), on loopback ----------


def test_a_retired_model_warns_then_surfaces_the_400_with_its_param(
    server: MiMoContractServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain_mimo_video._request as request_module

    monkeypatch.setattr(request_module, "_warned", set())
    with pytest.warns(RetiredModelWarning, match="mimo-v2.5"):
        llm = local_llm(server, model="mimo-v2-omni", max_retries=2)
    with pytest.raises(MiMoBadRequestError, match="Not supported model mimo-v2-omni") as caught:
        llm.invoke("Say hello.")
    assert isinstance(caught.value, ModelInvalidRequestError)
    assert caught.value.param == "Not supported model mimo-v2-omni"
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize("mode", ["sse", "sse_200", "json"])
def test_a_refused_stream_surfaces_like_an_unstreamed_error(mode: str) -> None:
    """However the server frames a stream's error (SSE event, 200 SSE, JSON), same class."""
    with MiMoContractServer(behaviour=Behaviour(stream_errors=mode)) as srv:  # type: ignore[arg-type]
        llm = local_llm(srv, model="mimo-v9-imaginary", max_retries=0)
        with pytest.raises(MiMoNotFoundError) as caught:
            list(llm.stream("Say hello."))
    assert isinstance(caught.value, openai.NotFoundError)
    assert isinstance(caught.value, ModelNotFoundError)
    assert caught.value.status_code == 404
    assert caught.value.param and "mimo-v9-imaginary" in caught.value.param


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_reasoning_effort_reaches_the_server(server: MiMoContractServer, effort: str) -> None:
    assert local_llm(server, reasoning_effort=effort, max_retries=0).invoke("Say hello.").content
    assert server.chat_requests[-1].body["reasoning_effort"] == effort


def test_media_for_a_text_only_model_never_reaches_the_server(server: MiMoContractServer) -> None:
    part = VideoLoader().load(VIDEOS / "kitten.mp4")
    llm = local_llm(server, model="mimo-v2.5-pro", max_retries=0)
    with pytest.raises(UnsupportedContentError, match="takes text only"):
        llm.invoke([HumanMessage(content=[part, "What is this?"])])
    assert server.chat_requests == []


@pytest.mark.parametrize("mode", ["absent", "null"])
def test_thinking_off_reads_the_same_whether_reasoning_is_null_or_absent(mode: str) -> None:
    with MiMoContractServer(behaviour=Behaviour(reasoning_when_off=mode)) as srv:  # type: ignore[arg-type]
        llm = local_llm(srv, thinking=False, max_retries=0)
        reply = llm.invoke("Say hello.")
        streamed = list(llm.stream("Say hello."))
    assert reply.content
    assert "reasoning_content" not in reply.additional_kwargs
    assert all("reasoning_content" not in chunk.additional_kwargs for chunk in streamed)
