"""A starting portfolio for a user with no account: cash invested at the targets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_DOWN, Decimal

from rebalancer.domain.costs import CostModel
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.models import HUNDRED, ZERO, Target
from rebalancer.domain.tax import TaxLot

QTY_PLACES = Decimal("0.000000001")


def template_portfolio(
    targets: tuple[Target, ...],
    value_usd: Decimal,
    prices_usd: Mapping[str, Decimal],
    on: date,
    costs: CostModel | None = None,
) -> tuple[Decimal, tuple[TaxLot, ...]]:
    """Cash and lots of `value_usd` invested at the targets on `on`, the buffer kept.

    Each enabled target's primary symbol gets one lot bought on `on` at its price
    (fractional shares, rounded down), so every gain the replay realizes is made inside
    the history. The cash buffer of `costs` stays in cash, with the rounding.

    Args:
        targets: The targets (disabled ones are left out).
        value_usd: What the portfolio is worth on `on`.
        prices_usd: Each target symbol's price on `on`.
        on: The first day of the history.
        costs: The cost model whose cash buffer is kept (default costs when None).

    Returns:
        The cash and the lots.

    Raises:
        InvalidInput: The value is not positive, or a target has no positive price.
    """
    if not value_usd.is_finite() or value_usd <= 0:
        raise InvalidInput("template_value_usd", "must be a positive amount")
    costs = costs or CostModel()
    investable = value_usd - costs.buffer_usd(value_usd)
    lots = []
    spent = ZERO
    for target in (t for t in targets if t.enabled):
        price = prices_usd.get(target.symbol)
        if price is None or price <= 0:
            raise InvalidInput("targets", f"{target.symbol} has no price on {on.isoformat()}")
        qty = (investable * target.target_percent / HUNDRED / price).quantize(
            QTY_PLACES, rounding=ROUND_DOWN
        )
        if qty > 0:
            lots.append(TaxLot(target.symbol, qty, price, on))
            spent += qty * price
    return value_usd - spent, tuple(lots)
