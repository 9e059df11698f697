"""VideoDescriptionLoader: MiMo's descriptions of videos as LangChain ``Document`` objects.

A video cannot go into a vector store, but a description of it can. This loader asks
:class:`~langchain_mimo_video.chat_models.ChatMiMo` to describe each video (or each time
segment of it) and yields one ``Document`` per answer, with the source and the time range
in its metadata, so a retrieval-augmented answer can cite "``traffic.mp4`` 00:02-00:04".
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, Literal

from langchain_core.caches import BaseCache
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.rate_limiters import BaseRateLimiter

from langchain_mimo_video._describe import (
    Segment,
    SegmentDescriber,
    format_time_range,
    format_timestamp,
)
from langchain_mimo_video._plan import (
    SegmentBy,
    SegmentPlanner,
    find_videos,
    is_fatal,
    source_list,
)
from langchain_mimo_video._run import Outcome, Run, adescribe_in_turn, describe_in_turn
from langchain_mimo_video.budget import (
    Budget,
    BudgetError,
    BudgetExceededError,
    CorpusEstimate,
    estimate_corpus,
)
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.description_cache import DescriptionCache, as_description_cache
from langchain_mimo_video.errors import EmptyDescriptionError
from langchain_mimo_video.events import events_from_metadata
from langchain_mimo_video.limits import DOCUMENTED_VIDEO_TYPES
from langchain_mimo_video.progress import Progress, RunStats, tqdm_class
from langchain_mimo_video.tokens import DEFAULT_PRICES, ModelPrice
from langchain_mimo_video.video import VideoLoader

__all__ = [
    "DEFAULT_PROMPT",
    "VIDEO_SUFFIXES",
    "BudgetExceededError",
    "CorpusEstimate",
    "EmptyDescriptionError",
    "Segment",
    "SegmentDescriber",
    "VideoDescriptionLoader",
    "events_from_metadata",
    "format_time_range",
    "format_timestamp",
]


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
CacheArg = DescriptionCache | BaseCache | str | os.PathLike[str] | None

#: Descriptions prepared ahead of the consumer, per unit of ``max_concurrency``. Only
#: ``max_concurrency`` of them run (hold a video in memory, wait on MiMo) at a time; the
#: rest are finished documents waiting for an earlier one, or not started yet.
_PREFETCH_FACTOR: Final = 2


class VideoDescriptionLoader(BaseLoader):
    r"""Load videos as ``Document`` objects holding MiMo's description of each.

    Each video (or, with ``segment_seconds``, each time segment of it) is sent to
    :class:`~langchain_mimo_video.chat_models.ChatMiMo` with ``prompt``; the answer becomes
    the document's ``page_content``. Index the documents in any vector store to search a
    video library by what happens in it.

    Setup:
        Install ``langchain-mimo-video`` (with the ``[media]`` extra to cut segments, and
        ``[scenes]`` for ``segment_by="scenes"``) and set ``MIMO_API_KEY``.
        ``show_progress=True`` needs ``pip install tqdm``.

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
        - ``source_url``: a deep link with a Media Fragment, ``file:///abs/v.mp4#t=130,160``
          or ``https://.../v.mp4#t=130,160``.
        - ``content_sha256``: SHA-256 of a local file's bytes (the cache key's content).
        - with ``events=True``: ``events``, a JSON string of ``{start, end, description}``
          (seconds in the video; read it with :func:`events_from_metadata`),
          ``event_corrections`` = ``events_clamped`` + ``events_dropped``.

        Every value is a ``str``, ``int``, ``float`` or ``bool``, so vector stores that take
        only primitive metadata (Chroma, ``filter_complex_metadata``) keep all of it.

        Times a model cites *inside* a plain description count from the start of the
        segment; add ``metadata["start"]`` for the time in the video (``events=True`` does
        that, and checks them).

    Resume, budget, estimate:
        With ``cache=``, each answer is stored as its segment finishes, keyed on the
        file's content hash, the range, model, fps, media_resolution, prompt and output
        settings: a re-run after a crash or ``kill -9`` sends only what is missing, and a
        moved or renamed file still hits. :meth:`estimate` gives tokens and cost first,
        without a key. ``max_cost`` / ``max_input_tokens`` admit requests in document order
        and raise :class:`BudgetExceededError` before the first that would pass them, after
        every earlier document; ``last_run`` counts segments, cache hits, tokens and cost.

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
        401, 402, 403 and 404 (a wrong key, no balance, a forbidden or unknown model), and
        a budget reached.
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
        segment_by: ``"fixed"`` windows (the default, with ``segment_seconds``) or
            ``"scenes"``: cut at shot boundaries (PySceneDetect, the ``[scenes]`` extra).
        min_segment_seconds, max_segment_seconds: bounds of a ``"scenes"`` segment; shorter
            shots join the next, longer ones are split evenly.
        scene_threshold: with ``"scenes"``, the mean change of hue, saturation and
            lightness (0-255) between frames that counts as a cut, in ``(0, 255]``; lower
            finds more cuts. ``None``: PySceneDetect's default, 27. Out of range:
            ``VideoValidationError``, here.
        events: ask for time-coded events per segment (structured output).
        cache: an SQLite file path, a ``DescriptionCache``, or any LangChain ``BaseCache``
            (Redis, Postgres, ...); ``None`` keeps nothing.
        max_cost: budget in the price table's currency (``max_tokens`` of output counted
            as the worst case). max_input_tokens: budget of input tokens.
        prices: prices that override or extend the price table, by model.
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
                cache="library.sqlite",
                max_cost=5.0,
            )
            print(loader.estimate().table())

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

            from langchain_core.indexing import InMemoryRecordManager, index

            records = InMemoryRecordManager("videos")  # or SQLRecordManager
            records.create_schema()
            index(loader, records, store, cleanup="incremental", source_id_key="source")
            for doc in store.similarity_search("When does the red car arrive?", k=3):
                print(doc.metadata["source_url"], doc.metadata["time_range"])
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
        segment_by: SegmentBy = "fixed",
        min_segment_seconds: float = 2.0,
        max_segment_seconds: float = 60.0,
        scene_threshold: float | None = None,
        events: bool = False,
        cache: CacheArg = None,
        max_cost: float | None = None,
        max_input_tokens: int | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
        max_concurrency: int = 4,
        rate_limiter: BaseRateLimiter | None = None,
        show_progress: bool = False,
        on_error: OnError = "raise",
    ) -> None:
        self.sources: list[DescriptionSource] = source_list(sources)
        self.llm = llm
        self.loader = loader if loader is not None else VideoLoader()
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError("prompt must be a non-empty string: the question asked per video.")
        self.prompt = prompt
        self.cache: DescriptionCache | None = as_description_cache(cache)
        self.planner = SegmentPlanner(
            segment_by=segment_by,
            segment_seconds=segment_seconds,
            overlap_seconds=overlap_seconds,
            min_segment_seconds=min_segment_seconds,
            max_segment_seconds=max_segment_seconds,
            scene_threshold=scene_threshold,
            cache=self.cache,
        )
        self.segment_seconds = segment_seconds
        self.overlap_seconds = overlap_seconds
        self.events = bool(events)
        Budget(max_cost=max_cost, max_input_tokens=max_input_tokens)  # checks both
        self.max_cost = max_cost
        self.max_input_tokens = max_input_tokens
        self.prices = prices
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
            tqdm_class()  # fail now, not halfway through a long run
        self.last_run: RunStats | None = None
        """What the latest (or current) run did: segments, cache hits, tokens, cost."""

    @classmethod
    def from_directory(
        cls,
        path: str | os.PathLike[str],
        *,
        glob: str = "**/*",
        suffixes: Sequence[str] | None = VIDEO_SUFFIXES,
        allow_empty: bool = False,
        **kwargs: Any,
    ) -> VideoDescriptionLoader:
        """Describe the videos in a folder.

        The folder is searched once, now; files are described in sorted path order. A
        folder with no matching video raises, since a loader over nothing is almost always a
        wrong path, glob or suffix (an index built from it would be silently empty).

        Args:
            path: the folder.
            glob: pattern of the files to take, relative to ``path`` (``"**/*"``:
                everything, in subfolders too; ``"*.mp4"``: MP4 files at the top).
            suffixes: keep only files with one of these suffixes (case-insensitive);
                default the containers MiMo documents. ``None`` keeps every match.
            allow_empty: return a loader over no files instead of raising when nothing
                matches.
            **kwargs: the other arguments of :class:`VideoDescriptionLoader`.

        Returns:
            A loader over the files found.

        Raises:
            VideoSourceError: if ``path`` is not a folder, or holds no file that matches
                ``glob`` and ``suffixes`` (unless ``allow_empty``); the message says which.

        Example:
            .. code-block:: python

                loader = VideoDescriptionLoader.from_directory("clips", glob="*.mp4")

        """
        return cls(find_videos(path, glob, suffixes, allow_empty=allow_empty), **kwargs)

    def __repr__(self) -> str:
        planner = self.planner
        if planner.segment_by == "scenes":
            segments = (
                f", segment_by='scenes', min_segment_seconds={planner.min_segment_seconds}, "
                f"max_segment_seconds={planner.max_segment_seconds}"
            )
            if planner.scene_threshold is not None:
                segments += f", scene_threshold={planner.scene_threshold:g}"
        elif self.segment_seconds is not None:
            segments = (
                f", segment_seconds={self.segment_seconds}, overlap_seconds={self.overlap_seconds}"
            )
        else:
            segments = ""
        return (
            f"{type(self).__name__}({len(self.sources)} sources{segments}, "
            f"max_concurrency={self.max_concurrency}, on_error={self.on_error!r})"
        )

    # -- the per-segment step --------------------------------------------------------

    def _chat_model(self) -> ChatMiMo:
        if self.llm is None:
            self.llm = ChatMiMo()
        return self.llm

    def describer(self) -> SegmentDescriber:
        """The per-segment step of this loader, as one reusable callable.

        Returns:
            A :class:`~langchain_mimo_video._describe.SegmentDescriber` holding the chat
            model, the video loader, the prompt, ``events``, the cache and the prices;
            ``describer(segment)`` describes one segment.
        """
        return SegmentDescriber(
            self._chat_model(),
            self.loader,
            self.prompt,
            events=self.events,
            cache=self.cache,
            prices=self.prices,
        )

    def plan(self) -> Iterator[Segment]:
        """The segments a run would describe, source by source (probes and hashes files).

        Yields:
            Each :class:`~langchain_mimo_video._describe.Segment`, in document order.

        Raises:
            Exception: the first source that cannot be planned.
        """
        for source in self.sources:
            yield from self.planner.plan(source)

    def _start(self) -> Run:
        describer = self.describer()
        model = describer.llm.model_name
        price = {**DEFAULT_PRICES, **(self.prices or {})}.get(model)
        if self.max_cost is not None and price is None:
            raise BudgetError(
                f"max_cost needs a price for model {model!r}; pass prices={{{model!r}: "
                "ModelPrice(input=..., cached_input=..., output=...)}} or use max_input_tokens."
            )
        progress = Progress(
            show=self.show_progress,
            unit="segment" if self.planner.per_segment else "video",
            currency=price.currency if price is not None else "CNY",
        )
        self.last_run = progress.stats
        budget = Budget(max_cost=self.max_cost, max_input_tokens=self.max_input_tokens)
        return Run(describer, budget, progress, self.rate_limiter)

    # -- cost before you start -------------------------------------------------------

    def estimate(self) -> CorpusEstimate:
        """What a run would send and cost, without sending anything or needing a key.

        Every segment not in the cache is cut exactly as a run would cut it, and its very
        request is estimated with :meth:`ChatMiMo.estimate_request` (video and audio by
        the documented formula; text approximately); the totals are the sums of those.

        Returns:
            Videos, segments, segments already cached, tokens by modality, requests, and
            the cost from the price table (``max_tokens`` of output per request as the
            most it can add, when set).

        Example:
            .. code-block:: python

                print(loader.estimate().table())
        """
        return estimate_corpus(self.sources, self.planner, self.describer(), self.max_concurrency)

    # -- sync ----------------------------------------------------------------------

    def lazy_load(self) -> Iterator[Document]:
        """Describe the videos with a thread pool; yield documents in source order.

        Yields:
            One ``Document`` per video, or per segment.

        Raises:
            MissingAPIKeyError: before anything is sent, when there is no API key.
            BudgetExceededError: at the first segment over ``max_cost`` /
                ``max_input_tokens``, after every document before it.
            Exception: the first failure, with ``on_error="raise"``.
        """
        llm = self._chat_model()
        llm.client  # noqa: B018 -- builds the client once (no API key: fails here)
        run = self._start()
        pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="mimo-describe"
        )
        pending: deque[Future[Outcome]] = deque()
        items = self._plan_all(run.progress)
        turn = 0
        try:
            while True:
                while len(pending) < self.max_concurrency * _PREFETCH_FACTOR:
                    item = next(items, None)
                    if item is None:
                        break
                    if isinstance(item, Outcome):  # the source could not be planned
                        done: Future[Outcome] = Future()
                        done.set_result(item)
                        pending.append(done)
                    else:
                        pending.append(pool.submit(describe_in_turn, run, item, turn))
                        turn += 1
                if not pending:
                    return
                document = self._settle(pending.popleft().result(), run)
                if document is not None:
                    yield document
        finally:
            run.budget.close()
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            run.progress.close()

    def _plan_all(self, progress: Progress) -> Iterator[Segment | Outcome]:
        for source in self.sources:
            tasks: list[Segment | Outcome]
            try:
                tasks = list(self.planner.plan(source))
            except Exception as error:
                tasks = [Outcome(Segment(source), error=error)]
            progress.planned(len(tasks))
            yield from tasks

    # -- async ---------------------------------------------------------------------

    async def alazy_load(self) -> AsyncIterator[Document]:
        """Describe the videos with asyncio; yield documents in source order.

        Same behaviour as :meth:`lazy_load`, with an ``asyncio.Semaphore`` bounding the
        videos in flight; reading, probing and cutting run in worker threads.

        Yields:
            One ``Document`` per video, or per segment.
        """
        llm = self._chat_model()
        llm.async_client  # noqa: B018 -- builds the client once (no API key: fails here)
        run = self._start()
        semaphore = asyncio.Semaphore(self.max_concurrency)
        pending: deque[asyncio.Future[Outcome]] = deque()
        items = self._plan_all(run.progress)
        turn = 0
        try:
            while True:
                while len(pending) < self.max_concurrency * _PREFETCH_FACTOR:
                    # planning hashes and probes files: keep that off the event loop
                    item = await asyncio.to_thread(next, items, None)
                    if item is None:
                        break
                    if isinstance(item, Outcome):
                        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
                        done.set_result(item)
                        pending.append(done)
                    else:
                        pending.append(
                            asyncio.ensure_future(adescribe_in_turn(run, item, turn, semaphore))
                        )
                        turn += 1
                if not pending:
                    return
                document = self._settle(await pending.popleft(), run)
                if document is not None:
                    yield document
        finally:
            run.budget.close()
            for future in pending:
                future.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            run.progress.close()

    # -- shared --------------------------------------------------------------------

    def _settle(self, outcome: Outcome, run: Run) -> Document | None:
        """The outcome's document; or log its error, then raise it or skip it."""
        if outcome.error is None:
            described = outcome.described
            assert described is not None
            run.budget.count(cached=described.cached)
            run.progress.finished(
                cached=described.cached,
                input_tokens=described.input_tokens,
                output_tokens=described.output_tokens,
                cost=described.cost,
            )
            return described.document
        error = outcome.error
        where = outcome.task.where
        if isinstance(error, BudgetExceededError):
            run.budget.update(error)  # every document before it is counted by now
        else:
            run.progress.finished(failed=True)
        if self.on_error == "skip" and not is_fatal(error):
            logger.warning("Skipped %s: %s: %s", where, type(error).__name__, error)
            logger.debug("Traceback of the skipped %s", where, exc_info=error)
            return None
        # The caller gets the exception itself: logging it as an error too would report it
        # twice, so the log keeps a debug record only.
        logger.debug("Could not describe %s", where, exc_info=error)
        if hasattr(error, "add_note"):  # Python 3.11+
            error.add_note(f"(while VideoDescriptionLoader was describing {where})")
        raise error
