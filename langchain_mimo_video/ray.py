"""Ray Data: describe a video corpus on a cluster with the loader's own per-segment step.

:func:`describe_videos` turns sources into a ``ray.data.Dataset`` with one row per
segment. Planning is :class:`~langchain_mimo_video._plan.SegmentPlanner`'s; describing is
:class:`~langchain_mimo_video._describe.SegmentDescriber`'s, built once in each worker of a
Ray Data actor pool, so a row holds exactly what ``VideoDescriptionLoader`` puts in its
``Document`` (:func:`rows_to_documents` gives that ``Document`` back).

Videos reach the workers through a :class:`~langchain_mimo_video.store.MediaStore` (a
shared fsspec location on a cluster, a local folder on one machine): rows carry the
video's id, never its bytes or a data URL. One small actor (the *gate*) spaces requests
for ``requests_per_second`` over all workers together and admits each request against
``max_cost`` / ``max_input_tokens`` before it is sent. The description cache makes a
re-run after a crash send only what is missing. Ray is imported only here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage

from langchain_mimo_video._describe import (
    Described,
    Segment,
    SegmentDescriber,
    _is_url,
    format_time_range,
)
from langchain_mimo_video._plan import SegmentBy, SegmentPlanner, is_fatal
from langchain_mimo_video.budget import Budget, BudgetError, BudgetExceededError, CorpusEstimate
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.description_cache import DescriptionCache, as_description_cache
from langchain_mimo_video.document_loaders import (
    DEFAULT_PROMPT,
    CacheArg,
    DescriptionSource,
    VideoDescriptionLoader,
)
from langchain_mimo_video.errors import MediaError, MiMoError
from langchain_mimo_video.events import media_fragment_url
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.tokens import DEFAULT_PRICES, ModelPrice
from langchain_mimo_video.video import VideoLoader

if TYPE_CHECKING:
    import pyarrow
    import ray.data

__all__ = [
    "OUTPUT_COLUMNS",
    "describe_videos",
    "estimate_videos",
    "rows_to_documents",
]

#: The columns of :func:`describe_videos`'s rows, in order.
OUTPUT_COLUMNS: Final = (
    "source",
    "start",
    "end",
    "time_range",
    "source_url",
    "segment_index",
    "text",
    "usage",
    "model",
    "cost",
    "cached",
    "error",
    "id",
    "metadata",
)
_USAGE_FIELDS: Final = ("input_tokens", "output_tokens", "video_tokens", "audio_tokens")
_PLAN_FIELDS: Final = (
    "source",
    "start",
    "end",
    "duration",
    "segment_index",
    "content_hash",
    "link",
    "error",
)
#: Blocks of this many rows per in-flight request of a worker keep every worker busy.
_ROWS_PER_SLOT: Final = 1

CacheSpec = CacheArg | Callable[[], CacheArg]


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MediaError(
            'langchain_mimo_video.ray needs Ray Data: pip install "langchain-mimo-video[ray]".'
        ) from error
    return ray


# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------


def _plan_schema() -> pyarrow.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("source", pa.string()),
            ("start", pa.float64()),
            ("end", pa.float64()),
            ("duration", pa.float64()),
            ("segment_index", pa.int64()),
            ("content_hash", pa.string()),
            ("link", pa.string()),
            ("error", pa.string()),
        ]
    )


def _output_schema() -> pyarrow.Schema:
    import pyarrow as pa

    usage = pa.struct([(name, pa.int64()) for name in _USAGE_FIELDS])
    types = {
        "source": pa.string(),
        "start": pa.float64(),
        "end": pa.float64(),
        "time_range": pa.string(),
        "source_url": pa.string(),
        "segment_index": pa.int64(),
        "text": pa.string(),
        "usage": usage,
        "model": pa.string(),
        "cost": pa.float64(),
        "cached": pa.bool_(),
        "error": pa.string(),
        "id": pa.string(),
        "metadata": pa.string(),
    }
    return pa.schema([(name, types[name]) for name in OUTPUT_COLUMNS])


# ---------------------------------------------------------------------------
# The job's settings, shipped to every worker
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to build its describer (pickled once per worker)."""

    llm: ChatMiMo
    loader: VideoLoader
    prompt: str
    events: bool
    cache: CacheSpec
    prices: Mapping[str, ModelPrice] | None
    store: MediaStore
    in_flight: int
    budgeted: bool


