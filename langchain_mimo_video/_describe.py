"""The per-segment step of the description loader: one segment in, one document out.

:class:`SegmentDescriber` holds the chat model and every setting that decides an answer,
and describes one :class:`Segment`: look it up in the cache, else cut the clip, ask MiMo,
place the events, store the answer, and build the ``Document``. The loader runs it on a
thread pool or an event loop; the Ray adapter runs the same callable on Ray Data workers
(:meth:`SegmentDescriber.describe_row` takes and returns plain rows).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_mimo_video._estimate import RequestEstimate
from langchain_mimo_video._utils import is_url
from langchain_mimo_video.budget import request_cost
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.description_cache import DescriptionCache, description_key
from langchain_mimo_video.errors import EmptyDescriptionError, MediaError, VideoSourceError
from langchain_mimo_video.events import (
    EVENTS_INSTRUCTION,
    SegmentEvents,
    events_to_json,
    media_fragment_url,
    place_events,
)
from langchain_mimo_video.tokens import ModelPrice
from langchain_mimo_video.video import VideoLoader

__all__ = ["Described", "Segment", "SegmentDescriber", "format_time_range", "format_timestamp"]

logger = logging.getLogger("langchain_mimo_video.document_loaders")

#: Slack when rounding a range to whole seconds (container timestamps jitter by a frame).
_TIME_SLACK: Final = 0.05
_ROW_FIELDS: Final = ("source", "start", "end", "duration", "segment_index", "content_hash")


def format_timestamp(seconds: float) -> str:
    """Format seconds as ``mm:ss``, or ``h:mm:ss`` from one hour on.

    Args:
        seconds: a time in seconds (not negative).

    Returns:
        The time, e.g. ``"02:10"`` or ``"1:02:10"``.

    Example:
        .. code-block:: python

            format_timestamp(130)  # "02:10"

    """
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def format_time_range(start: float, end: float | None) -> str:
    """Format a time range for citing, e.g. ``"02:10-02:40"``.

    The start is rounded down and the end up to whole seconds (within a 0.05 s slack for
    container timestamps), so the range printed always covers the range described.

    Args:
        start: start of the range, seconds.
        end: end of the range, seconds; ``None`` when unknown (a URL video), which prints
            as ``"end"``.

    Returns:
        ``"mm:ss-mm:ss"`` (``h:mm:ss`` from one hour on).

    Example:
        .. code-block:: python

            format_time_range(130, 160)  # "02:10-02:40"
            format_time_range(4.0, 6.02)  # "00:04-00:06"

    """
    first = format_timestamp(max(0, math.floor(start + _TIME_SLACK)))
    if end is None:
        return f"{first}-end"
    return f"{first}-{format_timestamp(max(0, math.ceil(end - _TIME_SLACK)))}"


@dataclass(frozen=True)
class Segment:
    """One description to make: a whole video (``start is None``) or a range of it.

    Attributes:
        source: the URL or path, as given.
        start: start in the video, seconds; ``None`` for the whole video, sent as it is.
        end: end in the video, seconds.
        duration: the whole video's length, when known.
        segment_index: position among the video's segments (segments only).
        content_hash: SHA-256 of a local file's bytes (``None`` for URLs).
    """

    source: str | os.PathLike[str]
    start: float | None = None
    end: float | None = None
    duration: float | None = None
    segment_index: int | None = None
    content_hash: str | None = None

    @property
    def label(self) -> str:
        """The source as a string."""
        return os.fspath(self.source)

    @property
    def where(self) -> str:
        """The source and, for a segment, its time range (for logs and error notes)."""
        if self.start is None or self.end is None:
            return self.label
        return f"{self.label} {format_time_range(self.start, self.end)}"

    def to_row(self) -> dict[str, Any]:
        """The segment as a plain row (for Ray Data)."""
        row = {name: getattr(self, name) for name in _ROW_FIELDS}
        row["source"] = self.label
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Segment:
        """The segment of a row made by :meth:`to_row`."""
        values: dict[str, Any] = {name: row.get(name) for name in _ROW_FIELDS}
        return cls(**values)


@dataclass
class Described:
    """A described segment: its document and what it cost.

    Attributes:
        segment: the segment.
        document: the ``Document``.
        cached: whether it came from the cache (no request was sent).
        input_tokens: input tokens of the request (0 from the cache).
        output_tokens: output tokens of the request.
        cost: price of the request (``None``: no price known).
    """

    segment: Segment
    document: Document
    cached: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = field(default=0.0)


BeforeSend = Callable[[Segment, list[BaseMessage]], None]
AsyncBeforeSend = Callable[[Segment, list[BaseMessage]], Awaitable[None]]


class SegmentDescriber:
    """Describe one segment: cache lookup, clip, request, events, cache write, document.

    An instance holds the model and every setting; calling it on a :class:`Segment`
    returns the segment's ``Document``. It is what the loader runs per segment, and what
    the Ray adapter runs on workers (:meth:`describe_row`).

    Args:
        llm: the chat model.
        loader: turns the video (or its range) into a part; its fps and
            media_resolution apply.
        prompt: the question asked beside each video.
        events: ask MiMo, by structured output, for the events of each segment with times;
            they are placed in the video's time line (see :func:`~.events.place_events`).
        cache: where answers are kept; ``None`` keeps nothing.
        prices: prices that override or extend the price table.

    Example:
        .. code-block:: python

            describer = SegmentDescriber(ChatMiMo(), VideoLoader(fps=1), "Describe it.")
            document = describer(Segment("match.mp4", 60.0, 90.0, 5400.0, 2, sha256_hex))
    """

    def __init__(
        self,
        llm: ChatMiMo,
        loader: VideoLoader,
        prompt: str,
        *,
        events: bool = False,
        cache: DescriptionCache | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        self.llm = llm
        self.loader = loader
        self.prompt = prompt
        self.events = events
        self.cache = cache
        self.prices = prices
        self._tools = [convert_to_openai_tool(SegmentEvents)] if events else None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.llm.model_name!r}, loader={self.loader!r}, "
            f"events={self.events}, cache={self.cache!r})"
        )

    # -- keys ----------------------------------------------------------------------

    def key(self, segment: Segment) -> str:
        """The cache key: content, range, model, sampling, prompt and output settings."""
        llm = self.llm
        return description_key(
            content=segment.content_hash or segment.label,
            start=segment.start,
            end=segment.end,
            model=llm.model_name,
            fps=self.loader.fps,
            media_resolution=self.loader.media_resolution,
            prompt=self.prompt,
            output={
                "max_tokens": llm.max_tokens,
                "thinking": llm.thinking,
                "temperature": llm.temperature,
                "top_p": llm.top_p,
                "stop": llm.stop,
                "model_kwargs": llm.model_kwargs,
                "extra_body": llm.extra_body,
                "events": self.events,
            },
        )

    def document_id(self, segment: Segment) -> str:
        """A stable id for the segment's document: the same source, range and settings."""
        return hashlib.sha256(f"{segment.label}\0{self.key(segment)}".encode()).hexdigest()

    def lookup(self, segment: Segment) -> Document | None:
        """The segment's document from the cache, or ``None``."""
        if self.cache is None:
            return None
        row = self.cache.lookup(self.key(segment))
        return None if row is None else self.document(segment, row)

    # -- the request ---------------------------------------------------------------

    def messages(self, segment: Segment) -> list[BaseMessage]:
        """The request's messages: the video (or its clip) and the prompt."""
        if segment.start is None:
            part = self.loader.load(segment.source)
        else:
            part = self.loader.load(segment.source, start=segment.start, end=segment.end)
        prompt = f"{self.prompt}\n\n{EVENTS_INSTRUCTION}" if self.events else self.prompt
        return [HumanMessage(content=[dict(part), {"type": "text", "text": prompt}])]

    def estimate(self, messages: Sequence[BaseMessage]) -> RequestEstimate:
        """The estimate of exactly this request (tools of ``events=True`` included)."""
        return self.llm.estimate_request(messages, tools=self._tools)

    def request_cost(self, estimate: RequestEstimate) -> float | None:
        """Estimated price: input, plus ``max_tokens`` of output when it is set."""
        return self.request_cost_of(estimate.input_tokens, self.llm.max_tokens or 0)

    def request_cost_of(self, input_tokens: int, output_tokens: int) -> float | None:
        """Price of these tokens on this model (``None``: no price known)."""
        return request_cost(self.llm.model_name, input_tokens, output_tokens, self.prices)

    def _row(self, segment: Segment, reply: BaseMessage, parsed: Any) -> dict[str, Any]:
        finish_reason = reply.response_metadata.get("finish_reason")
        row: dict[str, Any] = {"finish_reason": finish_reason}
        if segment.start is None:
            row["duration"] = _local_duration(segment.source)
        if self.events:
            if not isinstance(parsed, SegmentEvents):
                raise EmptyDescriptionError(
                    f"MiMo's answer for {segment.where} did not follow the events schema "
                    f"(finish_reason={finish_reason!r}); raise max_tokens, or pass "
                    "events=False for plain descriptions."
                )
            start = 0.0 if segment.start is None else segment.start
            end = segment.end if segment.start is not None else row["duration"]
            placed = place_events([e.model_dump() for e in parsed.events], start, end)
            lines = [parsed.summary.strip()]
            lines += [
                f"[{format_time_range(e['start'], e['end'])}] {e['description']}"
                for e in placed.events
            ]
            row.update(
                text="\n".join(line for line in lines if line),
                events=placed.events,
                events_clamped=placed.clamped,
                events_dropped=placed.dropped,
            )
        else:
            row["text"] = reply.text.strip()
        if not row["text"]:
            raise EmptyDescriptionError(
                f"MiMo returned no description for {segment.where} (finish_reason="
                f"{finish_reason!r}). If it is 'length', max_tokens was spent on reasoning: "
                "raise max_tokens on the chat model or pass thinking=False."
            )
        row["model"] = reply.response_metadata.get("model_name") or self.llm.model_name
        usage = reply.usage_metadata if isinstance(reply, AIMessage) else None
        if usage is not None:
            details: dict[str, Any] = dict(usage.get("input_token_details") or {})
            row["input_tokens"] = usage["input_tokens"]
            row["output_tokens"] = usage["output_tokens"]
            row["video_tokens"] = details.get("video", 0)
            row["audio_tokens"] = details.get("audio", 0)
        row["fps"] = self.loader.fps
        row["media_resolution"] = self.loader.media_resolution
        return row

    def _runnable(self) -> Any:
        if self.events:
            return self.llm.with_structured_output(SegmentEvents, include_raw=True)
        return self.llm

    @staticmethod
    def _split(result: Any) -> tuple[BaseMessage, Any]:
        if isinstance(result, dict):  # include_raw=True
            if result.get("parsing_error") is not None:
                logger.debug("Events did not parse: %s", result["parsing_error"])
            return result["raw"], result.get("parsed")
        return result, None

    def _finish(self, segment: Segment, result: Any) -> Described:
        reply, parsed = self._split(result)
        row = self._row(segment, reply, parsed)
        if self.cache is not None:
            self.cache.update(self.key(segment), row)
        input_tokens = int(row.get("input_tokens", 0))
        output_tokens = int(row.get("output_tokens", 0))
        cost = self.request_cost_of(input_tokens, output_tokens)
        return Described(
            segment, self.document(segment, row), False, input_tokens, output_tokens, cost
        )

    # -- describing ----------------------------------------------------------------

    def describe(self, segment: Segment, before_send: BeforeSend | None = None) -> Described:
        """Describe one segment (from the cache when it holds it).

        Args:
            segment: the segment.
            before_send: called with the segment and the messages just before the request
                is sent (the loader checks its budget and rate limiter there).

        Returns:
            The document and what it cost.
        """
        document = self.lookup(segment)
        if document is not None:
            return Described(segment, document, cached=True)
        messages = self.messages(segment)
        if before_send is not None:
            before_send(segment, messages)
        return self._finish(segment, self._runnable().invoke(messages))

    async def adescribe(
        self, segment: Segment, before_send: AsyncBeforeSend | None = None
    ) -> Described:
        """Async :meth:`describe`: cache and clip work run in a worker thread."""
        import asyncio

        document = await asyncio.to_thread(self.lookup, segment)
        if document is not None:
            return Described(segment, document, cached=True)
        messages = await asyncio.to_thread(self.messages, segment)
        if before_send is not None:
            await before_send(segment, messages)
        result = await self._runnable().ainvoke(messages)
        return await asyncio.to_thread(self._finish, segment, result)

    def __call__(self, segment: Segment) -> Document:
        """Describe ``segment``; its ``Document``."""
        return self.describe(segment).document

    def describe_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Describe the segment of a row (:meth:`Segment.to_row`); a row for Ray Data.

        Returns:
            The input row plus ``id``, ``page_content``, ``metadata`` and ``cached``.
        """
        described = self.describe(Segment.from_row(row))
        document = described.document
        return {
            **row,
            "id": document.id,
            "page_content": document.page_content,
            "metadata": document.metadata,
            "cached": described.cached,
        }

    # -- the document --------------------------------------------------------------

    def document(self, segment: Segment, row: Mapping[str, Any]) -> Document:
        """The ``Document`` of a segment from its answer row (fresh or cached)."""
        duration = segment.duration if segment.start is not None else row.get("duration")
        start = 0.0 if segment.start is None else segment.start
        end = duration if segment.end is None else segment.end
        metadata: dict[str, Any] = {"source": segment.label, "start": start}
        if end is not None:
            metadata["end"] = end
        if duration is not None:
            metadata["duration"] = duration
        metadata["time_range"] = format_time_range(start, end)
        metadata["source_url"] = media_fragment_url(segment.source, start, end)
        if segment.segment_index is not None:
            metadata["segment_index"] = segment.segment_index
        if segment.content_hash is not None:
            metadata["content_sha256"] = segment.content_hash
        for name in (
            "fps",
            "media_resolution",
            "model",
            "input_tokens",
            "output_tokens",
            "video_tokens",
            "audio_tokens",
        ):
            if name in row:
                metadata[name] = row[name]
        if row.get("finish_reason") is not None:
            metadata["finish_reason"] = row["finish_reason"]
        if self.events:
            # A JSON string: vector stores keep only primitive metadata values.
            metadata["events"] = events_to_json(row.get("events", []))
            metadata["event_corrections"] = row.get("events_clamped", 0) + row.get(
                "events_dropped", 0
            )
            metadata["events_clamped"] = row.get("events_clamped", 0)
            metadata["events_dropped"] = row.get("events_dropped", 0)
        return Document(
            id=self.document_id(segment), page_content=str(row["text"]), metadata=metadata
        )


def _local_duration(source: str | os.PathLike[str]) -> float | None:
    """A local video's length; ``None`` for URLs, or when PyAV cannot measure it."""
    if is_url(source):
        return None  # MiMo fetches URL videos; this loader does not download them
    from langchain_mimo_video.media import probe

    try:
        return probe(source).duration
    except (MediaError, VideoSourceError) as error:
        # PyAV missing or unable to measure it: only the metadata loses the duration. A
        # file that cannot be read at all fails in VideoLoader.load, with its own message.
        logger.debug("No duration for %s: %s", os.fspath(source), error)
        return None
