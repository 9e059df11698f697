"""One description run's workers: describe a segment within the budget and rate limit.

The loader hands each segment, with its turn (its position in document order), to
:func:`describe_in_turn` on a thread pool or :func:`adescribe_in_turn` on the event loop.
A worker never raises: it returns an :class:`Outcome` holding the document or the error,
and the loader settles outcomes in document order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from langchain_core.messages import BaseMessage
from langchain_core.rate_limiters import BaseRateLimiter

from langchain_mimo_video._describe import Described, Segment, SegmentDescriber
from langchain_mimo_video._estimate import RequestEstimate
from langchain_mimo_video.budget import Budget
from langchain_mimo_video.progress import Progress

__all__ = ["Outcome", "Run", "adescribe_in_turn", "describe_in_turn"]


@dataclass
class Outcome:
    """A finished segment: what describing it gave, or the error that stopped it."""

    task: Segment
    described: Described | None = None
    error: BaseException | None = None


@dataclass
class Run:
    """What one run shares between its workers."""

    describer: SegmentDescriber
    budget: Budget
    progress: Progress
    rate_limiter: BaseRateLimiter | None = None


def _admit(run: Run, turn: int, segment: Segment, estimate: RequestEstimate) -> tuple[int, float]:
    return run.budget.admit(
        turn,
        input_tokens=estimate.input_tokens,
        cost=run.describer.request_cost(estimate),
        where=segment.where,
    )


def describe_in_turn(run: Run, task: Segment, turn: int) -> Outcome:
    """Describe one segment (from the cache when it can); never raises.

    Just before its request is sent, the request is estimated and admitted by the budget
    in turn order, then the rate limiter is acquired.
    """
    held: tuple[int, float] | None = None

    def before_send(segment: Segment, messages: list[BaseMessage]) -> None:
        nonlocal held
        if run.budget.active:
            estimate = run.describer.estimate(messages)
            run.budget.wait_turn(turn)
            held = _admit(run, turn, segment, estimate)
        if run.rate_limiter is not None:
            run.rate_limiter.acquire(blocking=True)

    try:
        described = run.describer.describe(task, before_send)
    except Exception as error:
        run.budget.give_back(held, turn)
        return Outcome(task, error=error)
    run.budget.finish(held, turn, described.input_tokens, described.cost)
    return Outcome(task, described)


async def adescribe_in_turn(
    run: Run, task: Segment, turn: int, semaphore: asyncio.Semaphore
) -> Outcome:
    """Async :func:`describe_in_turn`, one of at most ``semaphore``'s value at a time."""
    held: tuple[int, float] | None = None

    async def before_send(segment: Segment, messages: list[BaseMessage]) -> None:
        nonlocal held
        if run.budget.active:
            estimate = await asyncio.to_thread(run.describer.estimate, messages)
            await run.budget.await_turn(turn)
            held = _admit(run, turn, segment, estimate)
        if run.rate_limiter is not None:
            await run.rate_limiter.aacquire(blocking=True)

    async with semaphore:
        try:
            described = await run.describer.adescribe(task, before_send)
        except Exception as error:
            run.budget.give_back(held, turn)
            return Outcome(task, error=error)
        run.budget.finish(held, turn, described.input_tokens, described.cost)
        return Outcome(task, described)
