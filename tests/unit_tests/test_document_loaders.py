"""VideoDescriptionLoader against an in-process fake of MiMo (no sockets).

The fake answers each request with a description naming the video it received (found by
the hash of its data URL, or for cut segments by measuring the clip), sleeps a chosen
time per video so requests finish out of order, and counts the requests in flight.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av
import httpx2
import numpy as np
import openai
import pytest
from langchain_core.documents import Document
from langchain_core.rate_limiters import BaseRateLimiter, InMemoryRateLimiter

from langchain_mimo_video import ChatMiMo, VideoLoader
from langchain_mimo_video.document_loaders import (
    DEFAULT_PROMPT,
    EmptyDescriptionError,
    VideoDescriptionLoader,
    format_time_range,
    format_timestamp,
)
from langchain_mimo_video.errors import (
    MissingAPIKeyError,
    VideoSourceError,
    VideoValidationError,
)
from tests.unit_tests.fake_transport import completion, error_body
from tests.videos import make_video

# A model name the profile table does not know (a self-hosted MiMo-V2.5 under its served
# name), so the body shows the option was passed on; nothing is refused and no model is retired.
SELF_HOSTED = "MiMo-V2.5"

VIDEOS = Path(__file__).parents[1] / "data" / "videos"
COMMITTED = ["traffic.mp4", "kitten.mp4", "portrait.mp4", "clip.mov", "clip.avi"]
USAGE = {
    "prompt_tokens": 300,
    "completion_tokens": 40,
    "total_tokens": 340,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 12, "video_tokens": 250},
    "completion_tokens_details": {"reasoning_tokens": 10},
}
COLOURS = {"red": (220, 20, 20), "yellow": (230, 230, 20), "green": (20, 200, 20)}


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _first_colour(data: bytes) -> str:
    """Name of the colour of a clip's first frame (red, yellow or green)."""
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0))
    mean = frame.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0)
    return min(COLOURS, key=lambda name: float(np.linalg.norm(mean - COLOURS[name])))


class FakeMiMo:
    """Describes the videos it gets; thread- and task-safe; counts requests in flight."""

    def __init__(
        self,
        names: dict[str, str] | None = None,
        *,
        delays: dict[str, float] | None = None,
        delay: float = 0.0,
        status: dict[str, int] | None = None,
        content: str | None = None,
    ) -> None:
        self.names = names or {}
        self.delays = delays or {}
        self.delay = delay
        self.status = status or {}
        self.content = content
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []

    def _name(self, url: str) -> str:
        if not url.startswith("data:"):
            return url
        key = _key(url)
        if key not in self.names:  # a cut segment: say what it holds
            data = base64.b64decode(url.split(",", 1)[1])
            from langchain_mimo_video.media import probe

            self.names[key] = f"clip of {probe(data).duration:.1f} s, {_first_colour(data)}"
        return self.names[key]

    def _enter(self, request: httpx2.Request) -> tuple[str, dict[str, Any]]:
        body = json.loads(request.content)
        part, question = body["messages"][0]["content"]
        with self.lock:
            self.bodies.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self._name(part["video_url"]["url"]), question

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def _response(self, name: str, question: dict[str, Any]) -> httpx2.Response:
        status = self.status.get(name)
        if status is not None:
            return httpx2.Response(status, json=error_body(status, "Param Incorrect", name))
        text = self.content if self.content is not None else f"Described {name}."
        finish = "length" if self.content == "" else "stop"
        body = completion(text, usage=USAGE, finish_reason=finish)
        return httpx2.Response(200, json=body)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        name, question = self._enter(request)
        try:
            time.sleep(self.delays.get(name, self.delay))
            return self._response(name, question)
        finally:
            self._leave()

    async def async_handler(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        name, question = self._enter(request)
        try:
            await asyncio.sleep(self.delays.get(name, self.delay))
            return self._response(name, question)
        finally:
            self._leave()

    def chat(self, **overrides: Any) -> ChatMiMo:
        return ChatMiMo(
            api_key="test-key",
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self.handler)),
            http_async_client=httpx2.AsyncClient(
                transport=httpx2.MockTransport(self.async_handler)
            ),
            **overrides,
        )


def names_of(paths: list[Path]) -> dict[str, str]:
    """Data-URL hash -> file name, for the parts VideoLoader() makes of these files."""
    return {_key(VideoLoader().load(path)["video_url"]["url"]): path.name for path in paths}


