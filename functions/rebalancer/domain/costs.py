"""The trading cost model: commission, spread, minimum trade size and the cash buffer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer.domain.models import ZERO

BPS = Decimal(10_000)


@dataclass(frozen=True)
class CostModel:
    """What a trade costs and which trades are too small to place.

    Defaults: no commission (Alpaca charges none), 5 basis points of spread and slippage,
    $10 minimum trade, cash buffer of 25 basis points of the portfolio value.
    """

    commission_usd: Decimal = ZERO
    spread_bps: Decimal = Decimal(5)
    min_trade_usd: Decimal = Decimal(10)
    cash_buffer_bps: Decimal = Decimal(25)

    def cost_usd(self, value_usd: Decimal) -> Decimal:
        """Estimated cost of one order worth `value_usd` (commission plus spread)."""
        return self.commission_usd + abs(value_usd) * self.spread_bps / BPS

    def buffer_usd(self, portfolio_value_usd: Decimal) -> Decimal:
        """Cash to keep uninvested."""
        return portfolio_value_usd * self.cash_buffer_bps / BPS
