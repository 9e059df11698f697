"""Cost before you start, and a budget a run cannot pass.

:class:`CorpusEstimate` holds the totals :meth:`VideoDescriptionLoader.estimate` adds up
from the per-request estimates of the very requests a run would send. :class:`Budget`
admits requests in document order and refuses, before it is sent, the first one whose
estimate would take the run past ``max_cost`` or ``max_input_tokens``, raising
:class:`BudgetExceededError`, which says how far the run got.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_mimo_video.errors import MiMoError
from langchain_mimo_video.tokens import DEFAULT_PRICES, ModelPrice, estimate_cost

if TYPE_CHECKING:
    from langchain_mimo_video._describe import Segment, SegmentDescriber
    from langchain_mimo_video._plan import SegmentPlanner

__all__ = [
    "Budget",
    "BudgetError",
    "BudgetExceededError",
    "CorpusEstimate",
    "RunStopped",
    "estimate_corpus",
    "request_cost",
]


class BudgetError(MiMoError, ValueError):
    """A budget that cannot be checked, e.g. ``max_cost`` for a model with no known price."""


class RunStopped(Exception):
    """A segment's turn never came: the run stopped (refused budget, or finished early)."""


class BudgetExceededError(MiMoError):
    """The next request would take the run past its budget; nothing more was sent.

    Attributes:
        limit_name: ``"max_cost"`` or ``"max_input_tokens"``.
        limit: the limit.
        would_reach: what the run would have reached with the refused request.
        described: segments described in this run before it stopped (cache hits included).
        from_cache: how many of them came from the cache.
        input_tokens: input tokens the run used (requests answered).
        cost: what those requests cost, from the price table.
        where: the segment that was refused.
    """

    def __init__(
        self,
        *,
        limit_name: str,
        limit: float,
        would_reach: float,
        described: int,
        from_cache: int,
        input_tokens: int,
        cost: float,
        where: str,
    ) -> None:
        super().__init__(limit_name, limit, where)
        self.limit_name = limit_name
        self.limit = limit
        self.would_reach = would_reach
        self.described = described
        self.from_cache = from_cache
        self.input_tokens = input_tokens
        self.cost = cost
        self.where = where

    def __str__(self) -> str:
        if self.limit_name == "max_input_tokens":
            reach = f"{self.would_reach:,.0f} input tokens"
        else:
            reach = f"{self.would_reach:.6g} (price table)"
        return (
            f"Stopped before describing {self.where}: it would bring the run to {reach}, "
            f"over {self.limit_name}={self.limit:g}. {self.described} documents were made "
            f"before it ({self.from_cache} from the cache), using {self.input_tokens:,} input "
            f"tokens costing {self.cost:.6g}; they were returned and are cached. Raise "
            f"{self.limit_name} and run again to go on (cached segments are not paid twice)."
        )


def request_cost(
    model: str,
    input_tokens: int,
    output_tokens: int,
    prices: Mapping[str, ModelPrice] | None = None,
) -> float | None:
    """A request's price from the price table; ``None`` when the model has none."""
    if model not in {**DEFAULT_PRICES, **(prices or {})}:
        return None
    return estimate_cost(model, input_tokens, output_tokens, prices=prices)


