"""Tax lots: replayed from the broker's fills, relieved in the broker's order, taxed.

Short-term means held one year or less. Rates are settings; the defaults are documented
on `TaxSettings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from rebalancer.domain.models import ZERO, Side

WASH_SALE_DAYS = 30


class LotMethod(StrEnum):
    """The order in which the broker relieves lots on a sale."""

    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"


@dataclass(frozen=True)
class TaxLot:
    """Shares bought together: quantity, cost per share and the day they were acquired."""

    symbol: str
    qty: Decimal
    cost_per_share_usd: Decimal
    acquired_on: date

    def is_long_term(self, on: date) -> bool:
        """Held more than one year on `on`."""
        return on > _one_year_after(self.acquired_on)


@dataclass(frozen=True)
class Fill:
    """One execution, as a FILL activity reports it."""

    symbol: str
    side: Side
    qty: Decimal
    price_usd: Decimal
    on: date
    sequence: int = 0


@dataclass(frozen=True)
class TaxSettings:
    """How taxes are estimated and which tax rules the planner honours.

    Defaults: short-term gains taxed at 35 %, long-term at 15 % (a typical US federal
    bracket), FIFO relief (Alpaca's default), no tax limit, no rule enforced.
    """

    short_term_rate: Decimal = Decimal("0.35")
    long_term_rate: Decimal = Decimal("0.15")
    lot_method: LotMethod = LotMethod.FIFO
    avoid_short_term_gains: bool = False
    harvest_losses: bool = False
    harvest_threshold_percent: Decimal = Decimal(5)
    tax_limit_usd: Decimal | None = None


@dataclass(frozen=True)
class Realized:
    """Gains a sale realizes, split by holding period, and the tax estimated on them."""

    short_term_gain_usd: Decimal = ZERO
    long_term_gain_usd: Decimal = ZERO
    estimated_tax_usd: Decimal = ZERO

    def __add__(self, other: Realized) -> Realized:
        """Gains and per-sale taxes summed (the netted total is `net_tax` of the gains)."""
        return Realized(
            self.short_term_gain_usd + other.short_term_gain_usd,
            self.long_term_gain_usd + other.long_term_gain_usd,
            self.estimated_tax_usd + other.estimated_tax_usd,
        )


@dataclass(frozen=True)
class LotBook:
    """Open lots per symbol in relief order, and the recent trades the wash-sale rule needs."""

    lots: Mapping[str, tuple[TaxLot, ...]] = field(default_factory=dict)
    last_buy_on: Mapping[str, date] = field(default_factory=dict)
    last_loss_sale_on: Mapping[str, date] = field(default_factory=dict)

    def of(self, symbol: str) -> tuple[TaxLot, ...]:
        """The open lots of `symbol`, in the order a sale relieves them."""
        return self.lots.get(symbol, ())

    def bought_within(self, symbol: str, on: date, days: int = WASH_SALE_DAYS) -> bool:
        """True when `symbol` was bought within `days` before `on`."""
        last = self.last_buy_on.get(symbol)
        return last is not None and on - last <= timedelta(days=days)

    def sold_at_loss_within(self, symbol: str, on: date, days: int = WASH_SALE_DAYS) -> bool:
        """True when `symbol` was sold at a loss within `days` before `on`."""
        last = self.last_loss_sale_on.get(symbol)
        return last is not None and on - last <= timedelta(days=days)


def relief_order(lots: Iterable[TaxLot], method: LotMethod) -> tuple[TaxLot, ...]:
    """Lots in the order a sale relieves them.

    Args:
        lots: Open lots of one symbol, in any order.
        method: FIFO (oldest first), LIFO (newest first) or HIFO (highest cost first).

    Returns:
        The lots in relief order; ties keep their acquisition order.
    """
    given = list(lots)
    return tuple(given[i] for i in _relief_indices(given, method))


def _relief_indices(lots: Sequence[TaxLot], method: LotMethod) -> list[int]:
    """Positions of `lots` (in acquisition order) in the order a sale relieves them."""
    positions = range(len(lots))
    if method is LotMethod.LIFO:
        return sorted(positions, key=lambda i: (lots[i].acquired_on, i), reverse=True)
    if method is LotMethod.HIFO:
        return sorted(
            positions, key=lambda i: (-lots[i].cost_per_share_usd, lots[i].acquired_on, i)
        )
    return sorted(positions, key=lambda i: (lots[i].acquired_on, i))


def relieve(
    lots: Sequence[TaxLot], qty: Decimal
) -> tuple[list[tuple[TaxLot, Decimal]], tuple[TaxLot, ...]]:
    """Take `qty` shares from lots already in relief order.

    Args:
        lots: Open lots in relief order.
        qty: Shares sold; more than the lots hold takes them all.

    Returns:
        The (lot, shares taken) pairs, and the lots left open (same order).
    """
    taken: list[tuple[TaxLot, Decimal]] = []
    left = qty
    remaining: list[TaxLot] = []
    for lot in lots:
        if left <= 0:
            remaining.append(lot)
            continue
        take = min(lot.qty, left)
        taken.append((lot, take))
        left -= take
        if take < lot.qty:
            remaining.append(replace(lot, qty=lot.qty - take))
    return taken, tuple(remaining)


def realize(
    lots: Sequence[TaxLot], qty: Decimal, price_usd: Decimal, on: date, settings: TaxSettings
) -> Realized:
    """Gains and estimated tax of selling `qty` shares at `price_usd` on `on`.

    Args:
        lots: Open lots in relief order.
        qty: Shares sold.
        price_usd: Sale price per share.
        on: Sale date (decides short versus long term).
        settings: Tax rates.

    Returns:
        Short- and long-term gains (losses negative) and the estimated tax of this sale
        alone, netted by character (`net_tax`; negative when a net loss is left). The
        tax of several sales is `net_tax` of their summed gains, not the sum of these.
    """
    short = long = ZERO
    for lot, shares in relieve(lots, qty)[0]:
        gain = (price_usd - lot.cost_per_share_usd) * shares
        if lot.is_long_term(on):
            long += gain
        else:
            short += gain
    return Realized(short, long, net_tax(short, long, settings))


def net_tax(
    short_term_gain_usd: Decimal, long_term_gain_usd: Decimal, rates: TaxSettings
) -> Decimal:
    """The tax on net gains, netted by character as the tax code does.

    Short-term gains and losses net against each other, and long-term against long-term
    (the arguments are already those nets). Then across: a net loss of one character
    offsets the net gain of the other, and the offset saves the rate of the gain it
    offsets (a short-term loss against long-term gains is worth the long-term rate, not
    the short-term one). A net loss left after that is valued at its own character's
    rate: it offsets gains of that character made elsewhere in the year, or carries
    forward keeping its character. The annual $3,000 cap on deducting a net loss against
    ordinary income is not modelled.

    Args:
        short_term_gain_usd: Net short-term gain (negative for a net loss).
        long_term_gain_usd: Net long-term gain (negative for a net loss).
        rates: The short- and long-term rates.

    Returns:
        The estimated tax, negative when a net loss is left (a benefit).
    """
    short, long = short_term_gain_usd, long_term_gain_usd
    if short < 0 < long:
        offset = min(-short, long)
        short, long = short + offset, long - offset
    elif long < 0 < short:
        offset = min(-long, short)
        short, long = short - offset, long + offset
    return short * rates.short_term_rate + long * rates.long_term_rate


def replay_fills(fills: Iterable[Fill], method: LotMethod, as_of: date) -> LotBook:
    """Rebuild open lots from the broker's fills, relieving sells as the broker does.

    Args:
        fills: FILL activities in any order (sorted here by date and sequence).
        method: The broker's lot-relief order.
        as_of: Today; wash-sale windows are measured back from it.

    Returns:
        Open lots per symbol in relief order, with the last buy and last loss sale days.
    """
    # Lots are kept in acquisition order; each sale relieves them in the broker's order.
    held: dict[str, list[TaxLot]] = {}
    last_buy: dict[str, date] = {}
    last_loss: dict[str, date] = {}
    for fill in sorted(fills, key=lambda f: (f.on, f.sequence)):
        lots = held.setdefault(fill.symbol, [])
        if fill.side is Side.BUY:
            lots.append(TaxLot(fill.symbol, fill.qty, fill.price_usd, fill.on))
            last_buy[fill.symbol] = fill.on
            continue
        left = fill.qty
        for i in _relief_indices(lots, method):
            if left <= 0:
                break
            take = min(lots[i].qty, left)
            # The wash-sale rule looks at each lot: any lot sold at a loss counts.
            if fill.price_usd < lots[i].cost_per_share_usd:
                last_loss[fill.symbol] = fill.on
            lots[i] = replace(lots[i], qty=lots[i].qty - take)
            left -= take
        held[fill.symbol] = [lot for lot in lots if lot.qty > 0]
    book = {s: relief_order(lots, method) for s, lots in held.items() if lots}
    return LotBook(book, last_buy, last_loss)


def reconcile(
    book: LotBook,
    symbol: str,
    held_qty: Decimal,
    cost_basis_usd: Decimal,
    on: date,
    method: LotMethod,
) -> LotBook:
    """Make the lots of `symbol` add up to what the broker says is held.

    Fills can predate the activity history or miss transfers in. Missing shares get one
    lot at the remaining basis: the broker's total cost basis less what the known lots
    cost, spread over the missing shares (known 10 @ $100, broker 20 shares with $3,000
    of basis: the other 10 cost $200 each, not the $150 average). A remaining basis below
    zero (the broker's figure disagrees with the fills) counts as zero: the most gain, the
    cautious estimate. The lot is dated `on` and so short-term (cautious too). Surplus
    lots are relieved as a sale would.

    Args:
        book: The lots replayed from fills.
        symbol: The symbol to reconcile.
        held_qty: Shares the broker reports held.
        cost_basis_usd: The broker's total cost basis of the position.
        on: Today (the date given to a missing lot).
        method: The broker's lot-relief order.

    Returns:
        The book with the lots of `symbol` adding up to `held_qty`.
    """
    lots = book.of(symbol)
    have = sum((lot.qty for lot in lots), ZERO)
    if have == held_qty:
        return book
    if have < held_qty:
        missing = held_qty - have
        known = sum((lot.qty * lot.cost_per_share_usd for lot in lots), ZERO)
        remaining = max(ZERO, cost_basis_usd - known)
        extra = TaxLot(symbol, missing, remaining / missing, on)
        lots = relief_order((*lots, extra), method)
    else:
        lots = relieve(lots, have - held_qty)[1]
    return replace(book, lots={**book.lots, symbol: lots})


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True)
class SellCap:
    """How many shares the tax rules let a sale relieve, and which rule stops it."""

    qty: Decimal
    rule: str | None = None
    message: str = ""


def sale_cap(
    symbol: str,
    lots: Sequence[TaxLot],
    price_usd: Decimal,
    held_qty: Decimal,
    as_of: date,
    settings: TaxSettings,
    *,
    bought_recently: bool,
) -> SellCap:
    """Shares that can be sold before a lot the tax rules forbid relieving.

    Lots go in the broker's relief order, so a sale cannot skip a forbidden lot: the cap
    is the quantity of the lots before the first one that would realize a short-term
    gain (when avoided) or a loss within 30 days of a purchase (wash sale).

    Args:
        symbol: The symbol sold.
        lots: Its lots, in the broker's relief order.
        price_usd: The price it would sell at.
        held_qty: Shares held.
        as_of: The day of the sale.
        settings: The user's tax settings.
        bought_recently: Whether it was bought in the last 30 days.

    Returns:
        The shares a sale may relieve, and the rule and message when a rule stops it.
    """
    allowed = ZERO
    for lot in lots:
        if (
            settings.avoid_short_term_gains
            and price_usd > lot.cost_per_share_usd
            and not lot.is_long_term(as_of)
        ):
            return SellCap(
                allowed,
                "avoid_short_term_gains",
                f"not sold past the lot bought {lot.acquired_on} at ${lot.cost_per_share_usd}: "
                "it would realize a short-term gain",
            )
        if bought_recently and price_usd < lot.cost_per_share_usd:
            return SellCap(
                allowed,
                "wash_sale",
                f"not sold past the lot bought {lot.acquired_on}: a loss within 30 days of "
                f"buying {symbol} is a wash sale",
            )
        allowed += lot.qty
    return SellCap(held_qty)
