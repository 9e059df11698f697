"""Re-encodes are reproducible: the same input gives the same bytes, run after run.

Caches keyed on a clip's bytes (a description cache, LangChain's LLM cache over a data
URL) only hit when fit, clip and split write identical files every time. x264's output
depends on its thread count, so the encoder uses a fixed one rather than one per core.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from langchain_mimo_video.media import clip_video, fit_video, split_video
from langchain_mimo_video.media._encoder import DEFAULT_CRF, ENCODER_THREADS
from tests.videos import make_video


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of moving gradient with sound: enough frames for B-frames and threads."""
    root = tmp_path_factory.mktemp("determinism")
    return make_video(root / "moving.mp4", width=320, height=240, duration=3.0, fps=25, audio=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _x264_settings(path: Path) -> bytes:
    data = path.read_bytes()
    start = data.index(b"x264 - core")
    return data[start : data.index(b"\x00", start)]


def test_fit_writes_the_same_bytes_twice(moving: Path, tmp_path: Path) -> None:
    first = fit_video(moving, force=True, output=tmp_path / "a.mp4")
    second = fit_video(moving, force=True, output=tmp_path / "b.mp4")
    assert first.changed and second.changed
    assert _digest(tmp_path / "a.mp4") == _digest(tmp_path / "b.mp4")


def test_clip_between_keyframes_writes_the_same_bytes_twice(moving: Path, tmp_path: Path) -> None:
    # Starting mid-GOP: decoding restarts at the keyframe before, on every run.
    one = clip_video(moving, 1.23, 2.61, output=tmp_path / "a.mp4")
    two = clip_video(moving, 1.23, 2.61, output=tmp_path / "b.mp4")
    assert _digest(one) == _digest(two)


def test_split_segments_are_the_same_bytes_twice(moving: Path, tmp_path: Path) -> None:
    first = split_video(moving, 1.0, 0.25, output_dir=tmp_path / "a")
    second = split_video(moving, 1.0, 0.25, output_dir=tmp_path / "b")
    assert len(first) == len(second) >= 3
    assert [_digest(s.path) for s in first] == [_digest(s.path) for s in second]


def test_encoder_runs_the_fixed_thread_count_and_default_crf(moving: Path, tmp_path: Path) -> None:
    # x264 records its settings in the stream. "threads=0" (one per core) would make the
    # bytes depend on the machine; the thread count must be the fixed one.
    fit_video(moving, force=True, output=tmp_path / "f.mp4")
    settings = _x264_settings(tmp_path / "f.mp4").split()
    assert f"threads={ENCODER_THREADS}".encode() in settings
    assert f"crf={DEFAULT_CRF}.0".encode() in settings
    assert b"rc=crf" in settings
