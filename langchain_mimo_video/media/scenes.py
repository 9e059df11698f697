"""Shot boundaries with PySceneDetect (its PyAV backend), and segments that follow them.

``pip install "langchain-mimo-video[scenes]"``. :func:`detect_scene_cuts` finds the times
of hard cuts; :func:`plan_scene_segments` turns them into segments no shorter than
``min_seconds`` and no longer than ``max_seconds`` (pure arithmetic, no PyAV);
:func:`check_scene_threshold` checks a ``threshold`` before any video is opened.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
from collections.abc import Sequence
from typing import Any, Final

from langchain_mimo_video.errors import MediaError, VideoSourceError, VideoValidationError

__all__ = [
    "DEFAULT_SCENE_THRESHOLD",
    "SCENE_THRESHOLD_RANGE",
    "check_scene_threshold",
    "detect_scene_cuts",
    "plan_scene_segments",
]

#: ``ContentDetector``'s default: the mean change of a frame's hue, saturation and
#: lightness (each 0-255) from the frame before that counts as a cut.
DEFAULT_SCENE_THRESHOLD: Final = 27.0
#: ``(lowest, highest)``: above 0 (every frame would be a cut) and at most 255 (the
#: largest change there is).
SCENE_THRESHOLD_RANGE: Final = (0.0, 255.0)


def check_scene_threshold(threshold: Any) -> float:
    """A scene-cut threshold, checked: a number above 0 and at most 255.

    Args:
        threshold: the value given (``scene_threshold=``, ``--scene-threshold``).

    Returns:
        The threshold as a float.

    Raises:
        VideoValidationError: if it is not a number in ``(0, 255]``.

    Example:
        .. code-block:: python

            check_scene_threshold(40)  # 40.0
    """
    low, high = SCENE_THRESHOLD_RANGE
    number = (
        float(threshold)
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
        else math.nan
    )
    if not (low < number <= high):
        raise VideoValidationError(
            f"scene_threshold must be a number above {low:g} and at most {high:g}, got "
            f"{threshold!r}: it is the mean change of hue, saturation and lightness (0-255) "
            f"between frames that counts as a cut; the default is {DEFAULT_SCENE_THRESHOLD:g}, "
            "lower finds more cuts, higher fewer."
        )
    return number


def _scenedetect() -> Any:
    try:
        return importlib.import_module("scenedetect")
    except ImportError:
        raise MediaError(
            'segment_by="scenes" needs PySceneDetect: pip install "langchain-mimo-video[scenes]"'
        ) from None


def detect_scene_cuts(
    path: str | os.PathLike[str],
    *,
    threshold: float = DEFAULT_SCENE_THRESHOLD,
    min_scene_seconds: float = 0.5,
) -> list[float]:
    """The times of the shot boundaries (hard cuts) in a local video.

    Uses PySceneDetect's ``ContentDetector`` on frames decoded by its PyAV backend. A cut
    is reported at the presentation time of the first frame of the new shot.

    Args:
        path: the video file.
        threshold: ``ContentDetector``'s threshold, in ``(0, 255]`` (higher: fewer cuts).
        min_scene_seconds: shots shorter than this are not cut off on their own.

    Returns:
        Cut times in seconds, ascending, without 0.

    Raises:
        VideoValidationError: if ``threshold`` is not in ``(0, 255]``.
        MediaError: if PySceneDetect is not installed, or decoding fails.
        VideoSourceError: if the file cannot be opened as a video.

    Example:
        .. code-block:: python

            detect_scene_cuts("match.mp4")  # [12.48, 40.0, 71.2]
    """
    threshold = check_scene_threshold(threshold)
    scenedetect = _scenedetect()
    backend = importlib.import_module("scenedetect.backends.pyav")
    try:
        video = backend.VideoStreamAv(os.fspath(path), suppress_output=True)
    except Exception as error:
        raise VideoSourceError(f"PySceneDetect cannot open {os.fspath(path)}: {error}") from None
    frames = max(1, round(min_scene_seconds * float(video.frame_rate)))
    manager = scenedetect.SceneManager()
    manager.add_detector(scenedetect.ContentDetector(threshold=threshold, min_scene_len=frames))
    try:
        manager.detect_scenes(video)
    except Exception as error:
        raise MediaError(f"Scene detection failed on {os.fspath(path)}: {error}") from error
    scenes = manager.get_scene_list()
    return [float(begin.seconds) for begin, _ in scenes[1:]]


def plan_scene_segments(
    duration: float,
    cuts: Sequence[float],
    min_seconds: float = 2.0,
    max_seconds: float = 60.0,
) -> list[tuple[float, float]]:
    """Segments that start and end at cuts, within ``[min_seconds, max_seconds]``.

    Shots shorter than ``min_seconds`` join the shot after them (the last one joins the
    one before); shots longer than ``max_seconds`` are cut into equal parts that fit.
    Only a video shorter than ``min_seconds`` gives a shorter segment.

    Args:
        duration: the video's length, seconds.
        cuts: cut times (any order; outside ``(0, duration)`` ignored).
        min_seconds: the shortest segment wanted.
        max_seconds: the longest segment allowed.

    Returns:
        ``(start, end)`` pairs in order, covering ``[0, duration]`` without gaps.

    Raises:
        VideoValidationError: if the lengths are not positive or ``min > max``.

    Example:
        .. code-block:: python

            plan_scene_segments(100, [0.4, 30, 31, 95], 2, 40)
            # [(0.0, 30.0), (30.0, 62.5), (62.5, 95.0), (95.0, 100.0)]
    """
    for name, value in (("duration", duration), ("max_segment_seconds", max_seconds)):
        if not (math.isfinite(value) and value > 0):
            raise VideoValidationError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(min_seconds) and 0 <= min_seconds <= max_seconds):
        raise VideoValidationError(
            f"min_segment_seconds must be >= 0 and at most max_segment_seconds "
            f"({max_seconds}), got {min_seconds!r}."
        )
    bounds = [0.0, *sorted({float(c) for c in cuts if 0 < c < duration}), float(duration)]
    merged = [bounds[0]]
    for bound in bounds[1:-1]:
        if bound - merged[-1] >= min_seconds:
            merged.append(bound)
    if len(merged) > 1 and duration - merged[-1] < min_seconds:
        merged.pop()  # the last shot is too short: it joins the one before
    merged.append(float(duration))
    segments: list[tuple[float, float]] = []
    for start, end in itertools.pairwise(merged):
        parts = max(1, math.ceil((end - start) / max_seconds - 1e-9))
        step = (end - start) / parts
        edges = [start + step * index for index in range(parts)] + [end]
        segments.extend(itertools.pairwise(edges))
    return segments
