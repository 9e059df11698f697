"""Segments at scene cuts: PySceneDetect on generated videos with hard cuts at known times."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from langchain_mimo_video.description_cache import SQLiteDescriptionCache
from langchain_mimo_video.document_loaders import VideoDescriptionLoader
from langchain_mimo_video.errors import MediaError, VideoValidationError
from langchain_mimo_video.media import scenes
from langchain_mimo_video.media.scenes import detect_scene_cuts, plan_scene_segments
from tests.unit_tests.test_document_loaders import FakeMiMo
from tests.videos import make_video

pytest.importorskip("scenedetect")

FPS = 25


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s at 25 fps: red 0-2 s, green 2-3 s, red 3-6 s (one-second colour slices)."""
    folder = tmp_path_factory.mktemp("scenes")
    colours = ["red", "red", "green", "red", "red", "red"]
    return make_video(
        folder / "cuts.mp4", duration=6.0, fps=FPS, width=160, height=120, colors=colours
    )


def test_cuts_land_within_one_frame_of_the_known_cuts(tmp_path: Path) -> None:
    colours = ["red", "blue", "blue", "blue", "green", "white", "white", "black"]
    # eight 0.75 s slices: cuts at 0.75, 3.0, 3.75 and 5.25 s
    video = make_video(
        tmp_path / "v.mp4", duration=6.0, fps=FPS, width=160, height=120, colors=colours
    )
    cuts = detect_scene_cuts(video, min_scene_seconds=0.2)
    assert len(cuts) == 4
    for found, known in zip(cuts, [0.75, 3.0, 3.75, 5.25], strict=True):
        assert abs(found - known) <= 1 / FPS + 1e-6


def test_plan_merges_short_shots_and_splits_long_ones() -> None:
    assert plan_scene_segments(100, [0.4, 30, 31, 95], 2, 40) == [
        (0.0, 30.0),
        (30.0, 62.5),
        (62.5, 95.0),
        (95.0, 100.0),
    ]
    # the last shot is too short: it joins the one before
    assert plan_scene_segments(10, [4, 9.5], 1, 60) == [(0.0, 4.0), (4.0, 10.0)]
    # no cut: one segment, or equal parts within the maximum
    assert plan_scene_segments(10, [], 1, 60) == [(0.0, 10.0)]
    assert plan_scene_segments(9, [], 1, 4) == [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0)]
    # cuts out of range are ignored; duplicates count once
    assert plan_scene_segments(10, [-1, 5, 5, 10, 12], 1, 60) == [(0.0, 5.0), (5.0, 10.0)]
    # a video shorter than the minimum is one short segment
    assert plan_scene_segments(0.5, [0.2], 2, 60) == [(0.0, 0.5)]


@pytest.mark.parametrize(
    "cuts", [[1.0, 2.0, 7.5, 8.0, 8.2], [0.1 * k for k in range(1, 100)], [3.3]]
)
def test_plans_cover_the_video_within_the_limits(cuts: list[float]) -> None:
    segments = plan_scene_segments(10.0, cuts, 1.0, 3.0)
    assert segments[0][0] == 0 and segments[-1][1] == 10.0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(segments))  # no gaps
    assert all(1.0 - 1e-9 <= end - start <= 3.0 + 1e-9 for start, end in segments)


@pytest.mark.parametrize(
    ("args", "match"),
    [((10, [], 5, 2), "min_segment_seconds"), ((10, [], 1, 0), "max_segment_seconds")],
)
def test_bad_plan_arguments(args: tuple[float, list[float], float, float], match: str) -> None:
    with pytest.raises(VideoValidationError, match=match):
        plan_scene_segments(*args)


def test_the_loader_describes_one_shot_per_segment(cut_video: Path) -> None:
    fake = FakeMiMo()
    loader = VideoDescriptionLoader(
        [cut_video], llm=fake.chat(), segment_by="scenes", min_segment_seconds=0.5
    )
    documents = loader.load()
    bounds = [(d.metadata["start"], d.metadata["end"]) for d in documents]
    expected = [(0.0, 2.0), (2.0, 3.0), (3.0, 6.0)]
    for (start, end), (known_start, known_end) in zip(bounds, expected, strict=True):
        assert abs(start - known_start) <= 1 / FPS and abs(end - known_end) <= 1 / FPS
    assert [d.page_content.rsplit(", ", 1)[1] for d in documents] == ["red.", "green.", "red."]
    assert [d.metadata["segment_index"] for d in documents] == [0, 1, 2]


def test_long_shots_are_split_and_fixed_windows_stay_the_default(cut_video: Path) -> None:
    fake = FakeMiMo()
    split = VideoDescriptionLoader(
        [cut_video],
        llm=fake.chat(),
        segment_by="scenes",
        min_segment_seconds=0.5,
        max_segment_seconds=1.5,
    ).load()
    lengths = [d.metadata["end"] - d.metadata["start"] for d in split]
    assert len(split) == 5 and all(length <= 1.5 + 1e-6 for length in lengths)
    fixed = VideoDescriptionLoader([cut_video], llm=fake.chat(), segment_seconds=2).load()
    assert [d.metadata["time_range"] for d in fixed] == [
        "00:00-00:02",
        "00:02-00:04",
        "00:04-00:06",
    ]


