"""Trade planning: the trades that bring a drifted portfolio back to its targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rebalancer.domain.drift import AssetDrift, DriftReport
from rebalancer.domain.models import ZERO, AssetInfo, Portfolio, Side, SkippedTrade, Trade
from rebalancer.domain.orders import round_qty, round_usd

DEFAULT_MIN_TRADE_USD = Decimal(10)


@dataclass(frozen=True)
class TradePlan:
    """Trades in submission order (sells before buys) and the trades dropped, with why."""

    trades: tuple[Trade, ...]
    skipped: tuple[SkippedTrade, ...]

    @property
    def sells(self) -> tuple[Trade, ...]:
        """The sell trades."""
        return tuple(t for t in self.trades if t.side is Side.SELL)

    @property
    def buys(self) -> tuple[Trade, ...]:
        """The buy trades."""
        return tuple(t for t in self.trades if t.side is Side.BUY)


def plan_to_target(
    report: DriftReport,
    portfolio: Portfolio,
    assets: Mapping[str, AssetInfo],
    prices_usd: Mapping[str, Decimal],
    *,
    min_trade_usd: Decimal = DEFAULT_MIN_TRADE_USD,
    reason: str = "Drift trigger",
) -> TradePlan:
    """Size one trade per asset that takes it to its exact target value.

    Sells come first so that their proceeds fund the buys, and the buys never spend more
    than cash plus those proceeds (scaled down in proportion when rounding leaves them
    short). Fractionable assets trade in fractions (9 decimals), others in whole shares;
    a holding with no target is sold in full. Trades worth less than `min_trade_usd`
    after rounding are dropped with the reason.

    Args:
        report: The drift report the trades should remove.
        portfolio: Holdings and their quantities.
        assets: Broker asset information by symbol.
        prices_usd: Current prices by symbol, for every symbol in the report.
        min_trade_usd: Smallest trade worth placing.
        reason: The reason recorded on every trade.

    Returns:
        The plan: sells, then buys, each in report order, and the skipped trades.
    """
    sells: list[Trade] = []
    wanted_buys: list[tuple[AssetDrift, Decimal]] = []
    skipped: list[SkippedTrade] = []
    for row in report.assets:
        diff_usd = row.target_value_usd - row.market_value_usd
        if diff_usd < 0:
            outcome = _size(row, Side.SELL, -diff_usd, portfolio, assets, prices_usd, min_trade_usd)
            if isinstance(outcome, str):
                skipped.append(SkippedTrade(row.symbol, Side.SELL, round_usd(-diff_usd), outcome))
            else:
                sells.append(Trade(row.symbol, Side.SELL, outcome, prices_usd[row.symbol], reason))
        elif diff_usd > 0:
            wanted_buys.append((row, diff_usd))

    # Buys spend only what cash and the sells provide; when rounding leaves them short,
    # every buy shrinks in proportion rather than the last one failing at the broker.
    budget_usd = portfolio.cash_usd + sum((t.estimated_value_usd for t in sells), ZERO)
    wanted_usd = sum((value for _, value in wanted_buys), ZERO)
    scale = min(Decimal(1), budget_usd / wanted_usd) if wanted_usd > 0 else Decimal(1)
    buys: list[Trade] = []
    for row, diff_usd in wanted_buys:
        value_usd = diff_usd * scale if scale > 0 else ZERO
        outcome = _size(row, Side.BUY, value_usd, portfolio, assets, prices_usd, min_trade_usd)
        if isinstance(outcome, str):
            skipped.append(SkippedTrade(row.symbol, Side.BUY, round_usd(diff_usd), outcome))
        else:
            buys.append(Trade(row.symbol, Side.BUY, outcome, prices_usd[row.symbol], reason))
    return TradePlan(tuple(sells + buys), tuple(skipped))


def _size(
    row: AssetDrift,
    side: Side,
    value_usd: Decimal,
    portfolio: Portfolio,
    assets: Mapping[str, AssetInfo],
    prices_usd: Mapping[str, Decimal],
    min_trade_usd: Decimal,
) -> Decimal | str:
    """Return the rounded quantity, or the reason the trade is dropped."""
    asset = assets.get(row.symbol)
    if asset is None or not asset.tradable:
        return "not tradable at the broker"
    price = prices_usd.get(row.symbol)
    if price is None or price <= 0:
        return "no price available"
    if value_usd < min_trade_usd:
        return f"below the minimum trade of ${round_usd(min_trade_usd)}"
    held = portfolio.holding(row.symbol)
    held_qty = held.qty if held else ZERO
    if side is Side.SELL and row.target_percent == 0:
        qty = held_qty
    else:
        qty = round_qty(value_usd / price, fractionable=asset.fractionable, side=side)
        if side is Side.SELL:
            qty = min(qty, held_qty)
    if qty <= 0:
        return f"rounds to zero shares at ${round_usd(price)}"
    if qty * price < min_trade_usd:
        return f"below the minimum trade of ${round_usd(min_trade_usd)} after rounding"
    return qty
