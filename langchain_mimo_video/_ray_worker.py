"""What runs on the workers of :func:`langchain_mimo_video.ray.describe_videos`.

Planning a source into segment rows (its video put in the
:class:`~langchain_mimo_video.store.MediaStore`), the *gate* actor that spaces and budgets
the requests of all workers together, and the Ray Data callable class that describes rows
with :class:`~langchain_mimo_video._describe.SegmentDescriber`. Nothing here imports Ray:
Ray calls these classes, and results of the gate are awaited through ``ObjectRef.future()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from langchain_core.caches import BaseCache
from langchain_core.messages import BaseMessage

from langchain_mimo_video._describe import (
    Described,
    Segment,
    SegmentDescriber,
    format_time_range,
)
from langchain_mimo_video._plan import SegmentPlanner, is_fatal
from langchain_mimo_video._utils import is_url
from langchain_mimo_video.budget import Budget, BudgetExceededError
from langchain_mimo_video.chat_models import ChatMiMo
from langchain_mimo_video.description_cache import DescriptionCache, as_description_cache
from langchain_mimo_video.document_loaders import CacheArg, DescriptionSource
from langchain_mimo_video.events import media_fragment_url
from langchain_mimo_video.store import MediaStore
from langchain_mimo_video.tokens import ModelPrice
from langchain_mimo_video.video import VideoLoader

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "OUTPUT_COLUMNS",
    "CacheSpec",
    "DescribeSegments",
    "Gate",
    "Job",
    "make_cache",
    "plan_batch",
    "plan_source",
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

CacheSpec = CacheArg | Callable[[], CacheArg]
"""A cache, or a function that makes it on each worker (for clients that do not pickle)."""

# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------


def plan_schema() -> pyarrow.Schema:
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


def output_schema() -> pyarrow.Schema:
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
class Job:
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


def make_cache(spec: CacheSpec) -> DescriptionCache | None:
    """The cache of ``spec``; a function is called (on each worker) to make it."""
    if callable(spec) and not isinstance(spec, (DescriptionCache, BaseCache)):
        spec = spec()
    return as_description_cache(spec)


# ---------------------------------------------------------------------------
# Planning: sources -> segment rows (videos put in the store)
# ---------------------------------------------------------------------------


def plan_source(
    source: DescriptionSource, planner: SegmentPlanner, store: MediaStore
) -> list[dict[str, Any]]:
    """The segment rows of one source; one error row when it cannot be planned.

    A local file is put in the store (once: the store is content-addressed) and planned
    from the store's copy, so workers on other machines read the same bytes.
    """
    label = os.fspath(source)
    stored: Path | None = None
    try:
        if is_url(source):
            segments = planner.plan(source)
            link = None
        else:
            media_id = store.put(source)
            with local_copy(store, media_id) as stored:
                segments = [replace(s, source=label) for s in planner.plan(stored)]
            link = str(Path(label).resolve())
    except Exception as error:
        if is_fatal(error):
            raise
        text = _error_text(error, stored, label)
        return [{**dict.fromkeys(_PLAN_FIELDS), "source": label, "error": text}]
    return [{**segment.to_row(), "link": link, "error": None} for segment in segments]


def plan_batch(
    batch: pyarrow.Table, *, column: str, planner: SegmentPlanner, store: MediaStore
) -> pyarrow.Table:
    """Ray Data stage: a batch of sources (``column``) to a table of segment rows."""
    import pyarrow as pa

    rows = [
        row
        for source in batch.column(column).to_pylist()
        for row in plan_source(source, planner, store)
    ]
    return pa.Table.from_pylist(rows, schema=plan_schema())


class LocalFiles:
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
                raise self.store.missing_error(media_id)
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
def local_copy(store: MediaStore, media_id: str) -> Iterator[Path]:
    """A stored video as a local file while the block runs."""
    files = LocalFiles(store)
    try:
        yield files.acquire(media_id)
    finally:
        files.release(media_id)


# ---------------------------------------------------------------------------
# The gate: one actor for the rate limit and the budget of all workers together
# ---------------------------------------------------------------------------


class Gate:
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


class StoredSegmentDescriber(SegmentDescriber):
    """:class:`SegmentDescriber` reading local videos from the store, not their path.

    A segment keeps its source as given (that is what its document names); only the
    bytes cut and sent come from the store's copy (same content: ``content_hash`` is the
    store id).
    """

    def __init__(self, *args: Any, files: LocalFiles, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files = files

    def _stored(self, segment: Segment) -> Segment:
        if segment.content_hash is None or is_url(segment.source):
            return segment
        return replace(segment, source=self.files.acquire(segment.content_hash))

    def _done(self, segment: Segment) -> None:
        if segment.content_hash is not None and not is_url(segment.source):
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


class DescribeSegments:
    """Ray Data callable class: a block of segment rows in, a block of output rows out.

    Built once per worker: the describer (chat model and its HTTP client, video loader,
    cache) and a pool of ``in_flight`` threads, the requests this worker sends at once.
    """

    def __init__(self, job: Job, gate: Any) -> None:
        self.describer = StoredSegmentDescriber(
            job.llm,
            job.loader,
            job.prompt,
            events=job.events,
            cache=make_cache(job.cache),
            prices=job.prices,
            files=LocalFiles(job.store),
        )
        self.describer.llm.client  # noqa: B018 -- one HTTP client per worker, built now
        self.gate = gate
        self.budgeted = job.budgeted
        self.pool = ThreadPoolExecutor(max_workers=job.in_flight, thread_name_prefix="mimo-ray")

    def __call__(self, batch: pyarrow.Table) -> pyarrow.Table:
        import pyarrow as pa

        rows = list(self.pool.map(self.describe_row, batch.to_pylist()))
        return pa.Table.from_pylist(rows, schema=output_schema())

    def describe_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One planned row to one output row (an error row when it fails)."""
        if row.get("error"):
            return _error_row(row, str(row["error"]))
        segment = Segment.from_row(row)
        held: tuple[int, float] | None = None

        def before_send(segment: Segment, messages: list[BaseMessage]) -> None:
            nonlocal held
            if self.gate is None:
                return
            tokens, cost = 0, None
            if self.budgeted:  # estimating probes the clip: only for a budget
                estimate = self.describer.estimate(messages)
                tokens, cost = estimate.input_tokens, self.describer.request_cost(estimate)
            answer = self.gate.admit.remote(tokens, cost, segment.where).future().result()
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
            stored = None
            if segment.content_hash is not None and not is_url(segment.source):
                stored = self.describer.files.store.local_path(segment.content_hash)
            return _error_row(row, _error_text(error, stored, segment.label))
        if held is not None:
            self.gate.settle.remote(held, described.input_tokens, described.cost)
        return _described_row(row, described)


def _error_text(error: BaseException, stored: Path | None = None, label: str = "") -> str:
    """``"Type: message"``, naming the video as given rather than the store's copy of it."""
    text = f"{type(error).__name__}: {error}"
    return text.replace(os.fspath(stored), label) if stored is not None else text


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
