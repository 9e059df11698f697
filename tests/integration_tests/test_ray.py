"""langchain_mimo_video.ray on a local Ray cluster, against the contract server.

One small cluster (``num_cpus=2``, no dashboard) serves the whole module and is shut down
at its end. The contract server runs in this process; a subclass notes when each chat
request arrives (the rate-limit test reads those times) and can wait before answering.
Marked ``ray``: ``pytest -m "not ray"`` leaves these out locally; CI runs them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from langchain_core.documents import Document

from langchain_mimo_video import ChatMiMo, VideoDescriptionLoader
from langchain_mimo_video.description_cache import file_sha256
from langchain_mimo_video.events import events_from_metadata
from langchain_mimo_video.ray import (
    OUTPUT_COLUMNS,
    describe_videos,
    estimate_videos,
    rows_to_documents,
)
from langchain_mimo_video.store import MediaStore
from tests.mimo_server.server import Fault, MiMoContractServer
from tests.ray_cluster import start_cluster
from tests.videos import make_video

pytestmark = [pytest.mark.ray, pytest.mark.allow_hosts(["127.0.0.1"])]

PROMPT = "Describe the clip."


class TimedServer(MiMoContractServer):
    """The contract server, noting each chat request's arrival (and waiting, if asked)."""

    latency = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []
        self._times_lock = threading.Lock()

    def _take_fault(self) -> Fault | None:
        with self._times_lock:
            self.arrivals.append(time.monotonic())
        fault = super()._take_fault()
        if fault is None and self.latency:
            return Fault("slow", {"seconds": self.latency})
        return fault

    def clear(self) -> None:
        self.reset()
        self.latency = 0.0
        with self._times_lock:
            self.arrivals.clear()


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    start_cluster()
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[TimedServer]:
    with TimedServer() as running:
        yield running


@pytest.fixture
def mimo(server: TimedServer, cluster: None) -> Iterator[TimedServer]:
    server.clear()
    yield server
    server.clear()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ray-videos")
    made = {
        "two": make_video(folder / "two.mp4", duration=2.0, fps=10, colors=["red", "blue"]),
        "three": make_video(
            folder / "three.mp4", duration=3.0, fps=10, colors=["green", "yellow", "cyan"]
        ),
    }
    for index in range(8):
        made[f"small{index}"] = make_video(
            folder / f"small{index}.mp4", duration=1.0 + 0.1 * index, fps=10
        )
    bad = folder / "not-a-video.mp4"
    bad.write_bytes(b"this is text, not a video " * 40)
    made["bad"] = bad
    return made


def chat(server: MiMoContractServer) -> ChatMiMo:
    return ChatMiMo(base_url=server.base_url, api_key=server.api_key, max_retries=0, max_tokens=300)


def by_place(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (row["source"], row["start"] or 0.0))


def in_order(documents: list[Document]) -> list[Document]:
    return sorted(documents, key=lambda doc: (doc.metadata["source"], doc.metadata["start"]))


def cached_segments(sources: list[str], cache: Path, llm: ChatMiMo) -> int:
    """Segments whose description the cache holds (keys as the local loader makes them)."""
    local = VideoDescriptionLoader(
        sources, llm=llm, prompt=PROMPT, segment_seconds=1.0, cache=cache
    )
    describer = local.describer()
    return sum(1 for segment in local.plan() if describer.key(segment) in describer.cache)


def data_urls_in(value: Any) -> bool:
    return "data:video" in json.dumps(value, default=str) or "base64," in json.dumps(
        value, default=str
    )


def test_rows_equal_the_local_loaders_documents(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos["two"]), str(videos["three"])]
    store = MediaStore(tmp_path / "store")
    dataset = describe_videos(
        sources,
        llm=chat(mimo),
        prompt=PROMPT,
        segment_seconds=1.0,
        store=store,
        workers=2,
        concurrency=4,
    ).materialize()
    rows = by_place(dataset.take_all())
    sent_by_ray = len(mimo.chat_requests)
    mimo.reset()
    local = VideoDescriptionLoader(sources, llm=chat(mimo), prompt=PROMPT, segment_seconds=1.0)
    expected = in_order(local.load())

    assert len(rows) == 5 == len(expected) == sent_by_ray
    assert rows_to_documents(rows) == expected
    for row, document in zip(rows, expected, strict=True):
        assert set(row) == set(OUTPUT_COLUMNS)
        assert row["error"] is None and row["cached"] is False
        assert row["text"] == document.page_content
        assert row["source_url"] == document.metadata["source_url"]
        assert row["source_url"].startswith("file:///") and "#t=" in row["source_url"]
        assert row["time_range"] == document.metadata["time_range"]
        assert row["model"] == document.metadata["model"]
        assert row["usage"] == {
            name: document.metadata[name]
            for name in ("input_tokens", "output_tokens", "video_tokens", "audio_tokens")
        }
        assert row["usage"]["video_tokens"] > 0
    # the videos travelled through the store; no row and no block holds a data URL
    assert file_sha256(videos["two"]) in store and file_sha256(videos["three"]) in store
    assert not any(data_urls_in(row) for row in rows)
    for bundle in dataset.iter_internal_ref_bundles():
        for block_ref in bundle.block_refs:
            assert not data_urls_in(ray.get(block_ref).to_pylist())


