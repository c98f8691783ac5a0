"""Where a simulation starts: the user's lots moved back to the history's first day.

A replay starts years ago, but the user's lots are today's. Each lot is rebased to the
history's first day keeping what matters for tax and drift: its share of the portfolio's
value, its gain as a fraction of its value, and its age (so a lot one month from
long-term starts one month from long-term).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.tax import TaxLot

QTY_PLACES = Decimal("0.000000001")
ZERO = Decimal(0)


def rebase_lots(
    lots: tuple[TaxLot, ...],
    today: date,
    prices_now_usd: Mapping[str, Decimal],
    first_day: date,
    prices_then_usd: Mapping[str, Decimal],
) -> tuple[TaxLot, ...]:
    """The lots as they would stand on `first_day`, with the same value, gain and age.

    Args:
        lots: The lots held today.
        today: Today (the lots' ages are measured from it).
        prices_now_usd: Today's price of each held symbol.
        first_day: The history's first day.
        prices_then_usd: Each symbol's close on `first_day`.

    Returns:
        One lot per lot: quantity scaled so its value on `first_day` equals its value
        today, cost per share scaled by the same price ratio (the gain keeps its share of
        the value), acquired as long before `first_day` as it was before today.

    Raises:
        InvalidInput: A held symbol has no price today or on the first day.
    """
    rebased = []
    for lot in lots:
        now, then = prices_now_usd.get(lot.symbol), prices_then_usd.get(lot.symbol)
        if now is None or then is None or now <= 0 or then <= 0:
            raise InvalidInput("portfolio", f"{lot.symbol} has no price history to start from")
        ratio = then / now
        qty = (lot.qty / ratio).quantize(QTY_PLACES, rounding=ROUND_DOWN)
        age = max((today - lot.acquired_on).days, 0)
        rebased.append(
            TaxLot(
                lot.symbol,
                qty,
                lot.cost_per_share_usd * ratio,
                first_day - timedelta(days=age),
            )
        )
    return tuple(rebased)


def common_days(closes: Mapping[str, list[tuple[date, Decimal]]]) -> tuple[date, ...]:
    """The days on which every symbol has a close, oldest first."""
    days: set[date] | None = None
    for series in closes.values():
        have = {day for day, _ in series}
        days = have if days is None else days & have
    return tuple(sorted(days or ()))