@dataclass
class CorpusEstimate:
    """What describing a library would send, before anything is sent.

    Token counts and cost cover the segments still to describe (not those in the cache).

    Attributes:
        model: the model priced.
        videos: videos planned.
        segments: segments (or whole videos) planned.
        cached_segments: of those, already in the cache (they cost nothing).
        video_tokens: vision tokens of the requests to send.
        audio_tokens: audio tokens of the requests to send.
        text_tokens: text tokens (prompt, schema, message overhead), approximate.
        requests: requests that would be sent.
        max_output_tokens: ``max_tokens`` times the requests, when ``max_tokens`` is set.
        input_cost: price of the input tokens (``None``: no price known for the model).
        max_output_cost: price of ``max_output_tokens`` (``None`` when unknown or unset).
        currency: the prices' currency.
        failed: sources or segments that could not be planned or estimated, with why.
    """

    model: str
    videos: int = 0
    segments: int = 0
    cached_segments: int = 0
    video_tokens: int = 0
    audio_tokens: int = 0
    text_tokens: int = 0
    requests: int = 0
    max_output_tokens: int | None = None
    input_cost: float | None = None
    max_output_cost: float | None = None
    currency: str = "CNY"
    failed: list[str] = field(default_factory=list)

    @property
    def input_tokens(self) -> int:
        """All input tokens of the requests to send."""
        return self.video_tokens + self.audio_tokens + self.text_tokens

    @property
    def cost(self) -> float | None:
        """Input cost plus, when ``max_tokens`` is set, the most the output can cost."""
        if self.input_cost is None:
            return None
        return self.input_cost + (self.max_output_cost or 0.0)

    def table(self) -> str:
        """The estimate as an aligned two-column table, for a terminal."""

        def money(value: float | None) -> str:
            return "unknown" if value is None else f"{value:.4f} {self.currency}"

        rows: list[tuple[str, str]] = [
            ("model", self.model),
            ("videos", f"{self.videos}"),
            ("segments", f"{self.segments}"),
            ("already cached", f"{self.cached_segments}"),
            ("requests to send", f"{self.requests}"),
            ("video tokens", f"{self.video_tokens:,}"),
            ("audio tokens", f"{self.audio_tokens:,}"),
            ("text tokens (approx.)", f"{self.text_tokens:,}"),
            ("input tokens", f"{self.input_tokens:,}"),
            ("input cost", money(self.input_cost)),
        ]
        if self.max_output_tokens is not None:
            rows.append(("output tokens (at most)", f"{self.max_output_tokens:,}"))
            rows.append(("output cost (at most)", money(self.max_output_cost)))
            rows.append(("cost (at most)", money(self.cost)))
        if self.failed:
            rows.append(("not estimated", f"{len(self.failed)}"))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)

    def as_dict(self) -> dict[str, Any]:
        """Every figure, for JSON."""
        return {
            "model": self.model,
            "videos": self.videos,
            "segments": self.segments,
            "cached_segments": self.cached_segments,
            "requests": self.requests,
            "video_tokens": self.video_tokens,
            "audio_tokens": self.audio_tokens,
            "text_tokens": self.text_tokens,
            "input_tokens": self.input_tokens,
            "max_output_tokens": self.max_output_tokens,
            "input_cost": self.input_cost,
            "max_output_cost": self.max_output_cost,
            "cost": self.cost,
            "currency": self.currency,
            "failed": list(self.failed),
        }


class Budget:
    """Limits on one run, checked before each request, in document order.

    Each request is admitted with its estimate (input tokens; cost with ``max_tokens`` of
    output as the worst case) against what answered requests actually used plus what
    admitted requests still in flight may use. Requests are admitted strictly in the
    order of their documents (turn ``0, 1, 2, ...``), so the documents before the refused
    one are all made and none after it is.

    Args:
        max_cost: the most the run may cost, in the price table's currency.
        max_input_tokens: the most input tokens the run may send.
    """

    def __init__(self, *, max_cost: float | None = None, max_input_tokens: int | None = None):
        if max_cost is not None and not max_cost >= 0:
            raise BudgetError(f"max_cost must be a number >= 0, got {max_cost!r}.")
        if max_input_tokens is not None and (
            isinstance(max_input_tokens, bool)
            or not isinstance(max_input_tokens, int)
            or max_input_tokens < 0
        ):
            raise BudgetError(
                f"max_input_tokens must be an integer >= 0, got {max_input_tokens!r}."
            )
        self.max_cost = max_cost
        self.max_input_tokens = max_input_tokens
        self._lock = threading.Condition()
        self._turn = 0
        self._passed: set[int] = set()
        self._closed = False
        self.spent_tokens = 0
        self.spent_cost = 0.0
        self._held_tokens = 0
        self._held_cost = 0.0
        self.described = 0
        self.from_cache = 0

    @property
    def active(self) -> bool:
        """Whether any limit is set (otherwise admission never waits)."""
        return self.max_cost is not None or self.max_input_tokens is not None

    # -- turns -----------------------------------------------------------------------

    def _advance(self, turn: int) -> None:
        self._passed.add(turn)
        while self._turn in self._passed:
            self._passed.discard(self._turn)
            self._turn += 1
        self._lock.notify_all()

    def skip(self, turn: int) -> None:
        """Turn ``turn`` sends nothing (a cache hit, a failure before sending)."""
        with self._lock:
            self._advance(turn)

    def close(self) -> None:
        """Wake every waiter: the run is over (waiters then raise :class:`RunStopped`)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def wait_turn(self, turn: int) -> None:
        """Block until every earlier turn was admitted or skipped."""
        with self._lock:
            while self._turn < turn and not self._closed:
                self._lock.wait()
            if self._closed and self._turn < turn:
                raise RunStopped("the run ended before this segment's turn")

    async def await_turn(self, turn: int) -> None:
        """:meth:`wait_turn` for the event loop (polls; turns pass in milliseconds)."""
        while True:
            with self._lock:
                if self._turn >= turn:
                    return
                if self._closed:
                    raise RunStopped("the run ended before this segment's turn")
            await asyncio.sleep(0.002)

    # -- money -----------------------------------------------------------------------

    def admit(
        self, turn: int, *, input_tokens: int, cost: float | None, where: str
    ) -> tuple[int, float]:
        """Admit turn ``turn``'s request or raise; call after :meth:`wait_turn`.

        Returns:
            What was held for it, to pass to :meth:`settle`.

        Raises:
            BudgetExceededError: the request would pass a limit (the turn is closed then,
                so no later request is admitted either).
        """
        with self._lock:
            if self._closed:
                raise RunStopped("the run stopped before this segment's turn")
            held_cost = cost or 0.0
            refusal: tuple[str, float, float] | None = None
            tokens_after = self.spent_tokens + self._held_tokens + input_tokens
            cost_after = self.spent_cost + self._held_cost + held_cost
            if self.max_input_tokens is not None and tokens_after > self.max_input_tokens:
                refusal = ("max_input_tokens", self.max_input_tokens, tokens_after)
            elif self.max_cost is not None and cost_after > self.max_cost:
                refusal = ("max_cost", self.max_cost, cost_after)
            if refusal is not None:
                self._closed = True
                self._lock.notify_all()
                raise self._refusal(*refusal, where)
            self._held_tokens += input_tokens
            self._held_cost += held_cost
            self._advance(turn)
            return input_tokens, held_cost

    def settle(self, held: tuple[int, float], input_tokens: int, cost: float | None) -> None:
        """Replace what was held for an answered request by what it actually used."""
        with self._lock:
            self._held_tokens -= held[0]
            self._held_cost -= held[1]
            self.spent_tokens += input_tokens
            self.spent_cost += cost or 0.0

    def release(self, held: tuple[int, float]) -> None:
        """Give back what was held for a request that failed without an answer."""
        with self._lock:
            self._held_tokens -= held[0]
            self._held_cost -= held[1]

    def give_back(self, held: tuple[int, float] | None, turn: int) -> None:
        """A request failed: release what it held, or pass its turn if it held nothing."""
        if held is None:
            self.skip(turn)
        else:
            self.release(held)

    def finish(
        self, held: tuple[int, float] | None, turn: int, input_tokens: int, cost: float | None
    ) -> None:
        """A segment is done: settle its request, or pass its turn (a cache hit)."""
        if held is None:
            self.skip(turn)
        else:
            self.settle(held, input_tokens, cost)

    def count(self, *, cached: bool) -> None:
        """One more document made (``cached``: from the cache)."""
        with self._lock:
            self.described += 1
            self.from_cache += cached

    def _refusal(
        self, name: str, limit: float, would_reach: float, where: str
    ) -> BudgetExceededError:
        return BudgetExceededError(
            limit_name=name,
            limit=limit,
            would_reach=would_reach,
            described=self.described,
            from_cache=self.from_cache,
            input_tokens=self.spent_tokens,
            cost=self.spent_cost,
            where=where,
        )

    def update(self, error: BudgetExceededError) -> None:
        """Bring ``error``'s progress figures up to date (earlier requests finished since)."""
        with self._lock:
            error.described = self.described
            error.from_cache = self.from_cache
            error.input_tokens = self.spent_tokens
            error.cost = self.spent_cost


