"""One simulated account: cash, shares, tax lots, the year's gains, and what trading cost.

Fills are at the day's close moved by the spread model (a buy pays close x (1 + spread),
a sale gets close x (1 - spread)) plus the commission per order, as `CostModel` estimates
them. A buy opens a lot at its fill price; a sale relieves lots in the broker's order
(`tax.relief_order` with the settings' lot method) and realizes each lot's gain at the
sale's fill price, short-term when held one year or less. The wash-sale bookkeeping is
the domain's (`tax.replay_fills`): the last buy of a symbol, and the last sale that
relieved any lot at a loss; the planner reads them through the `LotBook`.

Tax is settled per calendar year: the year's net short- and long-term gains, with the
losses carried from earlier years (keeping their character), are netted as the tax code
does (`tax.net_tax`); a net loss left carries forward, a net gain is taxed at the
settings' rates and owed at the year's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rebalancer.domain.costs import BPS, CostModel
from rebalancer.domain.models import ZERO, Holding, Portfolio, Side
from rebalancer.domain.tax import Fill, LotBook, LotMethod, TaxLot, TaxSettings, relief_order


@dataclass
class Ledger:
    """The mutable state of one policy's account during a replay."""

    cash_usd: Decimal
    lots: dict[str, list[TaxLot]]  # open lots per symbol, in acquisition order
    method: LotMethod
    last_buy_on: dict[str, date] = field(default_factory=dict)
    last_loss_sale_on: dict[str, date] = field(default_factory=dict)
    year_short_usd: Decimal = ZERO
    year_long_usd: Decimal = ZERO
    carry_short_usd: Decimal = ZERO  # net losses carried forward (<= 0)
    carry_long_usd: Decimal = ZERO
    short_term_gains_usd: Decimal = ZERO  # over the whole run
    long_term_gains_usd: Decimal = ZERO
    losses_harvested_usd: Decimal = ZERO
    costs_usd: Decimal = ZERO
    turnover_usd: Decimal = ZERO
    orders: int = 0
    fills: list[Fill] = field(default_factory=list)  # at the close; the spread is a cost

    @classmethod
    def opening(cls, cash_usd: Decimal, lots: tuple[TaxLot, ...], method: LotMethod) -> Ledger:
        """The account on the first day: the cash and the lots given."""
        by_symbol: dict[str, list[TaxLot]] = {}
        for lot in sorted(lots, key=lambda lot: lot.acquired_on):
            if lot.qty > 0:
                by_symbol.setdefault(lot.symbol, []).append(lot)
        return cls(cash_usd, by_symbol, method)

    def qty(self, symbol: str) -> Decimal:
        """Shares held of `symbol`."""
        return sum((lot.qty for lot in self.lots.get(symbol, ())), ZERO)

    def quantities(self) -> dict[str, Decimal]:
        """Shares held per symbol (symbols with shares only)."""
        held = {s: self.qty(s) for s in self.lots}
        return {s: q for s, q in held.items() if q > 0}

    def portfolio(self, prices_usd: dict[str, Decimal]) -> Portfolio:
        """Cash and holdings at `prices_usd`."""
        holdings = tuple(
            Holding(s, q, prices_usd[s], q * prices_usd[s]) for s, q in self.quantities().items()
        )
        return Portfolio(self.cash_usd, holdings)

    def book(self) -> LotBook:
        """The lots in relief order with the wash-sale dates, as the planner reads them."""
        lots = {s: relief_order(held, self.method) for s, held in self.lots.items() if held}
        return LotBook(lots, dict(self.last_buy_on), dict(self.last_loss_sale_on))

    def fill(
        self, symbol: str, side: Side, qty: Decimal, close_usd: Decimal, on: date, costs: CostModel
    ) -> None:
        """Fill one order at the close moved by the spread, paying the commission.

        Args:
            symbol: The symbol traded.
            side: Buy or sell.
            qty: Shares (a sale of more than is held sells what is held).
            close_usd: The day's close.
            on: The day.
            costs: The spread and commission.
        """
        if qty <= 0:
            return
        spread = close_usd * costs.spread_bps / BPS
        self.orders += 1
        self.fills.append(Fill(symbol, side, qty, close_usd, on, len(self.fills)))
        self.costs_usd += spread * qty + costs.commission_usd
        self.turnover_usd += close_usd * qty
        if side is Side.BUY:
            price = close_usd + spread
            self.cash_usd -= price * qty + costs.commission_usd
            self.lots.setdefault(symbol, []).append(TaxLot(symbol, qty, price, on))
            self.last_buy_on[symbol] = on
            return
        price = close_usd - spread
        self.cash_usd += price * qty - costs.commission_usd
        self._relieve(symbol, qty, price, on)

    def _relieve(self, symbol: str, qty: Decimal, price: Decimal, on: date) -> None:
        held = self.lots.get(symbol, [])
        order = relief_order(held, self.method)
        left = qty
        taken: dict[int, Decimal] = {}
        for lot in order:
            if left <= 0:
                break
            take = min(lot.qty, left)
            left -= take
            taken[id(lot)] = take
            gain = (price - lot.cost_per_share_usd) * take
            if gain < 0:
                # The wash-sale rule looks at each lot: any lot sold at a loss counts.
                self.last_loss_sale_on[symbol] = on
                self.losses_harvested_usd -= gain
            if lot.is_long_term(on):
                self.year_long_usd += gain
                self.long_term_gains_usd += gain
            else:
                self.year_short_usd += gain
                self.short_term_gains_usd += gain
        remaining = []
        for lot in held:
            take = taken.get(id(lot), ZERO)
            if take < lot.qty:
                remaining.append(
                    lot
                    if not take
                    else TaxLot(lot.symbol, lot.qty - take, lot.cost_per_share_usd, lot.acquired_on)
                )
        self.lots[symbol] = remaining

    def close_year(self, rates: TaxSettings) -> Decimal:
        """Settle the year: the tax on its net gains, with losses carried forward.

        Args:
            rates: The short- and long-term rates.

        Returns:
            The tax owed for the year (0 when a net loss is left; it carries forward).
        """
        short, long = settle(
            self.year_short_usd + self.carry_short_usd, self.year_long_usd + self.carry_long_usd
        )
        self.year_short_usd = self.year_long_usd = ZERO
        self.carry_short_usd, self.carry_long_usd = min(short, ZERO), min(long, ZERO)
        return max(short, ZERO) * rates.short_term_rate + max(long, ZERO) * rates.long_term_rate

    def tax_if_sold(self, prices_usd: dict[str, Decimal], on: date, rates: TaxSettings) -> Decimal:
        """The tax owed on this year's gains if every lot were also sold at `prices_usd`.

        Sold at the close less the spread, netted with this year's realized gains and the
        losses carried; a net loss left is worth nothing here (no refund).
        """
        short = self.year_short_usd + self.carry_short_usd
        long = self.year_long_usd + self.carry_long_usd
        for symbol, lots in self.lots.items():
            for lot in lots:
                gain = (prices_usd[symbol] - lot.cost_per_share_usd) * lot.qty
                if lot.is_long_term(on):
                    long += gain
                else:
                    short += gain
        short, long = settle(short, long)
        return max(short, ZERO) * rates.short_term_rate + max(long, ZERO) * rates.long_term_rate


def settle(short_usd: Decimal, long_usd: Decimal) -> tuple[Decimal, Decimal]:
    """Net short- against long-term as the tax code does (`tax.net_tax`'s netting).

    A net loss of one character offsets the net gain of the other; what is left keeps
    its character (a loss left carries forward as that character).

    Returns:
        The short- and long-term nets after the offset.
    """
    if short_usd < 0 < long_usd:
        offset = min(-short_usd, long_usd)
        return short_usd + offset, long_usd - offset
    if long_usd < 0 < short_usd:
        offset = min(-long_usd, short_usd)
        return short_usd - offset, long_usd + offset
    return short_usd, long_usd
