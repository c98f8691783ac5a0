"""A look ahead: the chance each asset leaves its band soon, by Monte Carlo (seeded).

The daily log returns of the history give each asset's mean and volatility and their
correlations; paths are drawn as correlated normal log returns through the Cholesky
factor of the covariance. Cash stays cash. On each path an asset breaches on the first
day its weight is outside its band (strictly, as the drift check counts a breach).
numpy is imported inside the function, so importing the domain stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rebalancer.domain.models import Target
from rebalancer.domain.simulation.model import BandOutlook, ForwardView, PriceHistory

PLACES = Decimal("0.0001")
JITTER = 1e-12  # added to the covariance's diagonal when it is not positive definite


def forward_view(
    history: PriceHistory,
    targets: Sequence[Target],
    weights_now: Mapping[str, Decimal],
    bands: Mapping[str, tuple[Decimal, Decimal]],
    horizons: tuple[int, int] = (30, 90),
    paths: int = 2000,
    seed: int = 14,
) -> ForwardView:
    """The chance of each asset leaving its band within the two horizons, and when.

    Args:
        history: Daily closes (at least three days) of every symbol in `symbols`.
        targets: The targets followed (each enabled target's primary symbol stands for
            its group; `history` must hold its closes).
        weights_now: Today's weight of each target's group, by its symbol, in percent of
            the portfolio (cash is what the weights leave of 100).
        bands: Each target's band, by its symbol: the low and high weight in percent.
        horizons: The short and the long horizon, in trading days.
        paths: How many paths to draw.
        seed: The seed of `numpy.random.default_rng`: the same seed, the same answer.

    Returns:
        Per symbol, the probability of a breach within each horizon and the mean day of
        the first breach on the paths that breach within the long one (None when none
        does; 0 when it is outside its band today); and the chance any asset breaches.

    Raises:
        ValueError: Fewer than three days of history, no symbols, or a bad horizon.
    """
    import numpy as np

    symbols = [t.symbol for t in targets if t.enabled]
    short, long = horizons
    if len(history.days) < 3 or not symbols or not 0 < short <= long or paths < 1:
        raise ValueError("a forward view needs 3 days of history, symbols and horizons")
    closes = np.array([[float(c) for c in history.closes_usd[s]] for s in symbols])
    logs = np.diff(np.log(closes), axis=1)  # assets x days
    mean = logs.mean(axis=1)
    cov = np.atleast_2d(np.cov(logs))
    factor = _cholesky(np, cov)
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal((paths, long, len(symbols))) @ factor.T + mean
    growth = np.exp(np.cumsum(shocks, axis=1))  # paths x days x assets
    start = np.array([float(weights_now.get(s, 0)) / 100 for s in symbols])
    cash = max(0.0, 1 - float(start.sum()))
    values = growth * start
    weights = values / (cash + values.sum(axis=2, keepdims=True)) * 100
    low = np.array([float(bands[s][0]) for s in symbols])
    high = np.array([float(bands[s][1]) for s in symbols])
    outside = (weights < low) | (weights > high)  # paths x days x assets
    now_out = (start * 100 < low) | (start * 100 > high)
    first = np.where(outside.any(axis=1), outside.argmax(axis=1) + 1, 0)  # 0: never
    first = np.where(now_out, 0, first)
    hit = (first > 0) | now_out
    assets = []
    for k, symbol in enumerate(symbols):
        day = first[:, k]
        within_short = 1.0 if now_out[k] else float(((day > 0) & (day <= short)).mean())
        within_long = 1.0 if now_out[k] else float(hit[:, k].mean())
        breached = day[day > 0]
        expected: Decimal | None
        if now_out[k]:
            expected = Decimal(0)
        elif breached.size:
            expected = _decimal(float(breached.mean()))
        else:
            expected = None
        assets.append(BandOutlook(symbol, _decimal(within_short), _decimal(within_long), expected))
    any_day = np.where(hit, np.where(first > 0, first, 0), long + 1).min(axis=1)
    any_short = float((any_day <= short).mean())
    any_long = float((any_day <= long).mean())
    return ForwardView(tuple(assets), _decimal(any_short), _decimal(any_long), paths, seed)


def _cholesky(np: Any, cov: Any) -> Any:
    """The lower Cholesky factor, nudging the diagonal until it is positive definite."""
    jitter = JITTER * max(1.0, float(np.trace(cov)))
    for _ in range(12):
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            cov = cov + np.eye(len(cov)) * jitter
            jitter *= 10
    return np.diag(np.sqrt(np.clip(np.diag(cov), 0, None)))


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 4))).quantize(PLACES)
