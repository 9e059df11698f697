"""Planning of time-coded segments: pure arithmetic, no PyAV."""

from __future__ import annotations

import math
from typing import Final

from langchain_mimo_video.errors import (
    VideoValidationError,
)

__all__ = [
    "MAX_SEGMENTS",
    "plan_segments",
]


#: The most segments one plan may hold. Each segment is a request to MiMo (and a
#: re-encode here); beyond this the lengths are almost certainly a mistake, and a plan
#: of billions of tuples would exhaust memory before anything was sent.
MAX_SEGMENTS: Final = 10_000

# --------------------------------------------------------------------------------------
# Segment planning
# --------------------------------------------------------------------------------------


def plan_segments(
    duration: float, segment_seconds: float, overlap_seconds: float = 0.0
) -> list[tuple[float, float]]:
    """Cut ``[0, duration]`` into segments of ``segment_seconds`` that overlap.

    Segment ``i`` starts at ``i * (segment_seconds - overlap_seconds)``, so consecutive
    segments overlap by exactly ``overlap_seconds`` and there are no gaps; the last one ends
    at ``duration``. A last segment that would add less than ``min(1 s, half a step)`` of
    new material is merged into the one before it (which then runs a little longer than
    ``segment_seconds``) rather than left as a sliver.

    Args:
        duration: length of the video, seconds (> 0).
        segment_seconds: length of each segment, seconds (> 0).
        overlap_seconds: shared seconds between neighbours, in ``[0, segment_seconds)``.

    Returns:
        ``(start, end)`` pairs in order.

    Raises:
        VideoValidationError: if an argument is out of range, or the plan would hold more
            than :data:`MAX_SEGMENTS` segments.

    Example:
        .. code-block:: python

            plan_segments(25, 10, 2)  # [(0, 10), (8, 18), (16, 25)]

    """
    values = {"duration": duration, "segment_seconds": segment_seconds}
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise VideoValidationError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(overlap_seconds) and 0 <= overlap_seconds < segment_seconds):
        raise VideoValidationError(
            f"overlap_seconds must be >= 0 and shorter than segment_seconds "
            f"({segment_seconds}), got {overlap_seconds!r}."
        )
    step = segment_seconds - overlap_seconds
    # Counted before any tuple is built. Within the cap a step is never lost in the
    # rounding of ``start`` (as 1e-9 next to 60 would be, stalling the loop below).
    count = 1 if duration <= segment_seconds else 1 + math.ceil((duration - segment_seconds) / step)
    if count > MAX_SEGMENTS:
        raise VideoValidationError(
            f"{duration:g} s in segments of {segment_seconds:g} s overlapping by "
            f"{overlap_seconds:g} s (a step of {step:.3g} s) makes {count:,} segments, over "
            f"the limit of {MAX_SEGMENTS:,}. Use longer segments or a smaller overlap."
        )
    segments: list[tuple[float, float]] = []
    start = 0.0
    while True:
        end = start + segment_seconds
        if end >= duration - 1e-9:
            segments.append((start, duration))
            break
        segments.append((start, end))
        # Each start is derived from the previous end, so rounding can never open a gap.
        start = end - overlap_seconds
    if len(segments) > 1:
        start, end = segments[-1]
        if (end - start) - overlap_seconds < min(1.0, step / 2):
            segments.pop()
            segments[-1] = (segments[-1][0], duration)
    return segments
