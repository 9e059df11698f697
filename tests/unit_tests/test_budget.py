"""Cost before you start, budgets that stop a run in time, and readable progress.

The loader runs against the in-process fake of MiMo (``test_document_loaders.FakeMiMo``),
which answers every request with the same usage (300 input tokens, 40 output), and, for
the estimate-against-usage check, against the contract server on loopback, which counts
usage with its own reading of the documented formula.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx2
import pytest

from langchain_mimo_video import ChatMiMo
from langchain_mimo_video._estimate import estimate_request
from langchain_mimo_video.budget import (
    Budget,
    BudgetError,
    BudgetExceededError,
    CorpusEstimate,
)
from langchain_mimo_video.description_cache import SQLiteDescriptionCache
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import MiMoError
from langchain_mimo_video.tokens import ModelPrice
from tests.mimo_server.server import MiMoContractServer
from tests.unit_tests.test_description_cache import described
from tests.unit_tests.test_document_loaders import VIDEOS, FakeMiMo

TRAFFIC = VIDEOS / "traffic.mp4"


class ExactFake(FakeMiMo):
    """Reports as input tokens exactly this package's estimate of the request it got.

    What a budget holds for a request in flight (its estimate) then equals what it holds
    once answered (its usage), so where a budget stops does not depend on timing.
    """

    @staticmethod
    def _exact(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response:
        body = json.loads(request.content)
        data = response.json()
        data["usage"]["prompt_tokens"] = estimate_request(body["messages"]).input_tokens
        return httpx2.Response(response.status_code, json=data)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        return self._exact(request, super().handler(request))

    async def async_handler(self, request: httpx2.Request) -> httpx2.Response:
        return self._exact(request, await super().async_handler(request))


def per_request_estimates(loader: VideoDescriptionLoader) -> list[int]:
    """The input-token estimate of each request the loader would send, one by one."""
    describer = loader.describer()
    return [
        describer.estimate(describer.messages(segment)).input_tokens for segment in loader.plan()
    ]


# ---------------------------------------------------------------------------
# estimate()
# ---------------------------------------------------------------------------


def test_estimate_needs_no_key_and_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    loader = VideoDescriptionLoader(
        [TRAFFIC, VIDEOS / "kitten.mp4"], segment_seconds=2, llm=ChatMiMo(max_tokens=500)
    )
    estimate = loader.estimate()

    assert (estimate.videos, estimate.segments, estimate.requests) == (2, 4, 4)
    assert estimate.cached_segments == 0
    # the sum of the per-request estimates of the very requests a run sends
    llm = loader.describer().llm
    parts = [
        llm.estimate_request(loader.describer().messages(segment)) for segment in loader.plan()
    ]
    assert estimate.video_tokens == sum(p.video_tokens for p in parts) > 0
    assert estimate.audio_tokens == sum(p.audio_tokens for p in parts) > 0  # kitten has sound
    assert estimate.text_tokens == sum(p.text_tokens for p in parts) > 0
    assert estimate.input_tokens == sum(p.input_tokens for p in parts)
    # mimo-v2.5: 1 CNY per million input tokens, 2 per million output
    assert estimate.input_cost == pytest.approx(estimate.input_tokens / 1e6)
    assert estimate.max_output_tokens == 4 * 500
    assert estimate.cost == pytest.approx((estimate.input_tokens + 2 * 2000) / 1e6)
    table = estimate.table()
    assert "segments" in table and f"{estimate.input_tokens:,}" in table
    assert estimate.as_dict()["input_tokens"] == estimate.input_tokens


def test_estimate_counts_what_the_cache_holds(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), segment_seconds=2, cache=cache)
    before = loader.estimate()
    assert (before.cached_segments, before.requests) == (0, 3)
    documents = loader.lazy_load()
    next(documents)
    documents.close()
    partial = loader.estimate()
    assert partial.cached_segments == described(loader) >= 1
    assert partial.requests == 3 - partial.cached_segments
    loader.load()
    after = loader.estimate()
    assert (after.cached_segments, after.requests, after.input_tokens) == (3, 0, 0)
    assert len(fake.bodies) == 3  # estimating sent nothing


def test_estimate_lists_what_it_cannot_plan(tmp_path: Path) -> None:
    loader = VideoDescriptionLoader(
        [TRAFFIC, tmp_path / "missing.mp4"], llm=FakeMiMo().chat(), segment_seconds=2
    )
    estimate = loader.estimate()
    assert estimate.videos == 1 and estimate.segments == 3
    assert len(estimate.failed) == 1 and "missing.mp4" in estimate.failed[0]
    assert "not estimated" in estimate.table()


def test_estimate_with_an_unpriced_model_has_no_cost() -> None:
    loader = VideoDescriptionLoader([TRAFFIC], llm=ChatMiMo(model="mimo-v2.5-pro"))
    estimate = loader.estimate()
    assert estimate.input_tokens > 0 and estimate.cost is None
    assert "unknown" in estimate.table()
    priced = VideoDescriptionLoader(
        [TRAFFIC],
        llm=ChatMiMo(model="mimo-v2.5-pro"),
        prices={"mimo-v2.5-pro": ModelPrice(input=4.0, cached_input=0.1, output=8.0)},
    ).estimate()
    assert priced.input_cost == pytest.approx(4 * priced.input_tokens / 1e6)


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("events", [False, True], ids=["text", "events"])
def test_estimate_matches_the_usage_the_server_reports(events: bool) -> None:
    with MiMoContractServer() as server:
        llm = ChatMiMo(api_key=server.api_key, base_url=server.base_url, max_tokens=300)
        loader = VideoDescriptionLoader(
            [TRAFFIC, VIDEOS / "kitten.mp4", VIDEOS / "clip.mov"],
            llm=llm,
            segment_seconds=2,
            events=events,
        )
        estimate = loader.estimate()
        documents = loader.load()
        assert len(server.chat_requests) == estimate.requests == len(documents) == 5
    reported = {
        name: sum(d.metadata[name] for d in documents)
        for name in ("input_tokens", "video_tokens", "audio_tokens")
    }
    # Video and audio follow the documented formula on both sides: equal to the token.
    assert estimate.video_tokens == reported["video_tokens"]
    assert estimate.audio_tokens == reported["audio_tokens"]
    assert loader.last_run is not None
    assert loader.last_run.input_tokens == reported["input_tokens"]
    # Text has no public tokenizer; the estimator's count of the prompt is the server's
    # bytes / 4, plus its allowance of 4 tokens per message for the chat template.
    text = reported["input_tokens"] - reported["video_tokens"] - reported["audio_tokens"]
    if not events:
        assert estimate.text_tokens == text + 4 * estimate.requests
    else:  # tool schemas: the estimator counts their repr, the server their JSON
        assert abs(estimate.text_tokens - text) <= 0.1 * text


# ---------------------------------------------------------------------------
# Budgets
# ---------------------------------------------------------------------------


def test_max_input_tokens_stops_before_the_request_that_would_pass_it(tmp_path: Path) -> None:
    fake = FakeMiMo()  # every answer reports 300 input tokens
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    options: dict[str, Any] = {"segment_seconds": 2, "cache": cache, "max_concurrency": 1}
    third = per_request_estimates(VideoDescriptionLoader([TRAFFIC], **options))[2]
    loader = VideoDescriptionLoader(
        [TRAFFIC], llm=fake.chat(), max_input_tokens=600 + third - 1, **options
    )
    made = []
    with pytest.raises(BudgetExceededError) as caught:
        made.extend(loader.lazy_load())

    assert [d.metadata["segment_index"] for d in made] == [0, 1]  # returned
    assert len(fake.bodies) == 2  # the third was never sent
    error = caught.value
    assert isinstance(error, MiMoError)
    assert (error.limit_name, error.described, error.from_cache) == ("max_input_tokens", 2, 0)
    assert error.input_tokens == 600
    assert error.would_reach == 600 + third
    message = str(error)
    assert "00:04-00:06" in message and "2 documents were made" in message
    assert "max_input_tokens" in message
    assert described(loader) == 2  # and cached: a run with more budget pays only the third
    rest = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), max_input_tokens=10**6, **options)
    assert len(rest.load()) == 3
    assert len(fake.bodies) == 3
    assert rest.last_run is not None and rest.last_run.cached == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_budget_admits_in_document_order_with_concurrency(mode: str) -> None:
    sources = [TRAFFIC, VIDEOS / "kitten.mp4", VIDEOS / "clip.mov", VIDEOS / "clip.avi"]
    fake = ExactFake(delay=0.01)
    options: dict[str, Any] = {"segment_seconds": 2, "max_concurrency": 4}
    estimates = per_request_estimates(VideoDescriptionLoader(sources, **options))
    assert len(estimates) == 6
    limit = sum(estimates[:4]) - 1  # room for the first 3 requests, not for the 4th
    loader = VideoDescriptionLoader(
        sources, llm=fake.chat(), max_input_tokens=limit, on_error="skip", **options
    )
    made: list[Any] = []
    with pytest.raises(BudgetExceededError) as caught:  # raised even with on_error="skip"
        if mode == "sync":
            made.extend(loader.lazy_load())
        else:
            async for document in loader.alazy_load():
                made.append(document)
    assert len(made) == 3 == len(fake.bodies)  # exactly the documents before the refusal
    assert [d.metadata["time_range"] for d in made] == ["00:00-00:02", "00:02-00:04", "00:04-00:06"]
    assert caught.value.described == 3


def test_max_cost_zero_sends_nothing(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), max_cost=0)
    with caplog.at_level(logging.WARNING), pytest.raises(BudgetExceededError, match="max_cost"):
        loader.load()
    assert fake.bodies == []


def test_max_cost_counts_the_worst_case_output() -> None:
    fake = FakeMiMo()
    (estimate,) = per_request_estimates(VideoDescriptionLoader([TRAFFIC]))
    # input alone fits; with max_tokens=1000 of output at 2 CNY per million it does not
    budget = (estimate + 2 * 999) / 1e6
    VideoDescriptionLoader([TRAFFIC], llm=fake.chat(max_tokens=999), max_cost=budget).load()
    with pytest.raises(BudgetExceededError, match="max_cost"):
        VideoDescriptionLoader([TRAFFIC], llm=fake.chat(max_tokens=1000), max_cost=budget).load()
    assert len(fake.bodies) == 1


def test_cache_hits_cost_nothing(tmp_path: Path) -> None:
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), cache=cache, segment_seconds=2).load()
    again = VideoDescriptionLoader(
        [TRAFFIC], llm=fake.chat(), cache=cache, segment_seconds=2, max_input_tokens=0
    )
    assert len(again.load()) == 3
    assert len(fake.bodies) == 3


def test_bad_budgets_fail_at_construction() -> None:
    with pytest.raises(BudgetError, match="max_cost"):
        VideoDescriptionLoader([TRAFFIC], max_cost=-1)
    with pytest.raises(BudgetError, match="max_input_tokens"):
        VideoDescriptionLoader([TRAFFIC], max_input_tokens=1.5)  # type: ignore[arg-type]
    fake = FakeMiMo()
    unpriced = VideoDescriptionLoader([TRAFFIC], llm=fake.chat(model="mimo-v2.5-pro"), max_cost=1)
    with pytest.raises(BudgetError, match="prices="):
        unpriced.load()
    assert fake.bodies == []


def test_budget_turns_wake_up_when_the_run_ends() -> None:
    budget = Budget(max_input_tokens=10)
    budget.close()
    with pytest.raises(Exception, match="run ended"):
        budget.wait_turn(3)


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------


def test_progress_shows_tokens_cost_cache_hits_and_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    fake = FakeMiMo()
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    VideoDescriptionLoader([TRAFFIC], llm=fake.chat(), cache=cache, segment_seconds=2).load()
    capsys.readouterr()
    loader = VideoDescriptionLoader(
        [TRAFFIC, VIDEOS / "clip.mov", tmp_path / "missing.mp4"],
        llm=fake.chat(),
        cache=cache,
        segment_seconds=2,
        show_progress=True,
        on_error="skip",
    )
    loader.load()
    err = capsys.readouterr().err
    assert "5/5" in err
    assert "cached=3" in err and "failed=1" in err
    assert "tokens=340" in err  # one request: 300 in + 40 out
    assert "cost=0.0004 CNY" in err  # 300 / 1e6 + 40 * 2 / 1e6 = 0.00038
    stats = loader.last_run
    assert stats is not None
    assert (stats.total, stats.done, stats.cached, stats.failed, stats.requests) == (5, 5, 3, 1, 1)
    assert stats.cost == pytest.approx(0.00038)
    assert "5/5 segments, 3 cached, 1 failed" in stats.summary()


def test_corpus_estimate_cost_without_output_cap() -> None:
    estimate = CorpusEstimate(model="mimo-v2.5", video_tokens=1000, input_cost=0.001)
    assert estimate.cost == 0.001
    assert "output" not in estimate.table()
