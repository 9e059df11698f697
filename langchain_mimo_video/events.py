"""Time-coded events and deep links: times a reader can trust and open.

MiMo sees a segment as a clip that starts at 0 s, so the times it gives count from the
clip's start. :func:`place_events` moves them into the whole video's time line and checks
them against the segment: an event partly outside is clamped to it, one wholly outside is
dropped, and both are counted. :func:`media_fragment_url` makes the deep link of a range,
a W3C Media Fragment (``file:///abs/v.mp4#t=130,160``) that browsers and players seek to.

In a document's metadata the events are one JSON string (:func:`events_to_json`), since
vector stores such as Chroma, and LangChain's ``filter_complex_metadata``, keep only
``str``, ``int``, ``float``, ``bool`` and ``None`` values; :func:`events_from_metadata`
reads them back.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from langchain_mimo_video.errors import InvalidArgumentError

__all__ = [
    "EVENTS_INSTRUCTION",
    "PlacedEvents",
    "SegmentEvents",
    "TimedEvent",
    "events_from_metadata",
    "events_to_json",
    "media_fragment_url",
    "place_events",
]

#: Added to the prompt with ``events=True``.
EVENTS_INSTRUCTION: Final = (
    "Answer with a summary of the clip and its events. Give each event's start and end in "
    "seconds from the start of this clip (the first frame is 0)."
)
#: Times within this many seconds outside the segment are container jitter, not errors.
_SLACK: Final = 0.05


class TimedEvent(BaseModel):
    """One event the model saw, with times in seconds from the start of the clip."""

    start: float = Field(description="Seconds from the start of the clip when it begins.")
    end: float = Field(description="Seconds from the start of the clip when it ends.")
    description: str = Field(description="What happens, in one sentence.")


class SegmentEvents(BaseModel):
    """What MiMo is asked to return for a segment with ``events=True``."""

    summary: str = Field(description="What happens in the clip, in order.")
    events: list[TimedEvent] = Field(
        description="The clip's events in order, timed from the start of the clip."
    )


@dataclass(frozen=True)
class PlacedEvents:
    """Events in the video's time line, with the count of corrections.

    Attributes:
        events: ``{"start", "end", "description"}`` dicts, seconds in the whole video.
        clamped: events moved inside the segment (partly outside, or end before start).
        dropped: events wholly outside the segment, or with times that are not numbers.
    """

    events: list[dict[str, Any]]
    clamped: int
    dropped: int

    @property
    def corrections(self) -> int:
        """Events clamped or dropped."""
        return self.clamped + self.dropped


def place_events(
    events: Iterable[Mapping[str, Any]], start: float, end: float | None
) -> PlacedEvents:
    """Move clip-relative event times into the video and keep them inside the segment.

    Args:
        events: dicts with ``start``, ``end`` (seconds from the clip's start) and
            ``description``.
        start: the segment's start in the video, seconds.
        end: the segment's end in the video; ``None`` when unknown (then only times
            before the start are corrected).

    Returns:
        The placed events, in time order, and how many were clamped or dropped.

    Example:
        .. code-block:: python

            placed = place_events([{"start": 5, "end": 50, "description": "a car"}], 130, 160)
            placed.events  # [{"start": 135.0, "end": 160.0, "description": "a car"}]
            placed.clamped  # 1
    """
    upper = math.inf if end is None else end
    kept: list[dict[str, Any]] = []
    clamped = dropped = 0
    for event in events:
        try:
            first = start + float(event["start"])
            last = start + float(event["end"])
        except (KeyError, TypeError, ValueError):
            dropped += 1
            continue
        if not (math.isfinite(first) and math.isfinite(last)):
            dropped += 1
            continue
        changed = False
        if last < first:
            first, last = last, first
            changed = True
        if last < start - _SLACK or first > upper + _SLACK:
            dropped += 1
            continue
        if first < start - _SLACK or last > upper + _SLACK:
            changed = True
        first = min(max(first, start), upper)
        last = max(min(last, upper), start)
        clamped += changed
        kept.append(
            {
                "start": round(first, 3),
                "end": round(last, 3),
                "description": str(event.get("description", "")).strip(),
            }
        )
    kept.sort(key=lambda item: (item["start"], item["end"]))
    return PlacedEvents(kept, clamped, dropped)


def events_to_json(events: Iterable[Mapping[str, Any]]) -> str:
    """Placed events as the JSON string a document's ``metadata["events"]`` holds.

    Each event is written as ``{"start", "end", "description"}``, in that order, so a
    cached answer gives the very string a fresh one did (``index()`` sees no change).

    Args:
        events: dicts with ``start``, ``end`` (seconds in the video) and ``description``.

    Returns:
        A JSON array, e.g. ``'[{"start":135.0,"end":160.0,"description":"a car"}]'``.

    Example:
        .. code-block:: python

            events_to_json([{"start": 135.0, "end": 160.0, "description": "a car"}])
    """
    items = [
        {
            "start": float(event["start"]),
            "end": float(event["end"]),
            "description": str(event.get("description", "")),
        }
        for event in events
    ]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def events_from_metadata(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of a document made with ``events=True``, read back from its metadata.

    ``metadata["events"]`` is a JSON string so vector stores that keep only primitive
    values (Chroma, ``filter_complex_metadata``) keep it; a retrieved document's metadata
    reads back the same way. A list of dicts (documents made before events were a string)
    is taken as it is.

    Args:
        metadata: a document's ``metadata``.

    Returns:
        ``[{"start": float, "end": float, "description": str}, ...]`` in seconds of the
        whole video; ``[]`` when the metadata holds no events.

    Raises:
        InvalidArgumentError: if ``metadata["events"]`` is not events in either form.

    Example:
        .. code-block:: python

            for doc in store.similarity_search("a red car", k=3):
                for event in events_from_metadata(doc.metadata):
                    print(doc.metadata["source"], event["start"], event["description"])
    """
    value = metadata.get("events")
    if value is None:
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else value
        if not isinstance(items, list):
            raise TypeError("not a list")
        return [
            {
                "start": float(item["start"]),
                "end": float(item["end"]),
                "description": str(item["description"]),
            }
            for item in items
        ]
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidArgumentError(
            'metadata["events"] must be the JSON array of events a VideoDescriptionLoader '
            "made with events=True (objects with start, end and description), got "
            f"{str(value)[:80]!r} ({type(error).__name__}: {error}); pass the document's "
            "metadata as the loader or the vector store gave it."
        ) from None


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def media_fragment_url(source: str | os.PathLike[str], start: float, end: float | None) -> str:
    """A deep link to a time range: the source's URL with a Media Fragment ``#t=``.

    Args:
        source: an http(s) URL, or a local path (made absolute, as a ``file://`` URL).
        start: the range's start, seconds.
        end: the range's end, seconds; ``None`` links from ``start`` to the end.

    Returns:
        e.g. ``"https://example.com/v.mp4#t=130,160"`` or ``"file:///abs/v.mp4#t=130,160"``;
        a fragment the URL had is replaced.

    Example:
        .. code-block:: python

            media_fragment_url("https://example.com/v.mp4", 130, 160)
    """
    fragment = f"t={_seconds(start)}" + ("" if end is None else f",{_seconds(end)}")
    text = os.fspath(source)
    if text[:8].lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, fragment))
    return f"{Path(text).resolve().as_uri()}#{fragment}"
