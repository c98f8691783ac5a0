"""Statistics of one policy's run: tracking error, drift, the sampled series (floats).

Money is counted in Decimal where it moves (the ledger); these are statistics of the
run, so floats are precise enough and much faster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

TRADING_DAYS_PER_YEAR = 252
MAX_SERIES_POINTS = 250


def daily_returns(values: Sequence[float], flows: Sequence[float]) -> list[float]:
    """Each day's return of a portfolio with external flows.

    Args:
        values: End-of-day values, oldest first.
        flows: Money that came in (positive) or left (negative) on each day, from outside
            the portfolio's own return: contributions, withdrawals, tax paid.

    Returns:
        `(value[d] - flow[d]) / value[d - 1] - 1` for each day after the first (0 when the
        day before was worth nothing).
    """
    return [
        (values[d] - flows[d]) / values[d - 1] - 1 if values[d - 1] > 0 else 0.0
        for d in range(1, len(values))
    ]


def target_returns(closes: Sequence[Sequence[float]], weights: Sequence[float]) -> list[float]:
    """Each day's return of the target mix, rebalanced to its weights every day.

    Args:
        closes: Closes per day, one column per asset, oldest first.
        weights: The target weight of each column (fractions summing to 1).

    Returns:
        The weighted sum of the assets' daily returns, for each day after the first.
    """
    return [
        sum(w * (now[i] / before[i] - 1) for i, w in enumerate(weights) if w)
        for before, now in itertools.pairwise(closes)
    ]


def tracking_error_percent(portfolio: Sequence[float], target: Sequence[float]) -> float:
    """Annualized tracking error, in percent.

    Args:
        portfolio: The portfolio's daily returns.
        target: The target mix's daily returns, same days.

    Returns:
        The sample standard deviation of the daily differences times sqrt(252), times
        100; 0 with fewer than two days.
    """
    diffs = [p - t for p, t in zip(portfolio, target, strict=True)]
    if len(diffs) < 2:
        return 0.0
    mean = sum(diffs) / len(diffs)
    variance = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
    return math.sqrt(variance) * math.sqrt(TRADING_DAYS_PER_YEAR) * 100


def sample_indices(count: int, most: int = MAX_SERIES_POINTS) -> list[int]:
    """At most `most` evenly spaced day indices out of `count`, first and last included."""
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(k * step) for k in range(most)})
