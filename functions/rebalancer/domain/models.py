"""Frozen value objects of the domain: targets, holdings, portfolios, trades and orders.

Money and quantities are `Decimal`; percentages are percent points (40 means 40 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types the backend places."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """Order lifetimes the backend accepts."""

    DAY = "day"
    GTC = "gtc"
    OPG = "opg"
    CLS = "cls"
    IOC = "ioc"
    FOK = "fok"


@dataclass(frozen=True)
class Target:
    """One asset's target weight; holdings of its substitutes count toward it."""

    symbol: str
    target_percent: Decimal
    threshold_percent: Decimal | None = None
    enabled: bool = True
    substitutes: tuple[str, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        """The symbol and its substitutes, primary first."""
        return (self.symbol, *self.substitutes)


@dataclass(frozen=True)
class AssetInfo:
    """What the broker says about an asset: can it trade, and in fractions."""

    symbol: str
    tradable: bool
    fractionable: bool
    asset_class: str = "us_equity"


@dataclass(frozen=True)
class Holding:
    """A position valued at the current price."""

    symbol: str
    qty: Decimal
    price_usd: Decimal
    market_value_usd: Decimal


@dataclass(frozen=True)
class Portfolio:
    """Cash plus holdings; the value every weight is measured against."""

    cash_usd: Decimal
    holdings: tuple[Holding, ...] = ()

    @property
    def total_value_usd(self) -> Decimal:
        """Cash plus the market value of every holding."""
        return self.cash_usd + sum((h.market_value_usd for h in self.holdings), ZERO)

    def holding(self, symbol: str) -> Holding | None:
        """The holding of `symbol`, or None."""
        return next((h for h in self.holdings if h.symbol == symbol), None)


@dataclass(frozen=True)
class OrderIntent:
    """One order to send to the broker, fully validated."""

    symbol: str
    side: Side
    qty: Decimal | None = None
    notional_usd: Decimal | None = None
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    limit_price_usd: Decimal | None = None
    client_order_id: str | None = None


@dataclass(frozen=True)
class OrderResult:
    """The broker's answer to an order (or the reason none was placed)."""

    symbol: str
    side: Side
    qty: Decimal | None
    notional_usd: Decimal | None
    status: str
    order_id: str | None = None
    client_order_id: str | None = None
    filled_qty: Decimal = ZERO
    filled_avg_price_usd: Decimal | None = None
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def placed(self) -> bool:
        """True when the broker accepted the order."""
        return self.order_id is not None