def _make_cache(spec: CacheSpec) -> DescriptionCache | None:
    """The cache of ``spec``; a function is called (on each worker) to make it."""
    from langchain_core.caches import BaseCache

    if callable(spec) and not isinstance(spec, (DescriptionCache, BaseCache)):
        spec = spec()
    return as_description_cache(spec)


def _settings(sources: list[Any], cache: CacheSpec, **options: Any) -> VideoDescriptionLoader:
    """A local loader with the same settings: it checks them, plans and estimates."""
    return VideoDescriptionLoader(sources, cache=_make_cache(cache), on_error="skip", **options)


# ---------------------------------------------------------------------------
# Planning: sources -> segment rows (videos put in the store)
# ---------------------------------------------------------------------------


def _plan_source(
    source: DescriptionSource, planner: SegmentPlanner, store: MediaStore
) -> list[dict[str, Any]]:
    """The segment rows of one source; one error row when it cannot be planned.

    A local file is put in the store (once: the store is content-addressed) and planned
    from the store's copy, so workers on other machines read the same bytes.
    """
    label = os.fspath(source)
    try:
        if _is_url(source):
            segments = planner.plan(source)
            link = None
        else:
            media_id = store.put(source)
            with _local_copy(store, media_id) as local:
                segments = [replace(s, source=label) for s in planner.plan(local)]
            link = str(Path(label).resolve())
    except Exception as error:
        if is_fatal(error):
            raise
        return [{**dict.fromkeys(_PLAN_FIELDS), "source": label, "error": _error_text(error)}]
    return [{**segment.to_row(), "link": link, "error": None} for segment in segments]


def _plan_batch(
    batch: pyarrow.Table, *, column: str, planner: SegmentPlanner, store: MediaStore
) -> pyarrow.Table:
    """Ray Data stage: a batch of sources (``column``) to a table of segment rows."""
    import pyarrow as pa

    rows = [
        row
        for source in batch.column(column).to_pylist()
        for row in _plan_source(source, planner, store)
    ]
    return pa.Table.from_pylist(rows, schema=_plan_schema())


def _plan_list(
    sources: Sequence[DescriptionSource], planner: SegmentPlanner, store: MediaStore, threads: int
) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mimo-ray-plan") as pool:
        planned = list(pool.map(lambda source: _plan_source(source, planner, store), sources))
    return [row for rows in planned for row in rows]


class _LocalFiles:
    """Stored videos as local files on a worker: the store's own file, or a download."""

    def __init__(self, store: MediaStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._users: dict[str, int] = {}
        self._folder: Path | None = None

    def acquire(self, media_id: str) -> Path:
        local = self.store.local_path(media_id)
        if local is not None:
            if not local.is_file():
                raise self.store._missing(media_id)
            return local
        with self._lock:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="mimo-ray-"))
            target = self._folder / media_id
            self._users[media_id] = self._users.get(media_id, 0) + 1
            if not target.exists():
                with self.store.open(media_id) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            return target

    def release(self, media_id: str) -> None:
        with self._lock:
            if media_id not in self._users:
                return
            self._users[media_id] -= 1
            if not self._users[media_id] and self._folder is not None:
                del self._users[media_id]
                (self._folder / media_id).unlink(missing_ok=True)


@contextlib.contextmanager
def _local_copy(store: MediaStore, media_id: str) -> Iterator[Path]:
    """A stored video as a local file while the block runs."""
    files = _LocalFiles(store)
    try:
        yield files.acquire(media_id)
    finally:
        files.release(media_id)


# ---------------------------------------------------------------------------
# The gate: one actor for the rate limit and the budget of all workers together
# ---------------------------------------------------------------------------