def test_cuts_are_found_once_per_content(
    cut_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    fake = FakeMiMo()
    options = {"segment_by": "scenes", "min_segment_seconds": 0.5, "cache": cache}
    first = VideoDescriptionLoader([cut_video], llm=fake.chat(), **options).load()

    def no_detection(*args: object, **kwargs: object) -> list[float]:
        raise AssertionError("scene detection ran again")

    monkeypatch.setattr(scenes, "detect_scene_cuts", no_detection)
    second = VideoDescriptionLoader([cut_video], llm=fake.chat(), **options).load()
    assert second == first and len(fake.bodies) == 3


def test_scene_arguments_are_checked_at_construction() -> None:
    with pytest.raises(VideoValidationError, match="max_segment_seconds instead"):
        VideoDescriptionLoader(["a.mp4"], segment_by="scenes", segment_seconds=10)
    with pytest.raises(VideoValidationError, match="segment_by must be"):
        VideoDescriptionLoader(["a.mp4"], segment_by="shots")  # type: ignore[arg-type]
    with pytest.raises(VideoValidationError, match="min_segment_seconds"):
        VideoDescriptionLoader(
            ["a.mp4"], segment_by="scenes", min_segment_seconds=9, max_segment_seconds=3
        )


def test_without_pyscenedetect_the_error_says_what_to_install(
    cut_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "scenedetect", None)
    with pytest.raises(MediaError, match=r"langchain-mimo-video\[scenes\]"):
        detect_scene_cuts(cut_video)


def test_the_scene_threshold_decides_the_cuts(cut_video: Path) -> None:
    # red to green changes hue, saturation and lightness by about 60 on average
    assert detect_scene_cuts(cut_video, threshold=27) == [2.0, 3.0]
    assert detect_scene_cuts(cut_video, threshold=50) == []
    fake = FakeMiMo()
    options: dict[str, Any] = {"segment_by": "scenes", "min_segment_seconds": 0.5}
    default = VideoDescriptionLoader([cut_video], llm=fake.chat(), **options).load()
    higher = VideoDescriptionLoader(
        [cut_video], llm=fake.chat(), scene_threshold=50, **options
    ).load()
    assert len(default) == 3
    assert [(d.metadata["start"], d.metadata["end"]) for d in higher] == [(0.0, 6.0)]


def test_another_threshold_finds_cuts_again_and_the_same_one_reuses_them(
    cut_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []
    real = scenes.detect_scene_cuts

    def counted(path: Any, *, threshold: float, **kwargs: Any) -> list[float]:
        calls.append(threshold)
        return real(path, threshold=threshold, **kwargs)

    monkeypatch.setattr(scenes, "detect_scene_cuts", counted)
    cache = SQLiteDescriptionCache(tmp_path / "c.sqlite")
    fake = FakeMiMo()

    def run(**options: Any) -> list[tuple[float, float]]:
        loader = VideoDescriptionLoader(
            [cut_video],
            llm=fake.chat(),
            segment_by="scenes",
            min_segment_seconds=0.5,
            cache=cache,
            **options,
        )
        return [(d.metadata["start"], d.metadata["end"]) for d in loader.load()]

    assert len(run()) == 3
    assert run(scene_threshold=50) == [(0.0, 6.0)]  # not the cached cuts of the default
    assert calls == [27.0, 50.0]
    assert run(scene_threshold=50) == [(0.0, 6.0)]
    assert len(run(scene_threshold=27)) == 3  # 27 is the default: its cuts are cached
    assert calls == [27.0, 50.0]


@pytest.mark.parametrize("bad", [0, -1, 255.5, 1e9, math.nan, math.inf, "30", True, None])
def test_a_bad_scene_threshold_is_refused_before_any_work(bad: Any, tmp_path: Path) -> None:
    # Opening the missing file would raise VideoSourceError: the check comes first.
    missing = tmp_path / "missing.mp4"
    with pytest.raises(VideoValidationError, match=r"above 0 and at most 255, got"):
        scenes.check_scene_threshold(bad)
    with pytest.raises(VideoValidationError, match=r"above 0 and at most 255"):
        detect_scene_cuts(missing, threshold=bad)
    if bad is not None:  # None is the loader's "default threshold"
        with pytest.raises(VideoValidationError, match=r"above 0 and at most 255"):
            VideoDescriptionLoader([missing], segment_by="scenes", scene_threshold=bad)


def test_a_scene_threshold_needs_scenes() -> None:
    with pytest.raises(
        VideoValidationError, match='scene_threshold applies to segment_by="scenes"'
    ):
        VideoDescriptionLoader(["a.mp4"], segment_seconds=10, scene_threshold=30)
    with pytest.raises(VideoValidationError, match="scene_threshold applies"):
        VideoDescriptionLoader(["a.mp4"], scene_threshold=30)
    loader = VideoDescriptionLoader(["a.mp4"], segment_by="scenes", scene_threshold=30)
    assert loader.planner.scene_threshold == 30.0
    assert "scene_threshold=30" in repr(loader)
    assert "scene_threshold" not in repr(VideoDescriptionLoader(["a.mp4"], segment_by="scenes"))


def test_the_ray_estimate_takes_the_threshold_too(cut_video: Path) -> None:
    from langchain_mimo_video import ChatMiMo
    from langchain_mimo_video.ray import estimate_videos

    options: dict[str, Any] = {"segment_by": "scenes", "min_segment_seconds": 0.5}
    llm = ChatMiMo(api_key=None)
    default = estimate_videos([cut_video], llm=llm, **options)
    higher = estimate_videos([cut_video], llm=llm, scene_threshold=50, **options)
    assert (default.segments, higher.segments) == (3, 1)
    with pytest.raises(VideoValidationError, match="at most 255"):
        estimate_videos([cut_video], llm=llm, scene_threshold=300, **options)