@pytest.fixture(scope="module")
def many_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Twelve small distinct videos."""
    folder = tmp_path_factory.mktemp("many")
    colours = ["red", "green", "blue", "yellow", "cyan", "magenta"]
    return [
        make_video(
            folder / f"v{index:02d}.mp4",
            duration=0.3 + 0.1 * (index // 6),
            colors=[colours[index % 6]],
        )
        for index in range(12)
    ]


def committed() -> list[Path]:
    return [VIDEOS / name for name in COMMITTED]


def collect(loader: VideoDescriptionLoader) -> list[Document]:
    return list(loader.lazy_load())


async def acollect(loader: VideoDescriptionLoader) -> list[Document]:
    return [document async for document in loader.alazy_load()]


# ---------------------------------------------------------------------------
# Order and metadata
# ---------------------------------------------------------------------------


def test_documents_come_in_source_order_with_their_metadata() -> None:
    paths = committed()
    # The first videos answer last, so completion order is the reverse of source order.
    delays = {name: 0.02 * (len(COMMITTED) - index) for index, name in enumerate(COMMITTED)}
    fake = FakeMiMo(names_of(paths), delays=delays)
    loader = VideoDescriptionLoader(paths, llm=fake.chat(), max_concurrency=3)

    documents = collect(loader)

    assert [d.page_content for d in documents] == [f"Described {n}." for n in COMMITTED]
    traffic = documents[0].metadata
    assert traffic == {
        "source": str(VIDEOS / "traffic.mp4"),
        "start": 0.0,
        "end": 6.0,
        "duration": 6.0,
        "time_range": "00:00-00:06",
        "fps": 2.0,
        "media_resolution": "default",
        "model": "mimo-v2.5",
        "input_tokens": 300,
        "output_tokens": 40,
        "video_tokens": 250,
        "audio_tokens": 12,
        "finish_reason": "stop",
        "source_url": (VIDEOS / "traffic.mp4").resolve().as_uri() + "#t=0,6",
        "content_sha256": hashlib.sha256((VIDEOS / "traffic.mp4").read_bytes()).hexdigest(),
    }
    assert documents[1].metadata["time_range"] == "00:00-00:02"  # kitten.mp4, 2 s
    assert documents[2].metadata["duration"] == pytest.approx(1.5)  # portrait.mp4
    assert all("segment_index" not in d.metadata for d in documents)
    assert len(fake.bodies) == len(COMMITTED)


def test_the_prompt_and_loader_options_reach_mimo() -> None:
    path = VIDEOS / "clip.mov"
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        path,  # one source needs no list
        llm=fake.chat(model=SELF_HOSTED),
        loader=VideoLoader(fps=1, media_resolution="max"),
        prompt="List every colour you see.",
    )
    (document,) = collect(loader)
    (body,) = fake.bodies
    part, question = body["messages"][0]["content"]
    assert body["model"] == SELF_HOSTED
    assert (part["fps"], part["media_resolution"]) == (1, "max")
    assert question == {"type": "text", "text": "List every colour you see."}
    assert document.metadata["fps"] == 1
    assert document.metadata["media_resolution"] == "max"


def test_default_prompt_asks_for_an_ordered_description_with_times() -> None:
    assert "in order" in DEFAULT_PROMPT
    assert "mm:ss" in DEFAULT_PROMPT
    fake = FakeMiMo()
    collect(VideoDescriptionLoader([VIDEOS / "clip.avi"], llm=fake.chat()))
    assert fake.bodies[0]["messages"][0]["content"][1]["text"] == DEFAULT_PROMPT


def test_url_sources_are_sent_as_is_without_a_known_length() -> None:
    url = "https://example.com/videos/match.mp4"
    fake = FakeMiMo()
    (document,) = collect(VideoDescriptionLoader([url], llm=fake.chat()))
    assert fake.bodies[0]["messages"][0]["content"][0]["video_url"] == {"url": url}
    assert document.page_content == f"Described {url}."
    assert document.metadata["source"] == url
    assert document.metadata["start"] == 0.0
    assert "end" not in document.metadata
    assert "duration" not in document.metadata
    assert document.metadata["time_range"] == "00:00-end"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (130, 160, "02:10-02:40"),
        (0, 6.0, "00:00-00:06"),
        (4.0, 6.02, "00:04-00:06"),  # container jitter does not add a second
        (1.5, 3.5, "00:01-00:04"),  # rounded outwards: the printed range covers it
        (59.99, 120.0, "01:00-02:00"),
        (3725, 3790, "1:02:05-1:03:10"),
        (0, None, "00:00-end"),
    ],
)
def test_time_range_format(start: float, end: float | None, expected: str) -> None:
    assert format_time_range(start, end) == expected


def test_timestamp_format() -> None:
    assert format_timestamp(0) == "00:00"
    assert format_timestamp(130) == "02:10"
    assert format_timestamp(3600) == "1:00:00"


# ---------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------


def test_segments_with_overlap_cover_the_video_in_order() -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [VIDEOS / "traffic.mp4"],
        llm=fake.chat(),
        segment_seconds=2,
        overlap_seconds=0.5,
        max_concurrency=2,
    )
    documents = collect(loader)

    ranges = [(d.metadata["start"], d.metadata["end"]) for d in documents]
    assert ranges == [(0.0, 2.0), (1.5, 3.5), (3.0, 5.0), (4.5, 6.0)]
    assert [d.metadata["segment_index"] for d in documents] == [0, 1, 2, 3]
    assert [d.metadata["time_range"] for d in documents] == [
        "00:00-00:02",
        "00:01-00:04",
        "00:03-00:05",
        "00:04-00:06",
    ]
    assert all(d.metadata["duration"] == 6.0 for d in documents)
    # each request carried just its range (traffic.mp4 is red, yellow, green by thirds)
    assert [d.page_content for d in documents] == [
        "Described clip of 2.0 s, red.",
        "Described clip of 2.0 s, red.",
        "Described clip of 2.0 s, yellow.",
        "Described clip of 1.5 s, green.",
    ]


async def test_async_segments_of_several_videos() -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [VIDEOS / "traffic.mp4", VIDEOS / "kitten.mp4"],
        llm=fake.chat(),
        segment_seconds=2,
    )
    documents = await acollect(loader)
    assert [(Path(d.metadata["source"]).name, d.metadata["time_range"]) for d in documents] == [
        ("traffic.mp4", "00:00-00:02"),
        ("traffic.mp4", "00:02-00:04"),
        ("traffic.mp4", "00:04-00:06"),
        ("kitten.mp4", "00:00-00:02"),
    ]
    assert [d.page_content.rsplit(", ", 1)[-1] for d in documents[:3]] == [
        "red.",
        "yellow.",
        "green.",
    ]


def test_url_sources_cannot_be_cut_into_segments() -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        ["https://example.com/a.mp4"], llm=fake.chat(), segment_seconds=10
    )
    with pytest.raises(VideoValidationError, match="no server-side start/end offsets"):
        collect(loader)
    assert fake.bodies == []


# ---------------------------------------------------------------------------
# Concurrency, laziness, rate limits
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("max_concurrency", [1, 3, 5])
def test_requests_in_flight_never_exceed_max_concurrency(
    many_videos: list[Path], max_concurrency: int
) -> None:
    fake = FakeMiMo(names_of(many_videos), delay=0.03)
    loader = VideoDescriptionLoader(many_videos, llm=fake.chat(), max_concurrency=max_concurrency)
    documents = collect(loader)
    assert fake.max_in_flight == max_concurrency  # used, and never exceeded
    assert [d.page_content for d in documents] == [f"Described {p.name}." for p in many_videos]


@pytest.mark.parametrize("max_concurrency", [1, 4])
async def test_async_requests_in_flight_never_exceed_max_concurrency(
    many_videos: list[Path], max_concurrency: int
) -> None:
    fake = FakeMiMo(names_of(many_videos), delay=0.03)
    loader = VideoDescriptionLoader(many_videos, llm=fake.chat(), max_concurrency=max_concurrency)
    documents = await acollect(loader)
    assert fake.max_in_flight == max_concurrency
    assert [d.page_content for d in documents] == [f"Described {p.name}." for p in many_videos]


def test_concurrency_actually_overlaps_requests(many_videos: list[Path]) -> None:
    fake = FakeMiMo(names_of(many_videos), delay=0.1)
    began = time.perf_counter()
    collect(VideoDescriptionLoader(many_videos, llm=fake.chat(), max_concurrency=6))
    assert time.perf_counter() - began < 12 * 0.1 * 0.6  # 12 x 0.1 s one by one


def test_loading_is_lazy(many_videos: list[Path]) -> None:
    fake = FakeMiMo(names_of(many_videos), delay=0.01)
    loader = VideoDescriptionLoader(many_videos, llm=fake.chat(), max_concurrency=2)
    documents = loader.lazy_load()
    first = next(documents)
    documents.close()  # the consumer stops: nothing more is started
    assert first.page_content == "Described v00.mp4."
    assert len(fake.bodies) <= 2 * 2  # at most 2 * max_concurrency prepared ahead
    assert fake.in_flight == 0  # nothing left running after close


async def test_async_loading_is_lazy(many_videos: list[Path]) -> None:
    fake = FakeMiMo(names_of(many_videos), delay=0.01)
    loader = VideoDescriptionLoader(many_videos, llm=fake.chat(), max_concurrency=2)
    documents = loader.alazy_load()
    first = await documents.__anext__()
    await documents.aclose()
    assert first.page_content == "Described v00.mp4."
    assert len(fake.bodies) <= 2 * 2
    assert fake.in_flight == 0


class CountingLimiter(BaseRateLimiter):
    def __init__(self) -> None:
        self.sync_calls = 0
        self.async_calls = 0
        self.lock = threading.Lock()

    def acquire(self, *, blocking: bool = True) -> bool:
        assert blocking
        with self.lock:
            self.sync_calls += 1
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        assert blocking
        self.async_calls += 1
        return True


async def test_the_rate_limiter_is_acquired_once_per_request(many_videos: list[Path]) -> None:
    limiter = CountingLimiter()
    fake = FakeMiMo(names_of(many_videos))
    loader = VideoDescriptionLoader(
        many_videos[:5], llm=fake.chat(), rate_limiter=limiter, max_concurrency=3
    )
    collect(loader)
    assert limiter.sync_calls == 5
    await acollect(loader)
    assert limiter.async_calls == 5
    assert len(fake.bodies) == 10


def test_an_in_memory_rate_limiter_paces_the_requests(many_videos: list[Path]) -> None:
    limiter = InMemoryRateLimiter(
        requests_per_second=20, check_every_n_seconds=0.005, max_bucket_size=1
    )
    fake = FakeMiMo(names_of(many_videos))
    loader = VideoDescriptionLoader(
        many_videos[:6], llm=fake.chat(), rate_limiter=limiter, max_concurrency=6
    )
    began = time.perf_counter()
    assert len(collect(loader)) == 6
    assert time.perf_counter() - began >= 5 / 20 * 0.9  # 6 requests at 20 per second


def test_the_chat_model_keeps_its_own_settings(many_videos: list[Path]) -> None:
    fake = FakeMiMo(names_of(many_videos))
    llm = fake.chat()
    collect(VideoDescriptionLoader(many_videos[:2], llm=llm, rate_limiter=CountingLimiter()))
    assert llm.rate_limiter is None


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.fixture
def mixed_sources(tmp_path: Path) -> list[Path]:
    """good, not a video, missing, good, refused by MiMo (400), good."""
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("these are notes, not a video")
    refused = make_video(tmp_path / "refused.mp4", duration=0.3, colors=["blue"])
    return [
        VIDEOS / "clip.mov",
        not_video,
        tmp_path / "missing.mp4",
        VIDEOS / "clip.avi",
        refused,
        VIDEOS / "portrait.mp4",
    ]


def mixed_fake(sources: list[Path]) -> FakeMiMo:
    readable = [s for s in sources if s.name not in ("notes.mp4", "missing.mp4")]
    return FakeMiMo(names_of(readable), status={"refused.mp4": 400})


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_skip_logs_failures_and_yields_every_other_document(
    mixed_sources: list[Path], mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = mixed_fake(mixed_sources)
    loader = VideoDescriptionLoader(
        mixed_sources, llm=fake.chat(), on_error="skip", max_concurrency=3
    )
    with caplog.at_level(logging.WARNING, logger="langchain_mimo_video"):
        documents = collect(loader) if mode == "sync" else await acollect(loader)

    assert [Path(d.metadata["source"]).name for d in documents] == [
        "clip.mov",
        "clip.avi",
        "portrait.mp4",
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.name for r in warnings] == ["langchain_mimo_video.document_loaders"] * 3
    text = "\n".join(r.getMessage() for r in warnings)
    assert "notes.mp4: VideoSourceError" in text
    assert "missing.mp4: VideoSourceError" in text
    assert re.search(r"refused\.mp4: \w*BadRequestError", text)  # openai's or a subclass
    assert len(fake.bodies) == 4  # the two unreadable files were never sent


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_raise_stops_at_the_failure_after_every_earlier_document(
    mixed_sources: list[Path], mode: str
) -> None:
    fake = mixed_fake(mixed_sources)
    loader = VideoDescriptionLoader(mixed_sources, llm=fake.chat(), max_concurrency=3)
    assert loader.on_error == "raise"  # the default
    yielded: list[Document] = []
    with pytest.raises(VideoSourceError) as caught:
        if mode == "sync":
            yielded.extend(loader.lazy_load())
        else:
            async for document in loader.alazy_load():
                yielded.append(document)
    assert [Path(d.metadata["source"]).name for d in yielded] == ["clip.mov"]
    assert "notes.mp4" in str(caught.value)
    if sys.version_info >= (3, 11):
        assert any("notes.mp4" in note for note in caught.value.__notes__)
    assert fake.in_flight == 0


def test_a_refused_segment_costs_only_that_segment(caplog: pytest.LogCaptureFixture) -> None:
    class RefuseYellow(FakeMiMo):
        def _response(self, name: str, question: dict[str, Any]) -> httpx2.Response:
            if name.endswith("yellow"):
                return httpx2.Response(500, json=error_body(500, "boom", "yellow"))
            return super()._response(name, question)

    fake = RefuseYellow()
    loader = VideoDescriptionLoader(
        [VIDEOS / "traffic.mp4"], llm=fake.chat(), segment_seconds=2, on_error="skip"
    )
    with caplog.at_level(logging.WARNING, logger="langchain_mimo_video"):
        documents = collect(loader)
    assert [d.metadata["time_range"] for d in documents] == ["00:00-00:02", "00:04-00:06"]
    assert re.search(r"traffic\.mp4 00:02-00:04: \w*(InternalServer|Server)Error", caplog.text)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, openai.AuthenticationError),
        (402, openai.APIStatusError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
    ],
)
def test_errors_that_would_fail_every_video_are_raised_even_when_skipping(
    status: int, error: type[Exception]
) -> None:
    paths = committed()
    fake = FakeMiMo(names_of(paths), status={name: status for name in COMMITTED})
    loader = VideoDescriptionLoader(paths, llm=fake.chat(), on_error="skip", max_concurrency=1)
    with pytest.raises(error):
        collect(loader)
    assert len(fake.bodies) <= 2  # stopped at once, not tried on every video


def test_no_api_key_fails_before_anything_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    loader = VideoDescriptionLoader([VIDEOS / "clip.mov"], on_error="skip")
    assert loader.llm is None  # the default chat model is made on first use
    with pytest.raises(MissingAPIKeyError):
        collect(loader)
    assert isinstance(loader.llm, ChatMiMo)


async def test_async_no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError):
        await acollect(VideoDescriptionLoader([VIDEOS / "clip.mov"], on_error="skip"))


def test_an_empty_description_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeMiMo(content="")
    loader = VideoDescriptionLoader([VIDEOS / "clip.mov"], llm=fake.chat())
    with pytest.raises(EmptyDescriptionError, match="finish_reason='length'"):
        collect(loader)
    skipping = VideoDescriptionLoader([VIDEOS / "clip.mov"], llm=fake.chat(), on_error="skip")
    with caplog.at_level(logging.WARNING, logger="langchain_mimo_video"):
        assert collect(skipping) == []
    assert "EmptyDescriptionError" in caplog.text


def test_nothing_is_duplicated_or_lost(many_videos: list[Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 64)
    sources = [*many_videos[:6], broken, *many_videos[6:]]
    delays = {p.name: 0.002 * ((index * 7) % 5) for index, p in enumerate(many_videos)}
    fake = FakeMiMo(names_of(many_videos), delays=delays)
    documents = collect(
        VideoDescriptionLoader(sources, llm=fake.chat(), on_error="skip", max_concurrency=4)
    )
    assert [d.page_content for d in documents] == [f"Described {p.name}." for p in many_videos]
    assert len(fake.bodies) == len(many_videos)  # each video sent exactly once


# ---------------------------------------------------------------------------
# Progress bar
# ---------------------------------------------------------------------------


def test_progress_bar_off_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeMiMo()
    collect(VideoDescriptionLoader([VIDEOS / "clip.mov", VIDEOS / "clip.avi"], llm=fake.chat()))
    assert "Describing videos" not in capsys.readouterr().err


def test_progress_bar_counts_videos(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [VIDEOS / "clip.mov", VIDEOS / "clip.avi"], llm=fake.chat(), show_progress=True
    )
    collect(loader)
    err = capsys.readouterr().err
    assert "Describing videos" in err
    assert "2/2" in err


async def test_progress_bar_counts_segments(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [VIDEOS / "traffic.mp4"], llm=fake.chat(), segment_seconds=2, show_progress=True
    )
    await acollect(loader)
    assert "3/3" in capsys.readouterr().err


def test_progress_without_tqdm_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        VideoDescriptionLoader([VIDEOS / "clip.mov"], show_progress=True)
    VideoDescriptionLoader([VIDEOS / "clip.mov"])  # fine without a progress bar


# ---------------------------------------------------------------------------
# Sources and arguments
# ---------------------------------------------------------------------------


def test_from_directory_finds_videos_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z.mp4", "a.MOV", "c.avi", "notes.txt", "b/y.wmv", "d.mkv"):
        (tmp_path / name).write_bytes(b"")
    names = [
        Path(s).relative_to(tmp_path).as_posix()
        for s in VideoDescriptionLoader.from_directory(tmp_path).sources
    ]
    assert names == ["a.MOV", "b/y.wmv", "b/z.mp4", "c.avi"]
    top_mp4 = VideoDescriptionLoader.from_directory(tmp_path, glob="*.avi")
    assert [Path(s).name for s in top_mp4.sources] == ["c.avi"]
    everything = VideoDescriptionLoader.from_directory(tmp_path, glob="*", suffixes=None)
    assert [Path(s).name for s in everything.sources] == ["a.MOV", "c.avi", "d.mkv", "notes.txt"]
    loader = VideoDescriptionLoader.from_directory(tmp_path, max_concurrency=2)
    assert loader.max_concurrency == 2


def test_from_directory_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(VideoSourceError, match="not a folder"):
        VideoDescriptionLoader.from_directory(tmp_path / "nowhere")


def test_an_empty_source_list_yields_nothing() -> None:
    fake = FakeMiMo()
    assert collect(VideoDescriptionLoader([], llm=fake.chat())) == []
    assert fake.bodies == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_concurrency": 0}, ValueError, "max_concurrency"),
        ({"max_concurrency": 2.5}, ValueError, "max_concurrency"),
        ({"on_error": "ignore"}, ValueError, "on_error"),
        ({"overlap_seconds": 1}, VideoValidationError, "needs segment_seconds"),
        ({"segment_seconds": 0}, VideoValidationError, "segment_seconds"),
        ({"segment_seconds": 5, "overlap_seconds": 5}, VideoValidationError, "overlap"),
        ({"prompt": "  "}, ValueError, "prompt"),
    ],
)
def test_bad_arguments_fail_at_construction(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        VideoDescriptionLoader(["a.mp4"], **kwargs)


def test_sources_must_be_urls_or_paths() -> None:
    with pytest.raises(TypeError, match="URLs and file paths"):
        VideoDescriptionLoader(b"\x00\x00")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="URL or a file path"):
        VideoDescriptionLoader([123])  # type: ignore[list-item]
    with pytest.raises(VideoValidationError, match="not data: URLs"):
        VideoDescriptionLoader(["data:video/mp4;base64,AAAA"])


def test_repr_and_load() -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [VIDEOS / "clip.mov"], llm=fake.chat(), segment_seconds=30, overlap_seconds=5
    )
    assert repr(loader) == (
        "VideoDescriptionLoader(1 sources, segment_seconds=30, overlap_seconds=5, "
        "max_concurrency=4, on_error='raise')"
    )
    assert [d.metadata["time_range"] for d in loader.load()] == ["00:00-00:01"]


async def test_aload() -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader([VIDEOS / "clip.mov", VIDEOS / "clip.avi"], llm=fake.chat())
    documents = await loader.aload()
    assert len(documents) == 2
