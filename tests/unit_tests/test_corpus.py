"""Every operation on every video of the real-world corpus (tests/corpus.py).

For each corpus video: ``probe``, the request estimate, ``VideoLoader.load`` with fit off,
on and ``"always"``, a clip whose ends fall between frames, ``split`` with overlap, and
the agent tool. Each either works or raises one of the package's documented errors
(:data:`EXPECTED_ERRORS` lists the ones that are expected, by video and operation).
A clip is exact to one frame and keeps its sound; a rotated video comes out upright with
the token estimate of its upright size; probe, estimate and clip agree on durations.
"""

from __future__ import annotations

import base64
import io
import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from langchain_core.messages import HumanMessage, ToolMessage

from langchain_mimo_video import ChatMiMo, MiMoError, VideoLoader, WatchVideoTool
from langchain_mimo_video.media import VideoInfo, probe
from langchain_mimo_video.tokens import explain_video_tokens
from tests.corpus import Spec, available, build, frame_times
from tests.unit_tests.fake_transport import FakeMiMo, completion

KEY = "sk-unit-test-key"
ANSWER = "Colours move across the frame."
SPECS = available()
DOCUMENTED = {"mp4", "mov", "avi", "wmv"}

#: (video name, operation) -> the documented error it is expected to raise. Empty: every
#: corpus video goes through every operation.
EXPECTED_ERRORS: dict[tuple[str, str], type[MiMoError]] = {}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The corpus, written once per test session."""
    folder = tmp_path_factory.mktemp("corpus")
    return {spec.name: build(spec, folder) for spec in SPECS}


def _sent(part: Any) -> bytes:
    url = part["video_url"]["url"]
    assert url.startswith("data:video/")
    return base64.b64decode(url.split(",", 1)[1])


def _upright(spec: Spec) -> tuple[int, int]:
    turned = spec.rotation in (90, 270)
    return (spec.height, spec.width) if turned else (spec.width, spec.height)


def _attempt(spec: Spec, operation: str, run: Any) -> Any:
    """Run ``run()``; an error must be a documented one, and the expected one."""
    expected = EXPECTED_ERRORS.get((spec.name, operation))
    if expected is None:
        return run()
    with pytest.raises(expected):
        run()
    return None


def _frames(data: bytes | Path) -> list[tuple[float, np.ndarray]]:
    """(seconds after the file's first timestamp, grey pixels) of every frame.

    Read with PyAV directly, not with the code under test. Times count from the
    container's start, as ``start``/``end`` do (audio may start before the video).
    """
    file: Any = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(file) as container:
        origin = (container.start_time or 0) / 1e6
        frames = [
            (float(frame.time) - origin, frame.to_ndarray(format="gray").astype(np.float32))
            for frame in container.decode(video=0)
            if frame.time is not None
        ]
    return sorted(frames, key=lambda f: f[0])


def _nearest_source_frame(source: list[tuple[float, np.ndarray]], picture: np.ndarray) -> float:
    """Time of the source frame that looks most like ``picture`` (resized to it)."""
    height, width = picture.shape
    best, best_time = np.inf, -1.0
    for time, pixels in source:
        rows = np.linspace(0, pixels.shape[0] - 1, height).astype(int)
        cols = np.linspace(0, pixels.shape[1] - 1, width).astype(int)
        difference = float(np.abs(pixels[np.ix_(rows, cols)] - picture).mean())
        if difference < best:
            best, best_time = difference, time
    return best_time


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_probe_and_estimate(corpus: dict[str, Path], spec: Spec) -> None:
    path = corpus[spec.name]
    info = _attempt(spec, "probe", lambda: probe(path))
    if info is None:
        return
    assert (info.width, info.height) == _upright(spec)
    assert info.rotation == spec.rotation
    assert info.duration == pytest.approx(spec.duration, abs=0.06)
    assert info.has_audio is bool(spec.audio)
    if not spec.vfr:
        assert info.exact_frame_rate == spec.rate
    part = VideoLoader(fit=False).load(path)
    (video,) = ChatMiMo(api_key=KEY).estimate_request([HumanMessage(content=[part])]).videos
    sent = probe(_sent(part))
    assert (video.width, video.height) == (sent.width, sent.height) == _upright(spec)
    assert video.duration == sent.duration
    assert sent.duration == pytest.approx(info.duration, abs=0.05)
    if spec.container in DOCUMENTED:
        assert _sent(part) == path.read_bytes()  # never touched
    else:
        assert sent.container == "mp4"  # converted


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_fit_keeps_what_mimo_sees(corpus: dict[str, Path], spec: Spec) -> None:
    path = corpus[spec.name]
    info = probe(path)
    part = _attempt(spec, "fit", lambda: VideoLoader(fit="always", fps=2).load(path))
    if part is None:
        return
    fitted = probe(_sent(part))
    assert fitted.rotation == 0  # turned upright, not flagged
    before = explain_video_tokens(info.duration, info.width, info.height, 2, "default")
    after = explain_video_tokens(fitted.duration, fitted.width, fitted.height, 2, "default")
    assert (before.total, before.frame_width, before.frame_height) == (
        after.total,
        fitted.width,
        fitted.height,
    )
    if spec.rotation:
        _assert_upright(_sent(part), spec)


def _assert_upright(data: bytes, spec: Spec) -> None:
    """The stored frames have a white top-left quarter; upright, it moves with the turn."""
    pixels = _frames(data)[0][1]
    height, width = pixels.shape
    quarters = {
        "top-left": pixels[: height // 2, : width // 2].mean(),
        "top-right": pixels[: height // 2, width // 2 :].mean(),
        "bottom-left": pixels[height // 2 :, : width // 2].mean(),
        "bottom-right": pixels[height // 2 :, width // 2 :].mean(),
    }
    # Counter-clockwise turns (the display matrix's direction).
    white = {0: "top-left", 90: "bottom-left", 180: "bottom-right", 270: "top-right"}
    assert max(quarters, key=lambda q: quarters[q]) == white[spec.rotation]


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
@pytest.mark.parametrize("fit", [True, False])
def test_clip_between_frames_is_exact(corpus: dict[str, Path], spec: Spec, fit: bool) -> None:
    path = corpus[spec.name]
    info = probe(path)
    times = [float(t) for t in frame_times(spec)]
    # From 30% into the second frame's interval to 40% into the second-to-last one.
    start = times[1] + 0.3 * (times[2] - times[1])
    end = times[-2] + 0.4 * (times[-1] - times[-2])
    part = _attempt(
        spec,
        "clip",
        lambda: VideoLoader(fit=fit, fps=2).load(path, start=start, end=end),
    )
    if part is None:
        return
    clip = probe(_sent(part))
    assert clip.duration == pytest.approx(end - start, abs=1e-3)
    assert clip.has_audio is bool(spec.audio)
    if spec.audio:
        with av.open(io.BytesIO(_sent(part))) as container:
            audio = container.streams.audio[0]
            assert audio.duration is not None
            seconds = float(audio.duration * audio.time_base)
        assert seconds == pytest.approx(end - start, abs=0.05)  # padded or cut to the video
    if not spec.rotation:
        # The clip's first frame is the source frame shown at ``start``: exact to a frame.
        source = _frames(path)
        first = _frames(_sent(part))[0][1]
        shown = max((t for t, _ in source if t <= start + 1e-9), default=source[0][0])
        nearest = min((t for t, _ in source), key=lambda t: abs(t - start))
        found = _nearest_source_frame(source, first)
        assert min(abs(found - shown), abs(found - nearest)) < 1e-6, (found, shown, nearest)
    assert info.duration >= end


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_split_with_overlap(corpus: dict[str, Path], spec: Spec) -> None:
    path = corpus[spec.name]
    info = probe(path)
    segment, overlap = info.duration / 2, info.duration / 8
    segments = _attempt(spec, "split", lambda: VideoLoader(fps=4).split(path, segment, overlap))
    if segments is None:
        return
    assert segments[0].start == 0.0
    assert segments[-1].end == info.duration
    for before, after in itertools.pairwise(segments):
        assert after.start == pytest.approx(before.end - overlap)
    for piece in segments:
        assert probe(_sent(piece.part)).duration == pytest.approx(piece.end - piece.start, abs=1e-3)


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_the_tool_watches_it(corpus: dict[str, Path], spec: Spec) -> None:
    path = corpus[spec.name]
    fake = FakeMiMo().reply_json(completion(ANSWER))
    tool = WatchVideoTool(
        llm=ChatMiMo(api_key=KEY, max_retries=0, **fake.clients()), allowed_dirs=[path.parent]
    )
    start, end = probe(path).duration * 0.2, probe(path).duration * 0.7
    args = {"video": path.name, "question": "What moves?", "start": start, "end": end}
    call = {"type": "tool_call", "id": "call_1", "name": "watch_video", "args": args}
    result = tool.invoke(call)
    assert isinstance(result, ToolMessage)
    if (spec.name, "tool") in EXPECTED_ERRORS:
        assert result.status == "error"
        return
    assert result.status != "error", result.content
    assert result.content == ANSWER
    (sent,) = [p for p in fake.last.body["messages"][-1]["content"] if p["type"] == "video_url"]
    assert probe(_sent(sent)).duration == pytest.approx(end - start, abs=1e-3)


def test_the_corpus_covers_the_issue() -> None:
    """The shapes issue 9 lists are all in the corpus (those this PyAV can encode)."""
    rates = {spec.rate for spec in SPECS if not spec.vfr}
    assert {Fraction(30000, 1001), Fraction(24000, 1001), Fraction(60000, 1001)} <= rates
    assert {Fraction(25), Fraction(50), Fraction(25, 2)} <= rates
    assert any(spec.vfr for spec in SPECS)
    assert {0, 90, 180, 270} <= {spec.rotation for spec in SPECS}
    assert {"mp4", "mov", "avi", "wmv", "mkv", "webm", "ts", "3gp"} <= {
        spec.container for spec in SPECS
    }
    layouts = {track.layout for spec in SPECS for track in spec.audio}
    assert {"mono", "5.1"} <= layouts
    assert {44100, 48000} <= {track.rate for spec in SPECS for track in spec.audio}
    assert any(len(spec.audio) == 2 for spec in SPECS)
    assert any(spec.start > 0 for spec in SPECS)
    assert any((spec.width, spec.height) == (1079, 1919) for spec in SPECS)
    codecs = {spec.codec for spec in SPECS}
    assert {"libx264", "mpeg4"} <= codecs
    for codec in ("libx265", "libvpx-vp9"):  # HEVC and VP9, where this PyAV encodes them
        assert codec in codecs or codec not in av.codecs_available
    av1 = {"libsvtav1", "libaom-av1"}
    assert av1 & codecs or not av1 & set(av.codecs_available)


def test_info_is_consistent(corpus: dict[str, Path]) -> None:
    """Probing a path, its bytes and a file object gives the same answer."""
    for spec in SPECS:
        path = corpus[spec.name]
        from_path: VideoInfo = probe(path)
        assert probe(path.read_bytes()).duration == from_path.duration
        with path.open("rb") as file:
            assert probe(file).exact_frame_rate == from_path.exact_frame_rate
