"""Model prices, CNY per million tokens, as data: each figure with where it comes from.

All of them are second-hand. The vendor's video-understanding page bills input, cached
input and output tokens and sends readers to its "Pricing and Rate Limits" page for the
figures, which we have not read first-hand; the numbers below are reports of that page.
Edit them here when the vendor's prices change (and say where the new figure comes from);
callers that need other figures pass ``prices=`` to
:func:`langchain_mimo_video.tokens.estimate_cost` instead.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PRICES", "Price"]


class Price(NamedTuple):
    """One model's prices per million tokens, and where they come from."""

    input: float
    cached_input: float
    output: float
    currency: str
    source: str


PRICES: dict[str, Price] = {
    "mimo-v2.5": Price(
        input=1.0,
        cached_input=0.02,
        output=2.0,
        currency="CNY",
        source="second-hand: a report of the vendor's pricing page after the 2026-05-27 cut",
    ),
    "mimo-v2-omni": Price(
        input=2.8,
        cached_input=0.56,
        output=14.0,
        currency="CNY",
        source=(
            "second-hand: a report of the vendor's earlier list price (shared with mimo-v2.5 "
            "before the 2026-05-27 cut); no later figure for this model has been published, "
            "and the model is retired"
        ),
    ),
}
