"""Progress of a description run: segments done of total, tokens, cost, cache hits, failures.

:class:`RunStats` counts; :class:`Progress` shows the counts on a tqdm bar when asked (and
tqdm is installed) and keeps them for the caller either way
(``VideoDescriptionLoader.last_run``).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["Progress", "RunStats", "tqdm_class"]


@dataclass
class RunStats:
    """What a run did so far.

    Attributes:
        total: segments (or whole videos) planned so far.
        done: finished, successfully or not.
        cached: documents that came from the cache (no request).
        failed: segments that failed (skipped or raised).
        requests: requests answered by MiMo.
        input_tokens: input tokens MiMo reported.
        output_tokens: output tokens MiMo reported.
        cost: what the answered requests cost by the price table (``None``: no price).
        currency: the price table's currency.
    """

    total: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0
    currency: str = "CNY"

    def summary(self) -> str:
        """One line, e.g. ``"12/40 segments, 3 cached, 0 failed, 51,200 in / 3,100 out"``."""
        cost = "" if self.cost is None else f", {self.cost:.4f} {self.currency}"
        return (
            f"{self.done}/{self.total} segments, {self.cached} cached, {self.failed} failed, "
            f"{self.input_tokens:,} tokens in / {self.output_tokens:,} out{cost}"
        )


def tqdm_class() -> Any:
    """The ``tqdm.auto`` bar class; an ``ImportError`` that says how to install it if missing."""
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        raise ImportError("show_progress=True needs the tqdm package: pip install tqdm") from None


class Progress:
    """Counts a run and, with ``show=True``, draws them on a tqdm bar.

    Args:
        show: draw a bar (needs tqdm).
        unit: ``"segment"`` or ``"video"``.
        currency: shown beside the cost.
    """

    def __init__(self, *, show: bool, unit: str = "segment", currency: str = "CNY") -> None:
        self.stats = RunStats(currency=currency)
        self._lock = threading.Lock()
        self._bar: Any = None
        if show:
            self._bar = tqdm_class()(total=0, desc="Describing videos", unit=unit)

    def planned(self, count: int) -> None:
        """``count`` more segments are planned."""
        with self._lock:
            self.stats.total += count
            if self._bar is not None:
                self._bar.total = self.stats.total
                self._bar.refresh()

    def finished(
        self,
        *,
        cached: bool = False,
        failed: bool = False,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost: float | None = 0.0,
    ) -> None:
        """One segment finished: from the cache, from a request, or failed."""
        with self._lock:
            stats = self.stats
            stats.done += 1
            stats.cached += cached
            stats.failed += failed
            if not cached and not failed:
                stats.requests += 1
                stats.input_tokens += input_tokens
                stats.output_tokens += output_tokens
                stats.cost = None if cost is None or stats.cost is None else stats.cost + cost
            if self._bar is not None:
                postfix = {
                    "tokens": f"{stats.input_tokens + stats.output_tokens:,}",
                    "cached": stats.cached,
                    "failed": stats.failed,
                }
                if stats.cost is not None:
                    postfix["cost"] = f"{stats.cost:.4f} {stats.currency}"
                self._bar.set_postfix(postfix, refresh=False)
                self._bar.update(1)

    def close(self) -> None:
        """Close the bar (the counts stay)."""
        if self._bar is not None:
            self._bar.close()