def test_a_failing_video_becomes_error_rows_and_the_job_goes_on(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [
        str(videos["two"]),
        str(videos["bad"]),
        str(tmp_path / "missing.mp4"),
        "https://example.com/clip.mp4",  # a URL cannot be cut into segments
    ]
    rows = describe_videos(
        sources,
        llm=chat(mimo),
        prompt=PROMPT,
        segment_seconds=1.0,
        store=MediaStore(tmp_path / "store"),
        workers=2,
        concurrency=2,
    ).take_all()
    errors = {row["source"]: row["error"] for row in rows if row["error"]}
    good = [row for row in rows if not row["error"]]

    assert len(good) == 2 and {row["source"] for row in good} == {str(videos["two"])}
    assert set(errors) == set(sources[1:])
    assert errors[str(videos["bad"])].startswith("VideoSourceError: ")
    # the error names the video as given, not the store's copy the worker read
    assert str(videos["bad"]) in errors[str(videos["bad"])]
    assert str(tmp_path / "store") not in errors[str(videos["bad"])]
    assert "missing.mp4" in errors[str(tmp_path / "missing.mp4")]
    assert errors["https://example.com/clip.mp4"].startswith("VideoValidationError:")
    assert len(mimo.chat_requests) == 2  # nothing was sent for the failing sources
    assert all(row["text"] is None and row["id"] is None for row in rows if row["error"])
    with pytest.raises(Exception, match="not-a-video"):
        rows_to_documents(by_place(rows), errors="raise")


def test_a_rerun_sends_only_the_segments_not_yet_described(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos["two"]), str(videos["three"])]
    cache = tmp_path / "descriptions.sqlite"
    settings: dict[str, Any] = {
        "prompt": PROMPT,
        "segment_seconds": 1.0,
        "cache": cache,
        "store": MediaStore(tmp_path / "store"),
        "workers": 2,
        "concurrency": 2,
    }
    # The first run is cut short: two requests fail (the server resets the connection),
    # as a crash would leave them; the other three segments are described and cached.
    mimo.enqueue_fault("reset")
    mimo.enqueue_fault("reset")
    first = describe_videos(sources, llm=chat(mimo), **settings).take_all()
    assert sum(1 for row in first if row["error"]) == 2
    assert cached_segments(sources, cache, chat(mimo)) == 3
    assert len(mimo.chat_requests) == 5

    mimo.reset()
    second = by_place(describe_videos(sources, llm=chat(mimo), **settings).take_all())
    assert len(mimo.chat_requests) == 2  # only the two that failed; 0 sent again
    assert sum(1 for row in second if row["cached"]) == 3
    assert not any(row["error"] for row in second)

    mimo.reset()
    third = by_place(describe_videos(sources, llm=chat(mimo), **settings).take_all())
    assert mimo.chat_requests == []
    assert all(row["cached"] for row in third)
    assert rows_to_documents(third) == rows_to_documents(second)
    local = VideoDescriptionLoader(
        sources, llm=chat(mimo), prompt=PROMPT, segment_seconds=1.0, cache=cache
    )
    assert sorted(
        local.load(), key=lambda doc: (doc.metadata["source"], doc.metadata["start"])
    ) == (rows_to_documents(third))
    assert mimo.chat_requests == []


def test_the_rate_limit_holds_across_workers_at_the_server(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos[f"small{index}"]) for index in range(8)]
    rate = 4.0
    mimo.latency = 0.3
    rows = describe_videos(
        sources,
        llm=chat(mimo),
        prompt=PROMPT,
        store=MediaStore(tmp_path / "store"),
        requests_per_second=rate,
        workers=2,
        concurrency=8,
    ).take_all()
    assert len(rows) == 8 and not any(row["error"] for row in rows)
    arrivals = sorted(mimo.arrivals)
    assert len(arrivals) == 8
    # 8 requests spaced 1/rate apart span 7/rate = 1.75 s (unlimited, all 8 in flight at
    # once would arrive within a few tens of ms); sending after the slot is given adds some
    # jitter, so allow a quarter. No window of one second holds more than rate + 1.
    jitter = 0.05
    assert arrivals[-1] - arrivals[0] >= 0.75 * (len(arrivals) - 1) / rate
    for index, first in enumerate(arrivals):
        within = [when for when in arrivals[index:] if when < first + 1.0 - jitter]
        assert len(within) <= rate + 1