class _Gate:
    """Spaces requests ``1 / requests_per_second`` apart and admits them within budget.

    Runs as one Ray actor (single-threaded, so its calls never interleave). A request is
    admitted against what answered requests used plus what admitted ones may still use
    (:class:`~langchain_mimo_video.budget.Budget`'s arithmetic), in the order requests
    arrive; once one is refused, every later one is refused too.
    """

    def __init__(
        self,
        requests_per_second: float | None,
        max_cost: float | None,
        max_input_tokens: int | None,
    ) -> None:
        self.interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self.next_slot = 0.0
        self.budget = Budget(max_cost=max_cost, max_input_tokens=max_input_tokens)
        self.turn = 0
        self.refusal: dict[str, Any] | None = None

    def admit(self, input_tokens: int, cost: float | None, where: str) -> dict[str, Any]:
        """Admit one request: ``{"delay": s, "held": ...}`` or ``{"refused": fields}``."""
        held = None
        if self.budget.active:
            if self.refusal is not None:
                return {"refused": {**self.refusal, **self._progress(), "where": where}}
            try:
                held = self.budget.admit(
                    self.turn, input_tokens=input_tokens, cost=cost, where=where
                )
            except BudgetExceededError as error:
                self.refusal = {
                    "limit_name": error.limit_name,
                    "limit": error.limit,
                    "would_reach": error.would_reach,
                }
                return {"refused": {**self.refusal, **self._progress(), "where": where}}
            self.turn += 1
        delay = 0.0
        if self.interval:
            now = time.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
            delay = slot - now
        return {"delay": delay, "held": held}

    def _progress(self) -> dict[str, Any]:
        return {
            "described": self.budget.described,
            "from_cache": self.budget.from_cache,
            "input_tokens": self.budget.spent_tokens,
            "cost": self.budget.spent_cost,
        }

    def settle(self, held: tuple[int, float], input_tokens: int, cost: float | None) -> None:
        """An admitted request was answered: count what it actually used."""
        self.budget.settle(held, input_tokens, cost)
        self.budget.count(cached=False)

    def release(self, held: tuple[int, float]) -> None:
        """An admitted request failed: give back what it held."""
        self.budget.release(held)

    def stats(self) -> dict[str, Any]:
        """Spent tokens and cost, requests admitted, and whether the budget was reached."""
        return {**self._progress(), "admitted": self.turn, "refused": self.refusal is not None}


# ---------------------------------------------------------------------------
# Describing: the loader's SegmentDescriber on each worker
# ---------------------------------------------------------------------------