def estimate_corpus(
    sources: Sequence[str | os.PathLike[str]],
    planner: SegmentPlanner,
    describer: SegmentDescriber,
    max_concurrency: int = 4,
) -> CorpusEstimate:
    """Add up the per-request estimates of every request a run would send.

    Segments the cache holds are counted, not estimated; every other one is cut as a run
    would cut it and its very request estimated (:meth:`SegmentDescriber.estimate`).

    Args:
        sources: the videos.
        planner: how they are cut.
        describer: the per-segment step (model, loader, prompt, cache, prices).
        max_concurrency: segments cut and estimated at once.

    Returns:
        The totals; sources or segments that fail are listed in ``failed``.
    """
    llm = describer.llm
    price = {**DEFAULT_PRICES, **(describer.prices or {})}.get(llm.model_name)
    result = CorpusEstimate(model=llm.model_name)
    if price is not None:
        result.currency = price.currency
    segments: list[Segment] = []
    for source in sources:
        try:
            planned = planner.plan(source)
        except Exception as error:
            result.failed.append(f"{os.fspath(source)}: {type(error).__name__}: {error}")
            continue
        result.videos += 1
        segments.extend(planned)
    result.segments = len(segments)

    def one(segment: Segment) -> tuple[bool, Any]:
        if describer.cache is not None and describer.key(segment) in describer.cache:
            return True, None
        try:
            return False, describer.estimate(describer.messages(segment))
        except Exception as error:
            return False, f"{segment.where}: {type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=max_concurrency) as pool:
        for cached, estimate in pool.map(one, segments):
            if cached:
                result.cached_segments += 1
            elif isinstance(estimate, str):
                result.failed.append(estimate)
            else:
                result.requests += 1
                result.video_tokens += estimate.video_tokens
                result.audio_tokens += estimate.audio_tokens
                result.text_tokens += estimate.text_tokens
    if price is not None:
        result.input_cost = describer.request_cost_of(result.input_tokens, 0)
    if llm.max_tokens is not None:
        result.max_output_tokens = llm.max_tokens * result.requests
        if price is not None:
            result.max_output_cost = describer.request_cost_of(0, result.max_output_tokens)
    return result
