"""VideoDescriptionLoader: MiMo's descriptions of videos as LangChain ``Document`` objects.

A video cannot go into a vector store, but a description of it can. This loader asks
:class:`~langchain_mimo_video.chat_models.ChatMiMo` to describe each video (or each time
segment of it) and yields one ``Document`` per answer, with the source and the time range
in its metadata, so a retrieval-augmented answer can cite "``traffic.mp4`` 00:02-00:04".
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import openai
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.rate_limiters import BaseRateLimiter

from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.errors import (
    EmptyDescriptionError,
    MediaError,
    MissingAPIKeyError,
    VideoSourceError,
    VideoValidationError,
)
from langchain_mimo_video.limits import DOCUMENTED_VIDEO_TYPES
from langchain_mimo_video.video import VideoLoader, VideoPart

logger = logging.getLogger(__name__)

DescriptionSource = str | os.PathLike[str]
"""What :class:`VideoDescriptionLoader` describes: an http(s) URL or a local file path."""

DEFAULT_PROMPT: Final = (
    "Describe what happens in this video, in order, with on-screen text and speech; "
    "cite times as mm:ss."
)
"""The question sent beside each video unless ``prompt=`` says otherwise."""

VIDEO_SUFFIXES: Final[tuple[str, ...]] = tuple(
    suffix for suffixes in DOCUMENTED_VIDEO_TYPES.values() for suffix in suffixes
)
"""File suffixes :meth:`VideoDescriptionLoader.from_directory` picks by default: the
containers MiMo documents (MP4, MOV, AVI, WMV)."""

OnError = Literal["raise", "skip"]

#: Descriptions prepared ahead of the consumer, per unit of ``max_concurrency``. Only
#: ``max_concurrency`` of them run (hold a video in memory, wait on MiMo) at a time; the
#: rest are finished documents waiting for an earlier one, or not started yet.
_PREFETCH_FACTOR: Final = 2
#: Slack when rounding a range to whole seconds (container timestamps jitter by a frame).
_TIME_SLACK: Final = 0.05


@dataclass(frozen=True)
class _Task:
    """One description to make: a whole video or one time range of it."""

    source: DescriptionSource
    start: float | None = None  # None: the whole video, sent as it is
    end: float | None = None
    duration: float | None = None
    segment_index: int | None = None

    @property
    def label(self) -> str:
        return os.fspath(self.source)

    @property
    def where(self) -> str:
        """The source and, for a segment, its time range (for logs and error notes)."""
        if self.start is None or self.end is None:
            return self.label
        return f"{self.label} {format_time_range(self.start, self.end)}"


@dataclass
class _Outcome:
    """A finished task: its document, or the error that stopped it."""

    task: _Task
    document: Document | None = None
    error: BaseException | None = field(default=None)


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


class VideoDescriptionLoader(BaseLoader):
    r"""Load videos as ``Document`` objects holding MiMo's description of each.

    Each video (or, with ``segment_seconds``, each time segment of it) is sent to
    :class:`~langchain_mimo_video.chat_models.ChatMiMo` with ``prompt``; the answer becomes
    the document's ``page_content``. Index the documents in any vector store to search a
    video library by what happens in it.

    Setup:
        Install ``langchain-mimo-video`` (with the ``[media]`` extra to cut segments) and
        set ``MIMO_API_KEY``. ``show_progress=True`` needs ``pip install tqdm``.

    Sources:
        A list of http(s) URLs and/or local file paths (or one of them), described in the
        order given; or :meth:`from_directory` for the videos in a folder, found with a
        glob pattern and described in sorted path order. URL videos are fetched by MiMo
        itself; they cannot be cut into segments (MiMo has no server-side time offsets),
        and their length is not known here.

    Metadata of each document:
        - ``source``: the URL or path, as given.
        - ``start``, ``end``: the range described, seconds in the source (``0`` and the
          video's length for a whole video; ``end`` is missing when the length is not
          known: URL videos, or no PyAV).
        - ``duration``: length of the whole video in seconds (missing when not known).
        - ``time_range``: the range for citing, ``"02:10-02:40"`` (see
          :func:`format_time_range`); ``"00:00-end"`` when the end is not known.
        - ``segment_index``: position of the segment in its video (segments only).
        - ``fps``, ``media_resolution``: how MiMo sampled the video.
        - ``model``: the model that answered.
        - ``input_tokens``, ``output_tokens``, ``video_tokens``, ``audio_tokens``: usage
          of the request (the video and audio counts are part of the input).
        - ``finish_reason``: ``"stop"``, or ``"length"`` when ``max_tokens`` cut the
          description short.

        Times a model cites *inside* a segment's description count from the start of the
        segment; add ``metadata["start"]`` for the time in the video.

    Concurrency and rate limits:
        At most ``max_concurrency`` videos are being read, encoded and described at once
        (threads in :meth:`lazy_load`, an ``asyncio.Semaphore`` in :meth:`alazy_load`), so
        memory stays flat however many videos there are: each holds one base64 video of
        at most 50 MB while its request runs. Documents come out in a fixed order (sources
        in order, then segments in time order) as soon as every earlier one is done; at
        most ``2 * max_concurrency`` are prepared ahead of the consumer, and nothing is
        described before it is asked for. A ``rate_limiter`` is acquired by this loader
        once per request, just before it is sent (the chat model is not changed; a rate
        limiter set on ``llm`` itself applies as well).

    Errors:
        ``on_error="raise"`` (the default, like other LangChain loaders) raises the
        original exception when its turn in the order comes, after every earlier document
        was yielded (it is logged at debug level only, since the caller gets it); work
        still in flight is discarded (requests already sent finish first in
        :meth:`lazy_load`, and are cancelled in :meth:`alazy_load`).
        ``on_error="skip"`` logs a warning (logger ``langchain_mimo_video.document_loaders``)
        and goes on: a bad file, a refused or failed request (after the SDK's retries)
        costs only its own document (for segments, only that segment's). Errors that
        would fail every video, whatever ``on_error`` says, are always raised: no API key,
        401, 402, 403 and 404 (a wrong key, no balance, a forbidden or unknown model).
        No document is ever yielded twice. A raised error carries a note naming the
        video and time range.

    Args:
        sources: URLs and/or paths of the videos, or one of them.
        llm: the chat model; default ``ChatMiMo()`` (reads ``MIMO_API_KEY``), made on
            first use.
        loader: turns each video into a part; its ``fps``, ``media_resolution`` and
            ``fit`` apply. Default ``VideoLoader()``.
        prompt: the question asked beside each video.
        segment_seconds: describe each local video in time segments of this length
            (needs the ``[media]`` extra); ``None`` describes whole videos.
        overlap_seconds: seconds shared by neighbouring segments, so an event on a
            boundary is seen whole by one of them.
        max_concurrency: videos or segments described at once (default 4).
        rate_limiter: acquired before every request, e.g. ``InMemoryRateLimiter``.
        show_progress: show a tqdm progress bar (needs ``pip install tqdm``).
        on_error: ``"raise"`` or ``"skip"``; see *Errors* above.

    Instantiate:
        .. code-block:: python

            from langchain_core.rate_limiters import InMemoryRateLimiter
            from langchain_mimo_video import ChatMiMo, VideoDescriptionLoader, VideoLoader

            loader = VideoDescriptionLoader.from_directory(
                "recordings/",
                glob="**/*.mp4",
                llm=ChatMiMo(model="mimo-v2.5", max_tokens=2048),
                loader=VideoLoader(fps=1),
                segment_seconds=30,
                overlap_seconds=5,
                max_concurrency=4,
                rate_limiter=InMemoryRateLimiter(requests_per_second=2),
                on_error="skip",
            )

    Lazy load:
        .. code-block:: python

            for doc in loader.lazy_load():
                print(doc.metadata["source"], doc.metadata["time_range"])
                print(doc.page_content)

    Async load:
        .. code-block:: python

            docs = [doc async for doc in loader.alazy_load()]

    Index and retrieve:
        .. code-block:: python

            from langchain_core.vectorstores import InMemoryVectorStore

            store = InMemoryVectorStore.from_documents(loader.load(), embeddings)
            for doc in store.similarity_search("When does the red car arrive?", k=3):
                print(doc.metadata["source"], doc.metadata["time_range"])
    """

    def __init__(
        self,
        sources: DescriptionSource | Iterable[DescriptionSource],
        *,
        llm: ChatMiMo | None = None,
        loader: VideoLoader | None = None,
        prompt: str = DEFAULT_PROMPT,
        segment_seconds: float | None = None,
        overlap_seconds: float = 0.0,
        max_concurrency: int = 4,
        rate_limiter: BaseRateLimiter | None = None,
        show_progress: bool = False,
        on_error: OnError = "raise",
    ) -> None:
        self.sources: list[DescriptionSource] = _source_list(sources)
        self.llm = llm
        self.loader = loader if loader is not None else VideoLoader()
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string: the question asked per video.")
        self.prompt = prompt
        if segment_seconds is None:
            if overlap_seconds:
                raise VideoValidationError(
                    "overlap_seconds needs segment_seconds: overlap applies between segments."
                )
        else:
            from langchain_mimo_video.media import plan_segments

            plan_segments(1.0, segment_seconds, overlap_seconds)  # checks both lengths
        self.segment_seconds = segment_seconds
        self.overlap_seconds = overlap_seconds
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise ValueError(f"max_concurrency must be an integer >= 1, got {max_concurrency!r}.")
        self.max_concurrency = max_concurrency
        self.rate_limiter = rate_limiter
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
        self.on_error: OnError = on_error
        self.show_progress = show_progress
        if show_progress:
            _tqdm()  # fail now, not halfway through a long run

    @classmethod
    def from_directory(
        cls,
        path: str | os.PathLike[str],
        *,
        glob: str = "**/*",
        suffixes: Sequence[str] | None = VIDEO_SUFFIXES,
        **kwargs: Any,
    ) -> VideoDescriptionLoader:
        """Describe the videos in a folder.

        The folder is searched once, now; files are described in sorted path order.

        Args:
            path: the folder.
            glob: pattern of the files to take, relative to ``path`` (``"**/*"``:
                everything, in subfolders too; ``"*.mp4"``: MP4 files at the top).
            suffixes: keep only files with one of these suffixes (case-insensitive);
                default the containers MiMo documents. ``None`` keeps every match.
            **kwargs: the other arguments of :class:`VideoDescriptionLoader`.

        Returns:
            A loader over the files found (possibly none).

        Raises:
            VideoSourceError: if ``path`` is not a folder.

        Example:
            .. code-block:: python

                loader = VideoDescriptionLoader.from_directory("clips", glob="*.mp4")

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
        return cls(found, **kwargs)

    def __repr__(self) -> str:
        segments = (
            f", segment_seconds={self.segment_seconds}, overlap_seconds={self.overlap_seconds}"
            if self.segment_seconds is not None
            else ""
        )
        return (
            f"{type(self).__name__}({len(self.sources)} sources{segments}, "
            f"max_concurrency={self.max_concurrency}, on_error={self.on_error!r})"
        )

    # -- the chat model ------------------------------------------------------------

    def _chat_model(self) -> ChatMiMo:
        if self.llm is None:
            self.llm = ChatMiMo()
        return self.llm

    # -- sync ----------------------------------------------------------------------

    def lazy_load(self) -> Iterator[Document]:
        """Describe the videos with a thread pool; yield documents in source order.

        Yields:
            One ``Document`` per video, or per segment with ``segment_seconds``.

        Raises:
            MissingAPIKeyError: before anything is sent, when there is no API key.
            Exception: the first failure, with ``on_error="raise"``.
        """
        llm = self._chat_model()
        llm.client  # noqa: B018 -- builds the client once (no API key: fails here)
        progress = self._progress()
        pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="mimo-describe"
        )
        pending: deque[Future[_Outcome]] = deque()
        items = self._plan_all(progress)
        try:
            while True:
                while len(pending) < self.max_concurrency * _PREFETCH_FACTOR:
                    item = next(items, None)
                    if item is None:
                        break
                    if isinstance(item, _Outcome):  # the source could not be planned
                        done: Future[_Outcome] = Future()
                        done.set_result(item)
                        pending.append(done)
                    else:
                        pending.append(pool.submit(self._run, llm, item))
                if not pending:
                    return
                document = self._settle(pending.popleft().result(), progress)
                if document is not None:
                    yield document
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            if progress is not None:
                progress.close()

    def _plan_all(self, progress: Any) -> Iterator[_Task | _Outcome]:
        for source in self.sources:
            tasks: list[_Task | _Outcome]
            try:
                tasks = list(self._plan(source))
            except Exception as error:
                tasks = [_Outcome(_Task(source), error=error)]
            if progress is not None and self.segment_seconds is not None:
                progress.total = (progress.total or 0) + len(tasks)
                progress.refresh()
            yield from tasks

    def _plan(self, source: DescriptionSource) -> list[_Task]:
        """The tasks for one source: the whole video, or its segments (probes the file)."""
        if self.segment_seconds is None:
            return [_Task(source)]
        if _is_url(source):
            raise VideoValidationError(
                f"{_shorten(os.fspath(source))} cannot be described in segments: MiMo has no "
                "server-side start/end offsets, and this package does not download URL videos "
                "to cut them. Download the video and pass the file (it is cut locally), or "
                "describe the URL whole (segment_seconds=None)."
            )
        from langchain_mimo_video.media import plan_segments, probe

        duration = probe(source).duration
        return [
            _Task(source, start, end, duration, index)
            for index, (start, end) in enumerate(
                plan_segments(duration, self.segment_seconds, self.overlap_seconds)
            )
        ]

    def _run(self, llm: ChatMiMo, task: _Task) -> _Outcome:
        """Worker: read, encode and describe one task; never raises."""
        try:
            duration, message, part = self._prepare(task)
            if self.rate_limiter is not None:
                self.rate_limiter.acquire(blocking=True)
            reply = llm.invoke([message])
            return _Outcome(task, self._document(llm, task, duration, part, reply))
        except Exception as error:
            return _Outcome(task, error=error)

    def _prepare(self, task: _Task) -> tuple[float | None, HumanMessage, VideoPart]:
        if task.start is None:
            duration = _local_duration(task.source)
            part = self.loader.load(task.source)
        else:
            duration = task.duration
            part = self.loader.load(task.source, start=task.start, end=task.end)
        message = HumanMessage(content=[dict(part), {"type": "text", "text": self.prompt}])
        return duration, message, part

    # -- async ---------------------------------------------------------------------

    async def alazy_load(self) -> AsyncIterator[Document]:
        """Describe the videos with asyncio; yield documents in source order.

        Same behaviour as :meth:`lazy_load`, with an ``asyncio.Semaphore`` bounding the
        videos in flight; reading, probing and cutting run in worker threads.

        Yields:
            One ``Document`` per video, or per segment with ``segment_seconds``.
        """
        llm = self._chat_model()
        llm.async_client  # noqa: B018 -- builds the client once (no API key: fails here)
        progress = self._progress()
        semaphore = asyncio.Semaphore(self.max_concurrency)
        pending: deque[asyncio.Future[_Outcome]] = deque()
        items = self._plan_all(progress)
        try:
            while True:
                while len(pending) < self.max_concurrency * _PREFETCH_FACTOR:
                    if self.segment_seconds is None:
                        item = next(items, None)
                    else:  # planning segments probes files: keep that off the event loop
                        item = await asyncio.to_thread(next, items, None)
                    if item is None:
                        break
                    if isinstance(item, _Outcome):
                        done: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
                        done.set_result(item)
                        pending.append(done)
                    else:
                        pending.append(asyncio.ensure_future(self._arun(llm, item, semaphore)))
                if not pending:
                    return
                document = self._settle(await pending.popleft(), progress)
                if document is not None:
                    yield document
        finally:
            for future in pending:
                future.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            if progress is not None:
                progress.close()

    async def _arun(self, llm: ChatMiMo, task: _Task, semaphore: asyncio.Semaphore) -> _Outcome:
        async with semaphore:
            try:
                duration, message, part = await asyncio.to_thread(self._prepare, task)
                if self.rate_limiter is not None:
                    await self.rate_limiter.aacquire(blocking=True)
                reply = await llm.ainvoke([message])
                return _Outcome(task, self._document(llm, task, duration, part, reply))
            except Exception as error:
                return _Outcome(task, error=error)

    # -- shared --------------------------------------------------------------------

    def _settle(self, outcome: _Outcome, progress: Any) -> Document | None:
        """The outcome's document; or log its error, then raise it or skip it."""
        if progress is not None:
            progress.update(1)
        if outcome.error is None:
            return outcome.document
        error = outcome.error
        where = outcome.task.where
        if self.on_error == "skip" and not _is_fatal(error):
            logger.warning("Skipped %s: %s: %s", where, type(error).__name__, error)
            logger.debug("Traceback of the skipped %s", where, exc_info=error)
            return None
        # The caller gets the exception itself: logging it as an error too would report it
        # twice, so the log keeps a debug record only.
        logger.debug("Could not describe %s", where, exc_info=error)
        if hasattr(error, "add_note"):  # Python 3.11+
            error.add_note(f"(while VideoDescriptionLoader was describing {where})")
        raise error

    def _document(
        self,
        llm: ChatMiMo,
        task: _Task,
        duration: float | None,
        part: VideoPart,
        reply: BaseMessage,
    ) -> Document:
        text = reply.text.strip()
        finish_reason = reply.response_metadata.get("finish_reason")
        if not text:
            raise EmptyDescriptionError(
                f"MiMo returned no description for {task.where} (finish_reason="
                f"{finish_reason!r}). If it is 'length', max_tokens was spent on reasoning: "
                "raise max_tokens on the chat model or pass thinking=False."
            )
        start = 0.0 if task.start is None else task.start
        end = duration if task.end is None else task.end
        metadata: dict[str, Any] = {"source": task.label, "start": start}
        if end is not None:
            metadata["end"] = end
        if duration is not None:
            metadata["duration"] = duration
        metadata["time_range"] = format_time_range(start, end)
        if task.segment_index is not None:
            metadata["segment_index"] = task.segment_index
        metadata["fps"] = part.get("fps", self.loader.fps)
        metadata["media_resolution"] = part.get("media_resolution", self.loader.media_resolution)
        metadata["model"] = reply.response_metadata.get("model_name") or llm.model_name
        usage = reply.usage_metadata if isinstance(reply, AIMessage) else None
        if usage is not None:
            details: dict[str, Any] = dict(usage.get("input_token_details") or {})
            metadata["input_tokens"] = usage["input_tokens"]
            metadata["output_tokens"] = usage["output_tokens"]
            metadata["video_tokens"] = details.get("video", 0)
            metadata["audio_tokens"] = details.get("audio", 0)
        if finish_reason is not None:
            metadata["finish_reason"] = finish_reason
        return Document(page_content=text, metadata=metadata)

    def _progress(self) -> Any:
        if not self.show_progress:
            return None
        per_segment = self.segment_seconds is not None
        return _tqdm()(
            total=None if per_segment else len(self.sources),
            desc="Describing videos",
            unit="segment" if per_segment else "video",
        )


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _source_list(sources: DescriptionSource | Iterable[DescriptionSource]) -> list[Any]:
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


def _is_url(source: DescriptionSource) -> bool:
    return isinstance(source, str) and source[:8].lower().startswith(("http://", "https://"))


def _local_duration(source: DescriptionSource) -> float | None:
    """A local video's length; ``None`` for URLs, or when PyAV cannot measure it."""
    if _is_url(source):
        return None  # MiMo fetches URL videos; this loader does not download them
    from langchain_mimo_video.media import probe

    try:
        return probe(source).duration
    except (MediaError, VideoSourceError) as error:
        # PyAV missing or unable to measure it: only the metadata loses the duration. A
        # file that cannot be read at all fails in VideoLoader.load, with its own message.
        logger.debug("No duration for %s: %s", os.fspath(source), error)
        return None


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_FATAL_ERRORS: Final = (
    MissingAPIKeyError,
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
)


def _is_fatal(error: BaseException) -> bool:
    """Whether ``error`` would fail every other video too (so skipping would hide it)."""
    if isinstance(error, _FATAL_ERRORS):
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code == 402


def _tqdm() -> Any:
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise ImportError("show_progress=True needs the tqdm package: pip install tqdm") from None


__all__ = [
    "DEFAULT_PROMPT",
    "VIDEO_SUFFIXES",
    "EmptyDescriptionError",
    "VideoDescriptionLoader",
    "format_time_range",
    "format_timestamp",
]