class _StoredSegmentDescriber(SegmentDescriber):
    """:class:`SegmentDescriber` reading local videos from the store, not their path.

    A segment keeps its source as given (that is what its document names); only the
    bytes cut and sent come from the store's copy (same content: ``content_hash`` is the
    store id).
    """

    def __init__(self, *args: Any, files: _LocalFiles, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files = files

    def _stored(self, segment: Segment) -> Segment:
        if segment.content_hash is None or _is_url(segment.source):
            return segment
        return replace(segment, source=self.files.acquire(segment.content_hash))

    def _done(self, segment: Segment) -> None:
        if segment.content_hash is not None and not _is_url(segment.source):
            self.files.release(segment.content_hash)

    def messages(self, segment: Segment) -> list[BaseMessage]:
        """The request's messages, cut from the store's copy of the video."""
        stored = self._stored(segment)
        try:
            return super().messages(stored)
        finally:
            self._done(segment)

    def _row(self, segment: Segment, reply: BaseMessage, parsed: Any) -> dict[str, Any]:
        # A whole video's duration is measured on the store's copy (the path given may
        # not exist on this worker).
        if segment.start is not None:
            return super()._row(segment, reply, parsed)
        stored = self._stored(segment)
        try:
            return super()._row(stored, reply, parsed)
        finally:
            self._done(segment)


class _DescribeSegments:
    """Ray Data callable class: a block of segment rows in, a block of output rows out.

    Built once per worker: the describer (chat model and its HTTP client, video loader,
    cache) and a pool of ``in_flight`` threads, the requests this worker sends at once.
    """

    def __init__(self, job: _Job, gate: Any) -> None:
        self.describer = _StoredSegmentDescriber(
            job.llm,
            job.loader,
            job.prompt,
            events=job.events,
            cache=_make_cache(job.cache),
            prices=job.prices,
            files=_LocalFiles(job.store),
        )
        self.describer.llm.client  # noqa: B018 -- one HTTP client per worker, built now
        self.gate = gate
        self.budgeted = job.budgeted
        self.pool = ThreadPoolExecutor(max_workers=job.in_flight, thread_name_prefix="mimo-ray")

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        import pyarrow as pa

        rows = list(self.pool.map(self.describe_row, batch.to_pylist()))
        return pa.Table.from_pylist(rows, schema=_output_schema())

    def describe_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One planned row to one output row (an error row when it fails)."""
        if row.get("error"):
            return _error_row(row, str(row["error"]))
        segment = Segment.from_row(row)
        held: tuple[int, float] | None = None
        ray = _ray()

        def before_send(segment: Segment, messages: list[BaseMessage]) -> None:
            nonlocal held
            if self.gate is None:
                return
            tokens, cost = 0, None
            if self.budgeted:  # estimating probes the clip: only for a budget
                estimate = self.describer.estimate(messages)
                tokens, cost = estimate.input_tokens, self.describer.request_cost(estimate)
            answer = ray.get(self.gate.admit.remote(tokens, cost, segment.where))
            if "refused" in answer:
                raise BudgetExceededError(**answer["refused"])
            held = answer["held"]
            if answer["delay"] > 0:
                time.sleep(answer["delay"])

        try:
            described = self.describer.describe(segment, before_send)
        except Exception as error:
            if held is not None:
                self.gate.release.remote(held)
            if is_fatal(error) and not isinstance(error, BudgetExceededError):
                raise
            return _error_row(row, _error_text(error))
        if held is not None:
            self.gate.settle.remote(held, described.input_tokens, described.cost)
        return _described_row(row, described)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _error_row(row: Mapping[str, Any], error: str) -> dict[str, Any]:
    start, end = row.get("start"), row.get("end")
    return {
        **dict.fromkeys(OUTPUT_COLUMNS),
        "source": row["source"],
        "start": start,
        "end": end,
        "time_range": None if start is None else format_time_range(start, end),
        "segment_index": row.get("segment_index"),
        "cached": False,
        "error": error,
    }


def _described_row(row: Mapping[str, Any], described: Described) -> dict[str, Any]:
    document = described.document
    metadata = dict(document.metadata)
    if row.get("link"):
        # The deep link of a local file names it where it was planned (a worker's working
        # folder may differ, and the file may not exist there at all).
        metadata["source_url"] = media_fragment_url(
            row["link"], metadata["start"], metadata.get("end")
        )
    return {
        "source": metadata["source"],
        "start": metadata["start"],
        "end": metadata.get("end"),
        "time_range": metadata["time_range"],
        "source_url": metadata["source_url"],
        "segment_index": metadata.get("segment_index"),
        "text": document.page_content,
        "usage": {name: int(metadata.get(name, 0)) for name in _USAGE_FIELDS},
        "model": metadata.get("model"),
        "cost": described.cost,
        "cached": described.cached,
        "error": None,
        "id": document.id,
        "metadata": json.dumps(metadata, sort_keys=True),
    }


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def _source_values(sources: Any, column: str) -> list[Any] | None:
    """The sources as a list, or ``None`` for a Ray Dataset (planned on the cluster)."""
    if hasattr(sources, "map_batches") and hasattr(sources, "schema"):
        return None
    from langchain_mimo_video._plan import source_list

    return source_list(sources)


def describe_videos(
    sources: ray.data.Dataset | DescriptionSource | Iterable[DescriptionSource],
    *,
    llm: ChatMiMo,
    loader: VideoLoader | None = None,
    prompt: str = DEFAULT_PROMPT,
    column: str = "path",
    segment_seconds: float | None = None,
    overlap_seconds: float = 0.0,
    segment_by: SegmentBy = "fixed",
    min_segment_seconds: float = 2.0,
    max_segment_seconds: float = 60.0,
    events: bool = False,
    cache: CacheSpec = None,
    store: MediaStore | str | os.PathLike[str] | None = None,
    max_cost: float | None = None,
    max_input_tokens: int | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    requests_per_second: float | None = None,
    workers: int = 2,
    concurrency: int = 8,
    num_cpus: float = 0.5,
) -> ray.data.Dataset:
    """Describe videos on Ray Data: one row per segment, as ``VideoDescriptionLoader``.

    Call it after ``ray.init()``. Local files in a list are put in ``store`` and planned
    here, where they are; a Ray Dataset of sources is planned on the cluster (its paths
    must be readable there). Workers read the videos from the store.

    Rows (see :data:`OUTPUT_COLUMNS`): ``source``, ``start``, ``end``, ``time_range``,
    ``source_url`` (deep link), ``segment_index``, ``text``, ``usage`` (``input_tokens``,
    ``output_tokens``, ``video_tokens``, ``audio_tokens``), ``model``, ``cost`` (of this run;
    0 from the cache), ``cached``, ``error``, ``id`` and ``metadata`` (the document's, as
    JSON). A video or segment that fails becomes a row with ``error`` set (its type and
    message) and the job goes on, as ``on_error="skip"``; so does one refused by the
    budget. Errors that would fail every video (no key, 401, 402, 403, 404) fail the job.
    The rows come in no particular order.

    Args:
        sources: a Ray Dataset with a ``column`` of paths or URLs, or a list of them.
        llm: the chat model (pickled to each worker once).
        loader: turns videos into parts; its fps and media_resolution apply.
        prompt: the question asked beside each video.
        column: the Dataset column holding the sources.
        segment_seconds: cut local videos into segments of this length (``None``:
            whole videos), as in ``VideoDescriptionLoader``.
        overlap_seconds: seconds shared by neighbouring segments.
        segment_by: ``"fixed"`` windows or ``"scenes"`` (shot boundaries).
        min_segment_seconds: shortest ``"scenes"`` segment.
        max_segment_seconds: longest ``"scenes"`` segment.
        events: ask for time-coded events per segment (structured output).
        prices: prices that override or extend the price table, by model.
        cache: where descriptions are kept, shared by every worker: an SQLite path (one
            host), a ``DescriptionCache`` or LangChain ``BaseCache``, or a function that
            returns one, called on each worker (for clients that do not pickle, such as
            Redis or Postgres caches).
        store: the :class:`MediaStore` (or its root) the videos travel through; default
            the per-user folder (one machine). On a cluster, an fsspec URL all nodes reach.
        max_cost: a budget for all workers together, in the price table's currency
            (``max_tokens`` of output counted as the worst case); a request that would
            pass it is not sent (that row and every later one get an error).
        max_input_tokens: a budget of input tokens, likewise.
        requests_per_second: requests sent per second by all workers together.
        workers: actors describing segments.
        concurrency: requests in flight in all: ``workers`` x requests per worker
            (a multiple of ``workers``).
        num_cpus: CPUs Ray reserves per worker (they mostly wait on MiMo).

    Returns:
        The lazy Dataset; nothing is described until it is consumed.

    Raises:
        ValueError: ``concurrency`` is not a positive multiple of ``workers``.
        MediaError: Ray Data is not installed.

    Example:
        .. code-block:: python

            import ray
            from langchain_mimo_video import ChatMiMo
            from langchain_mimo_video.ray import describe_videos, rows_to_documents

            ray.init()
            rows = describe_videos(
                ["a.mp4", "b.mp4"], llm=ChatMiMo(), segment_seconds=30,
                cache="library.sqlite", requests_per_second=4, concurrency=8,
            ).take_all()
            documents = rows_to_documents(rows)
    """
    engine = _ray()
    for name, value in (("workers", workers), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if concurrency % workers:
        raise ValueError(
            f"concurrency={concurrency} must be a multiple of workers={workers}: each worker "
            "sends concurrency / workers requests at once."
        )
    if requests_per_second is not None and not requests_per_second > 0:
        raise ValueError(f"requests_per_second must be > 0, got {requests_per_second!r}.")
    values = _source_values(sources, column)
    local = _settings(
        values or [],
        cache,
        llm=llm,
        loader=loader,
        prompt=prompt,
        segment_seconds=segment_seconds,
        overlap_seconds=overlap_seconds,
        segment_by=segment_by,
        min_segment_seconds=min_segment_seconds,
        max_segment_seconds=max_segment_seconds,
        events=events,
        max_cost=max_cost,
        max_input_tokens=max_input_tokens,
        prices=prices,
    )
    if max_cost is not None and llm.model_name not in {**DEFAULT_PRICES, **(prices or {})}:
        model = llm.model_name
        raise BudgetError(
            f"max_cost needs a price for model {model!r}; pass prices={{{model!r}: "
            "ModelPrice(input=..., cached_input=..., output=...)}} or use max_input_tokens."
        )
    media = store if isinstance(store, MediaStore) else MediaStore(store)
    in_flight = concurrency // workers
    budgeted = max_cost is not None or max_input_tokens is not None
    job = _Job(llm, local.loader, prompt, local.events, cache, prices, media, in_flight, budgeted)
    planner = local.planner
    if values is not None:
        rows = _plan_list(values, planner, media, threads=min(4, max(1, len(values))))
        blocks = max(1, -(-len(rows) // (in_flight * _ROWS_PER_SLOT)))
        planned = engine.data.from_items(rows, override_num_blocks=blocks)
    else:
        dataset: Any = sources
        planned = dataset.map_batches(
            _plan_batch,
            batch_format="pyarrow",
            batch_size=1,
            fn_kwargs={"column": column, "planner": planner, "store": media},
            num_cpus=num_cpus,
        )
    gate = None
    if requests_per_second is not None or budgeted:
        gate = (
            engine.remote(num_cpus=0)(_Gate)
            .options(name=f"langchain-mimo-video-gate-{uuid.uuid4().hex[:12]}")
            .remote(requests_per_second, max_cost, max_input_tokens)
        )
    described: ray.data.Dataset = planned.map_batches(
        _DescribeSegments,
        batch_format="pyarrow",
        batch_size=None,
        fn_constructor_kwargs={"job": job, "gate": gate},
        compute=engine.data.ActorPoolStrategy(
            size=workers,
            max_tasks_in_flight_per_actor=2,
            max_concurrent_calls_per_actor=2,
            enable_true_multi_threading=True,
        ),
        num_cpus=num_cpus,
    )
    return described


def estimate_videos(
    sources: ray.data.Dataset | DescriptionSource | Iterable[DescriptionSource],
    *,
    llm: ChatMiMo,
    column: str = "path",
    cache: CacheSpec = None,
    **options: Any,
) -> CorpusEstimate:
    """What :func:`describe_videos` would send and cost, before it runs (no key needed).

    The very estimate of ``VideoDescriptionLoader.estimate()`` for the same sources and
    settings: each segment not in the cache is cut and its request estimated, here.

    Args:
        sources: as in :func:`describe_videos` (a Dataset's ``column`` is read here).
        llm: the chat model (its model, ``max_tokens`` and prices decide the cost).
        column: the Dataset column holding the sources.
        cache: as in :func:`describe_videos`; cached segments cost nothing.
        **options: the other planning and description settings of
            :func:`describe_videos` (``loader``, ``prompt``, ``segment_seconds``, ...);
            Ray-only ones (``store``, ``workers``, ``requests_per_second``, ...) are
            accepted and ignored.

    Returns:
        Videos, segments, cached segments, tokens by modality, requests and cost.

    Example:
        .. code-block:: python

            print(estimate_videos(paths, llm=ChatMiMo(), segment_seconds=30).table())
    """
    for name in ("store", "workers", "concurrency", "num_cpus", "requests_per_second"):
        options.pop(name, None)
    values = _source_values(sources, column)
    if values is None:
        dataset: Any = sources
        values = [row[column] for row in dataset.select_columns([column]).take_all()]
    return _settings(values, cache, llm=llm, **options).estimate()


def rows_to_documents(rows: Iterable[Mapping[str, Any]], *, errors: str = "skip") -> list[Document]:
    """The ``Document`` of each described row, as ``VideoDescriptionLoader`` makes it.

    Args:
        rows: rows of :func:`describe_videos` (``take_all()``, ``iter_rows()``, pandas
            records...).
        errors: ``"skip"`` leaves error rows out; ``"raise"`` raises at the first one.

    Returns:
        The documents, in the order of ``rows``.

    Raises:
        MiMoError: with ``errors="raise"``, for a row that holds an error.

    Example:
        .. code-block:: python

            documents = rows_to_documents(dataset.iter_rows())
    """
    if errors not in ("skip", "raise"):
        raise ValueError(f"errors must be 'skip' or 'raise', got {errors!r}.")
    documents = []
    for row in rows:
        if row.get("error"):
            if errors == "raise":
                raise MiMoError(f"{row['source']} {row.get('time_range') or ''}: {row['error']}")
            continue
        documents.append(
            Document(id=row["id"], page_content=row["text"], metadata=json.loads(row["metadata"]))
        )
    return documents