def test_the_budget_holds_across_workers(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos[f"small{index}"]) for index in range(8)]
    estimate = estimate_videos(sources, llm=chat(mimo), prompt=PROMPT)
    assert estimate.requests == 8 and estimate.cost is not None
    max_cost = estimate.cost * 3.5 / 8  # about three and a half requests' worth
    mimo.latency = 0.2
    rows = describe_videos(
        sources,
        llm=chat(mimo),
        prompt=PROMPT,
        store=MediaStore(tmp_path / "store"),
        max_cost=max_cost,
        workers=2,
        concurrency=4,
    ).take_all()
    described = [row for row in rows if not row["error"]]
    refused = [row for row in rows if row["error"]]
    assert len(rows) == 8
    assert len(described) >= 3 and refused
    assert all(row["error"].startswith("BudgetExceededError:") for row in refused)
    assert sum(row["cost"] for row in described) <= max_cost
    assert len(mimo.chat_requests) == len(described)  # refused requests were never sent


def test_the_estimate_is_the_local_loaders(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos["two"]), str(videos["three"]), str(videos["bad"])]
    settings: dict[str, Any] = {"prompt": PROMPT, "segment_seconds": 1.0}
    ours = estimate_videos(sources, llm=chat(mimo), **settings)
    local = VideoDescriptionLoader(sources, llm=chat(mimo), **settings).estimate()
    assert ours.as_dict() == local.as_dict()
    assert ours.segments == 5 and len(ours.failed) == 1
    dataset = ray.data.from_items([{"path": source} for source in sources])
    assert estimate_videos(dataset, llm=chat(mimo), **settings).as_dict() == local.as_dict()
    # ...and it is what the server then counts for the run, to the token
    rows = describe_videos(
        dataset, llm=chat(mimo), store=MediaStore(tmp_path / "store"), **settings
    ).take_all()
    assert sum(1 for row in rows if not row["error"]) == 5
    assert sum(row["usage"]["video_tokens"] for row in rows if not row["error"]) == (
        ours.video_tokens
    )
    assert mimo.arrivals and mimo.chat_requests[0].usage is not None


def test_the_scene_threshold_reaches_plans_made_on_the_cluster(
    mimo: TimedServer, tmp_path: Path
) -> None:
    pytest.importorskip("scenedetect")
    colours = ["red", "red", "green", "red", "red", "red"]  # cuts at 2 and 3 s
    video = make_video(tmp_path / "cuts.mp4", duration=6.0, fps=25, colors=colours)
    dataset = ray.data.from_items([{"path": str(video)}])  # planned by a Ray task
    settings: dict[str, Any] = {
        "prompt": PROMPT,
        "segment_by": "scenes",
        "min_segment_seconds": 0.5,
        "store": MediaStore(tmp_path / "store"),
    }
    ranges = []
    for threshold in (None, 50.0):
        rows = describe_videos(
            dataset, llm=chat(mimo), scene_threshold=threshold, **settings
        ).take_all()
        assert not [row["error"] for row in rows if row["error"]]
        ranges.append([(row["start"], row["end"]) for row in by_place(rows)])
    assert len(ranges[0]) == 3
    assert ranges[1] == [(0.0, 6.0)]


def test_event_rows_give_the_local_loaders_documents_with_primitive_metadata(
    mimo: TimedServer, videos: dict[str, Path], tmp_path: Path
) -> None:
    sources = [str(videos["two"])]
    settings: dict[str, Any] = {"prompt": PROMPT, "segment_seconds": 1.0, "events": True}
    rows = by_place(
        describe_videos(
            sources, llm=chat(mimo), store=MediaStore(tmp_path / "store"), **settings
        ).take_all()
    )
    mimo.reset()
    expected = in_order(VideoDescriptionLoader(sources, llm=chat(mimo), **settings).load())
    documents = rows_to_documents(rows)
    assert len(documents) == 2
    assert documents == expected  # ids, text and metadata, events included
    for row, document in zip(rows, documents, strict=True):
        metadata = json.loads(row["metadata"])
        assert all(isinstance(v, (str, int, float, bool, type(None))) for v in metadata.values())
        assert isinstance(metadata["events"], str)
        assert events_from_metadata(metadata) == events_from_metadata(document.metadata)
