"""Planning of a description run: which segments each source is cut into.

Fixed windows (``segment_seconds`` with ``overlap_seconds``), shots (``segment_by=
"scenes"``, within ``min_segment_seconds`` / ``max_segment_seconds``, cut where the change
between frames passes ``scene_threshold``), or the whole video.
Every local source is hashed once (SHA-256 of its bytes, streamed) for the cache key; the
length and the shot boundaries found for a file's content are kept in the description
cache too, so a re-run does not open the video again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import openai

from langchain_mimo_video._describe import Segment
from langchain_mimo_video._utils import is_url, shorten
from langchain_mimo_video.budget import BudgetExceededError
from langchain_mimo_video.description_cache import (
    DescriptionCache,
    description_key,
    file_sha256,
)
from langchain_mimo_video.errors import (
    MissingAPIKeyError,
    VideoSourceError,
    VideoValidationError,
)

__all__ = ["SegmentBy", "SegmentPlanner", "find_videos", "is_fatal", "source_list"]

SegmentBy = Literal["fixed", "scenes"]
Source = str | os.PathLike[str]


@dataclass(frozen=True)
class SegmentPlanner:
    """Cut sources into :class:`Segment` objects.

    Attributes:
        segment_by: ``"fixed"`` windows or ``"scenes"``.
        segment_seconds: window length (``"fixed"``); ``None``: whole videos.
        overlap_seconds: seconds shared by neighbouring windows.
        min_segment_seconds: shortest segment (``"scenes"``).
        max_segment_seconds: longest segment (``"scenes"``).
        scene_threshold: the change between frames that counts as a cut (``"scenes"``),
            in ``(0, 255]``; ``None``: PySceneDetect's default, 27.
        cache: where found shot boundaries are kept.
    """

    segment_by: SegmentBy = "fixed"
    segment_seconds: float | None = None
    overlap_seconds: float = 0.0
    min_segment_seconds: float = 2.0
    max_segment_seconds: float = 60.0
    scene_threshold: float | None = None
    cache: DescriptionCache | None = None

    def __post_init__(self) -> None:
        if self.segment_by not in ("fixed", "scenes"):
            raise VideoValidationError(
                f"segment_by must be 'fixed' or 'scenes', got {self.segment_by!r}."
            )
        if self.segment_by == "scenes":
            if self.segment_seconds is not None or self.overlap_seconds:
                raise VideoValidationError(
                    'segment_by="scenes" cuts at shot boundaries: pass min_segment_seconds / '
                    "max_segment_seconds instead of segment_seconds / overlap_seconds."
                )
            from langchain_mimo_video.media.scenes import (
                check_scene_threshold,
                plan_scene_segments,
            )

            plan_scene_segments(1.0, [], self.min_segment_seconds, self.max_segment_seconds)
            if self.scene_threshold is not None:
                object.__setattr__(
                    self, "scene_threshold", check_scene_threshold(self.scene_threshold)
                )
            return
        if self.scene_threshold is not None:
            raise VideoValidationError(
                'scene_threshold applies to segment_by="scenes" (shot boundaries); pass '
                'segment_by="scenes" with it, or leave it out for fixed windows.'
            )
        if self.segment_seconds is None:
            if self.overlap_seconds:
                raise VideoValidationError(
                    "overlap_seconds needs segment_seconds: overlap applies between segments."
                )
        else:
            from langchain_mimo_video.media import plan_segments

            plan_segments(1.0, self.segment_seconds, self.overlap_seconds)  # checks both

    @property
    def per_segment(self) -> bool:
        """Whether videos are cut (otherwise each is described whole)."""
        return self.segment_by == "scenes" or self.segment_seconds is not None

    def plan(self, source: str | os.PathLike[str]) -> list[Segment]:
        """The segments of one source (hashes and probes a local file).

        Raises:
            VideoValidationError: a URL cannot be cut into segments.
            VideoSourceError: the file cannot be read.
        """
        url = is_url(source)
        content = None if url else file_sha256(source, cache=self.cache)
        if not self.per_segment:
            return [Segment(source, content_hash=content)]
        if url:
            raise VideoValidationError(
                f"{shorten(os.fspath(source))} cannot be described in segments: MiMo has no "
                "server-side start/end offsets, and this package does not download URL videos "
                "to cut them. Download the video and pass the file (it is cut locally), or "
                "describe the URL whole (segment_seconds=None)."
            )
        from langchain_mimo_video.media import plan_segments

        duration = self._duration(source, content)
        if self.segment_by == "scenes":
            from langchain_mimo_video.media.scenes import plan_scene_segments

            cuts = self._scene_cuts(source, content)
            ranges = plan_scene_segments(
                duration, cuts, self.min_segment_seconds, self.max_segment_seconds
            )
        else:
            assert self.segment_seconds is not None
            ranges = plan_segments(duration, self.segment_seconds, self.overlap_seconds)
        return [
            Segment(source, start, end, duration, index, content)
            for index, (start, end) in enumerate(ranges)
        ]

    def _duration(self, source: str | os.PathLike[str], content: str | None) -> float:
        """The video's length; kept in the cache by content, so a re-run needs no PyAV."""
        key = description_key(kind="duration", content=content)
        if self.cache is not None:
            known = self.cache.lookup(key)
            if known is not None:
                return float(known["duration"])
        from langchain_mimo_video.media import probe

        duration = probe(source).duration
        if self.cache is not None:
            self.cache.update(key, {"duration": duration})
        return duration

    def _scene_cuts(self, source: str | os.PathLike[str], content: str | None) -> list[float]:
        """The file's cuts, kept in the cache by content and threshold.

        Another threshold finds other cuts, so other segments: it is part of the key.
        """
        from langchain_mimo_video.media.scenes import DEFAULT_SCENE_THRESHOLD, detect_scene_cuts

        threshold = (
            DEFAULT_SCENE_THRESHOLD if self.scene_threshold is None else self.scene_threshold
        )
        key = description_key(kind="scene-cuts", content=content, threshold=threshold)
        if self.cache is not None:
            known = self.cache.lookup(key)
            if known is not None:
                return [float(cut) for cut in known["cuts"]]
        cuts = detect_scene_cuts(source, threshold=threshold)
        if self.cache is not None:
            self.cache.update(key, {"cuts": cuts})
        return cuts


