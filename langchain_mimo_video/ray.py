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

import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document

from langchain_mimo_video._plan import SegmentBy, SegmentPlanner
from langchain_mimo_video._ray_worker import (
    OUTPUT_COLUMNS,
    CacheSpec,
    DescribeSegments,
    Gate,
    Job,
    make_cache,
    plan_batch,
    plan_source,
)
from langchain_mimo_video.budget import BudgetError, CorpusEstimate
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.document_loaders import (
    DEFAULT_PROMPT,
    DescriptionSource,
    VideoDescriptionLoader,
)
from langchain_mimo_video.errors import MediaError, MiMoError
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.tokens import DEFAULT_PRICES, ModelPrice
from langchain_mimo_video.video import VideoLoader

if TYPE_CHECKING:
    import ray.data

__all__ = [
    "OUTPUT_COLUMNS",
    "CacheSpec",
    "describe_videos",
    "estimate_videos",
    "rows_to_documents",
]

#: Rows per block: one block per in-flight request slot keeps every worker busy.
_ROWS_PER_SLOT = 1

#: How the describing actors take blocks: two blocks per actor at once, on real threads, so
#: one block's requests start while the other's last answer is awaited.
_ACTOR_POOL_OPTIONS: dict[str, Any] = {
    "max_tasks_in_flight_per_actor": 2,
    "max_concurrent_calls_per_actor": 2,
    "enable_true_multi_threading": True,
}


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise MediaError(
            'langchain_mimo_video.ray needs Ray Data: pip install "langchain-mimo-video[ray]".'
        ) from error
    return ray


def _settings(sources: list[Any], cache: CacheSpec, **options: Any) -> VideoDescriptionLoader:
    """A local loader with the same settings: it checks them, plans and estimates."""
    return VideoDescriptionLoader(sources, cache=make_cache(cache), on_error="skip", **options)


def _plan_list(
    sources: Sequence[DescriptionSource], planner: SegmentPlanner, store: MediaStore, threads: int
) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mimo-ray-plan") as pool:
        planned = list(pool.map(lambda source: plan_source(source, planner, store), sources))
    return [row for rows in planned for row in rows]


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
    scene_threshold: float | None = None,
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
        scene_threshold: the change between frames that counts as a cut (``"scenes"``),
            in ``(0, 255]``; ``None``: 27, PySceneDetect's default.
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
        scene_threshold=scene_threshold,
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
    job = Job(llm, local.loader, prompt, local.events, cache, prices, media, in_flight, budgeted)
    planner = local.planner
    if values is not None:
        rows = _plan_list(values, planner, media, threads=min(4, max(1, len(values))))
        blocks = max(1, -(-len(rows) // (in_flight * _ROWS_PER_SLOT)))
        planned = engine.data.from_items(rows, override_num_blocks=blocks)
    else:
        dataset: Any = sources
        planned = dataset.map_batches(
            plan_batch,
            batch_format="pyarrow",
            batch_size=1,
            fn_kwargs={"column": column, "planner": planner, "store": media},
            num_cpus=num_cpus,
        )
    gate = None
    if requests_per_second is not None or budgeted:
        gate = (
            engine.remote(num_cpus=0)(Gate)
            .options(name=f"langchain-mimo-video-gate-{uuid.uuid4().hex[:12]}")
            .remote(requests_per_second, max_cost, max_input_tokens)
        )
    described: ray.data.Dataset = planned.map_batches(
        DescribeSegments,
        batch_format="pyarrow",
        batch_size=None,
        fn_constructor_kwargs={"job": job, "gate": gate},
        compute=engine.data.ActorPoolStrategy(size=workers, **_ACTOR_POOL_OPTIONS),
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