def source_list(sources: Source | Iterable[Source]) -> list[Any]:
    """The loader's sources as a list, each checked to be a URL or a path."""
    if isinstance(sources, (str, os.PathLike)):
        items: list[Any] = [sources]
    elif isinstance(sources, (bytes, bytearray, memoryview)):
        raise TypeError(
            "VideoDescriptionLoader takes URLs and file paths; for video bytes, write them to "
            "a file or use VideoLoader and ChatMiMo directly."
        )
    else:
        items = list(sources)
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(
                f"Each source must be an http(s) URL or a file path, got {type(item).__name__}."
            )
        if isinstance(item, str) and item[:5].lower() == "data:":
            raise VideoValidationError(
                "VideoDescriptionLoader takes URLs and file paths, not data: URLs (a document's "
                "source would be the whole video); save the video to a file instead."
            )
    return items


def find_videos(
    path: str | os.PathLike[str],
    glob: str,
    suffixes: Sequence[str] | None,
    *,
    allow_empty: bool = False,
) -> list[Path]:
    """The files of a folder that match ``glob`` and ``suffixes``, in sorted path order.

    Raises:
        VideoSourceError: ``path`` is not a folder, or nothing matches (unless
            ``allow_empty``); the message says which, and what to change.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise VideoSourceError(f"{folder} is not a folder; pass the folder of the videos.")
    wanted = None if suffixes is None else {suffix.lower() for suffix in suffixes}
    found = sorted(
        (
            item
            for item in folder.glob(glob)
            if item.is_file() and (wanted is None or item.suffix.lower() in wanted)
        ),
        key=lambda item: item.as_posix(),
    )
    if not found and not allow_empty:
        raise VideoSourceError(_nothing_found(folder, glob, wanted))
    return found


def _nothing_found(folder: Path, glob: str, suffixes: set[str] | None) -> str:
    """Why ``from_directory`` found no video, and what to change."""
    matched = sum(1 for item in folder.glob(glob) if item.is_file())
    if matched and suffixes is not None:
        return (
            f"No videos in {folder}: {matched} file{'s' if matched > 1 else ''} match "
            f"glob={glob!r}, but none ends in {', '.join(sorted(suffixes))}. Pass suffixes=None "
            "to take every match, or allow_empty=True to accept a folder with no videos."
        )
    return (
        f"No videos in {folder}: no file matches glob={glob!r} (globs are case-sensitive; "
        "'**/*' takes every file, subfolders included). Check the folder and glob, or pass "
        "allow_empty=True to accept a folder with no videos."
    )


_FATAL_ERRORS: Final = (
    MissingAPIKeyError,
    BudgetExceededError,
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
)


def is_fatal(error: BaseException) -> bool:
    """Whether ``error`` would fail every other video too (so skipping would hide it)."""
    if isinstance(error, _FATAL_ERRORS):
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code == 402
