"""From desired post-trade values to orders the broker accepts, with tax, cost and drift.

Every strategy decides dollar values per symbol; this module turns them into a `Plan`
the same way for all: sells first, the tax rules honoured (short-term gains avoided,
wash sales refused) whatever the strategy, buys within the cash that is really there,
quantities rounded as the broker accepts them, and dust dropped with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.models import ZERO, Holding, Portfolio, Side
from rebalancer.domain.orders import round_qty
from rebalancer.domain.plan import Plan, PlannedTrade, PlanningInput, PlanNote
from rebalancer.domain.settings import Strategy
from rebalancer.domain.tax import TaxLot, realize, relieve

ONE_CENT = Decimal("0.01")


@dataclass(frozen=True)
class SellCap:
    """How many shares the tax rules let a sale relieve, and which rule stops it."""

    qty: Decimal
    rule: str | None = None
    message: str = ""


def sell_cap(inp: PlanningInput, symbol: str) -> SellCap:
    """Shares that can be sold before a lot the tax rules forbid relieving.

    Lots go in the broker's relief order, so a sale cannot skip a forbidden lot: the cap
    is the quantity of the lots before the first one that would realize a short-term
    gain (when avoided) or a loss within 30 days of a purchase (wash sale).
    """
    price = inp.prices_usd[symbol]
    tax = inp.settings.tax
    recent_buy = inp.lots.bought_within(symbol, inp.as_of)
    allowed = ZERO
    lots: tuple[TaxLot, ...] = inp.lots.of(symbol)
    for lot in lots:
        if (
            tax.avoid_short_term_gains
            and price > lot.cost_per_share_usd
            and not lot.is_long_term(inp.as_of)
        ):
            return SellCap(
                allowed,
                "avoid_short_term_gains",
                f"not sold past the lot bought {lot.acquired_on} at ${lot.cost_per_share_usd}: "
                "it would realize a short-term gain",
            )
        if recent_buy and price < lot.cost_per_share_usd:
            return SellCap(
                allowed,
                "wash_sale",
                f"not sold past the lot bought {lot.acquired_on}: a loss within 30 days of "
                f"buying {symbol} is a wash sale",
            )
        allowed += lot.qty
    return SellCap(inp.held_qty(symbol))


def finalize(
    inp: PlanningInput,
    desired_usd: Mapping[str, Decimal],
    strategy: Strategy,
    reasons: Mapping[str, str],
    notes: list[PlanNote],
    solver: str | None = None,
) -> Plan:
    """Turn desired post-trade values per symbol into the plan's orders.

    Args:
        inp: The planning input.
        desired_usd: Post-trade dollar value per symbol; symbols left out stay as they are.
        strategy: The strategy that decided the values.
        reasons: The reason recorded per symbol (why it trades).
        notes: Notes the strategy already made; this adds its own.
        solver: How the values were found, when a solver was used.

    Returns:
        The plan, sells before buys, with tax, costs and the projected drift.
    """
    costs = inp.settings.costs
    sells: list[PlannedTrade] = []
    for symbol in inp.symbols():
        held = inp.held_value_usd(symbol)
        want = desired_usd.get(symbol, held)
        if want >= held - ONE_CENT or held <= 0:
            continue
        trade = _sell(inp, symbol, held - want, want, reasons.get(symbol, "Rebalance"), notes)
        if trade is not None:
            sells.append(trade)

    proceeds = sum((t.estimated_value_usd - t.estimated_cost_usd for t in sells), ZERO)
    shortfall = inp.reserve_usd - inp.cash_usd - proceeds
    never_sells = strategy is Strategy.CASH_FLOW and inp.cash_to_raise_usd <= 0
    if shortfall > ONE_CENT / 100 and not never_sells:
        sells = _cover(inp, sells, shortfall, notes)
        proceeds = sum((t.estimated_value_usd - t.estimated_cost_usd for t in sells), ZERO)
    # The wash-sale rule looks at each lot: a sale that relieves any lot at a loss counts.
    loss_sold = {
        t.symbol
        for t in sells
        for lot, _ in relieve(inp.lots.of(t.symbol), t.qty)[0]
        if t.price_usd < lot.cost_per_share_usd
    }
    budget = inp.cash_usd + proceeds - inp.reserve_usd
    wanted: list[tuple[str, Decimal, str]] = []
    for symbol in inp.symbols():
        held = inp.held_value_usd(symbol)
        want = desired_usd.get(symbol, held)
        if want <= held + ONE_CENT:
            continue
        target = _buy_symbol(inp, symbol, loss_sold, notes)
        if target is not None:
            wanted.append((target, want - held, reasons.get(symbol, "Rebalance")))
    total_wanted = sum((value * (1 + costs.spread_bps / 10_000) for _, value, _ in wanted), ZERO)
    total_wanted += costs.commission_usd * len(wanted)
    if total_wanted <= 0 or total_wanted <= budget:
        scale = Decimal(1)
    else:
        scale = max(ZERO, budget) / total_wanted
    if scale < Decimal("0.99") and wanted:
        notes.append(
            PlanNote("", "scaled", f"buys scaled to {scale:.2%} of their size: cash is short")
        )
    buys: list[PlannedTrade] = []
    for symbol, value, reason in wanted:
        trade = _buy(inp, symbol, value * scale, budget, reason, notes)
        if trade is not None:
            buys.append(trade)
            budget -= trade.estimated_value_usd + trade.estimated_cost_usd
    return _plan(inp, strategy, sells + buys, notes, solver)


def _sell(
    inp: PlanningInput,
    symbol: str,
    value_usd: Decimal,
    desired_usd: Decimal,
    reason: str,
    notes: list[PlanNote],
) -> PlannedTrade | None:
    asset = inp.assets.get(symbol)
    if asset is None or not asset.tradable:
        notes.append(PlanNote(symbol, "skipped", "not tradable at the broker"))
        return None
    price = inp.prices_usd[symbol]
    held_qty = inp.held_qty(symbol)
    if desired_usd <= ONE_CENT:
        qty = held_qty
    elif asset.fractionable:
        qty = min(held_qty, round_qty(value_usd / price, fractionable=True, side=Side.SELL))
    elif inp.cash_to_raise_usd > 0:
        # A withdrawal must be paid in full: keep the whole shares below the desired value.
        qty = held_qty - (desired_usd / price).to_integral_value(ROUND_FLOOR)
    else:
        keep = _whole_shares(inp, symbol, desired_usd, price, up_first=True)
        qty = held_qty - keep
    cap = sell_cap(inp, symbol)
    if qty > cap.qty:
        qty = cap.qty if asset.fractionable else cap.qty.to_integral_value(ROUND_FLOOR)
        notes.append(PlanNote(symbol, "tax_rule", cap.message, cap.rule))
    return _trade(inp, symbol, Side.SELL, qty, reason, notes, limit=cap.qty)


def _cover(
    inp: PlanningInput, sells: list[PlannedTrade], shortfall_usd: Decimal, notes: list[PlanNote]
) -> list[PlannedTrade]:
    """Sell more, most overweight first, when the planned sells leave cash short.

    This happens when a tax rule caps the sale the strategy wanted (a withdrawal must
    still be paid), or when the sells' own costs eat into the buffer. Each extra sale
    respects the tax rules and is at least the minimum trade.
    """
    spread = inp.settings.costs.spread_bps / 10_000
    sold = {t.symbol: t for t in sells}

    def overweight(symbol: str) -> Decimal:
        target = inp.target_of(symbol)
        goal = inp.target_usd(target) if target else ZERO
        return inp.held_value_usd(symbol) - goal * (
            inp.held_value_usd(symbol) / max(ONE_CENT, inp.group_value_usd(symbol))
        )

    need = shortfall_usd / (1 - spread)
    for symbol in sorted(inp.symbols(), key=overweight, reverse=True):
        asset = inp.assets.get(symbol)
        if need <= 0 or asset is None or not asset.tradable or inp.held_qty(symbol) <= 0:
            continue
        price = inp.prices_usd[symbol]
        before = sold[symbol].qty if symbol in sold else ZERO
        room = sell_cap(inp, symbol).qty - before
        value = max(need, inp.settings.costs.min_trade_usd)
        extra = round_qty(value / price, fractionable=True, side=Side.SELL)
        if not asset.fractionable:
            extra = extra.to_integral_value(ROUND_CEILING)
        extra = min(extra, room if asset.fractionable else room.to_integral_value(ROUND_FLOOR))
        if extra <= 0:
            continue
        default = "Cash flow: withdrawal" if inp.cash_to_raise_usd > 0 else "Keep the cash buffer"
        reason = sold[symbol].reason if symbol in sold else default
        trade = _trade(inp, symbol, Side.SELL, before + extra, reason, [], limit=before + extra)
        if trade is None:
            continue
        sold[symbol] = trade
        need -= extra * price
        notes.append(PlanNote(symbol, "funding", "sold further to keep the cash buffer"))
    if need > ONE_CENT:
        message = f"cash stays ${need * (1 - spread):.2f} short of the buffer within the rules"
        notes.append(PlanNote("", "cash", message))
    return list(sold.values())


def _buy_symbol(
    inp: PlanningInput, symbol: str, loss_sold: set[str], notes: list[PlanNote]
) -> str | None:
    """The symbol to buy for `symbol`'s group: itself, or a substitute when a wash sale forbids."""
    target = inp.target_of(symbol)
    candidates = (symbol, *(m for m in (target.members if target else ()) if m != symbol))
    for candidate in candidates:
        if candidate in loss_sold or not inp.can_buy(candidate):
            continue
        if candidate != symbol:
            notes.append(
                PlanNote(
                    symbol, "substitute", f"bought {candidate} instead (wash sale)", "wash_sale"
                )
            )
        return candidate
    blocked = any(c in loss_sold or inp.lots.sold_at_loss_within(c, inp.as_of) for c in candidates)
    if blocked:
        notes.append(
            PlanNote(
                symbol,
                "tax_rule",
                f"not bought: {symbol} was sold at a loss within 30 days and no substitute "
                "can be bought",
                "wash_sale",
            )
        )
    else:
        notes.append(PlanNote(symbol, "skipped", "not tradable at the broker"))
    return None


def _buy(
    inp: PlanningInput,
    symbol: str,
    value_usd: Decimal,
    budget_usd: Decimal,
    reason: str,
    notes: list[PlanNote],
) -> PlannedTrade | None:
    asset = inp.assets[symbol]
    price = inp.prices_usd[symbol]
    costs = inp.settings.costs
    affordable = (budget_usd - costs.commission_usd) / (1 + costs.spread_bps / 10_000)
    wanted = value_usd
    value_usd = min(value_usd, max(ZERO, affordable))
    if asset.fractionable:
        qty = round_qty(value_usd / price, fractionable=True, side=Side.BUY)
    else:
        held = inp.held_value_usd(symbol)
        shares = _whole_shares(inp, symbol, held + value_usd, price, up_first=False)
        qty = max(ZERO, shares - inp.held_qty(symbol))
        while qty > 0 and qty * price > affordable:
            qty -= 1
    if qty * price < wanted - ONE_CENT and value_usd < wanted - ONE_CENT:
        message = f"buy cut to what the cash left covers (${max(ZERO, affordable):.2f})"
        notes.append(PlanNote(symbol, "scaled", message))
    limit = max(ZERO, affordable) / price
    return _trade(inp, symbol, Side.BUY, qty, reason, notes, limit=limit)


def _whole_shares(
    inp: PlanningInput, symbol: str, desired_usd: Decimal, price: Decimal, *, up_first: bool
) -> Decimal:
    """Whole shares to hold: the neighbour of `desired_usd` that keeps the group in its band."""
    exact = desired_usd / price
    low, high = exact.to_integral_value(ROUND_FLOOR), exact.to_integral_value(ROUND_CEILING)
    target = inp.target_of(symbol)
    others = ZERO
    if target is not None:
        others = sum((inp.held_value_usd(m) for m in target.members if m != symbol), ZERO)
    band_low, band_high = inp.band_usd(target)
    options = (high, low) if up_first else (low, high)
    inside = [q for q in options if band_low <= others + q * price <= band_high]
    if inside:
        return min(inside, key=lambda q: abs(q - exact))
    return min(options, key=lambda q: abs(q - exact))


def _trade(
    inp: PlanningInput,
    symbol: str,
    side: Side,
    qty: Decimal,
    reason: str,
    notes: list[PlanNote],
    *,
    limit: Decimal,
) -> PlannedTrade | None:
    """The trade of `qty` shares, or None (with a note) when it is too small.

    `limit` caps a trade raised to the minimum: the shares the tax rules let a sell
    relieve, or the shares the cash left can buy.
    """
    price = inp.prices_usd[symbol]
    value = qty * price
    if qty <= 0:
        notes.append(PlanNote(symbol, "skipped", f"{side} rounds to zero shares at ${price}"))
        return None
    if value < inp.settings.costs.min_trade_usd:
        bumped = _up_to_minimum(inp, symbol, side, qty, limit)
        if bumped is None:
            minimum = inp.settings.costs.min_trade_usd.quantize(ONE_CENT)
            message = f"{side} below the minimum trade of ${minimum}"
            notes.append(PlanNote(symbol, "skipped", message))
            return None
        qty, value = bumped, bumped * price
    realized = (
        realize(inp.lots.of(symbol), qty, price, inp.as_of, inp.settings.tax)
        if side is Side.SELL
        else None
    )
    return PlannedTrade(
        symbol=symbol,
        side=side,
        qty=qty,
        price_usd=price,
        estimated_value_usd=value,
        estimated_cost_usd=inp.settings.costs.cost_usd(value),
        short_term_gain_usd=realized.short_term_gain_usd if realized else ZERO,
        long_term_gain_usd=realized.long_term_gain_usd if realized else ZERO,
        estimated_tax_usd=realized.estimated_tax_usd if realized else ZERO,
        drift_removed_percent=ZERO,
        reason=reason,
        fractionable=inp.assets[symbol].fractionable,
        crypto=inp.assets[symbol].asset_class == "crypto",
    )


def _up_to_minimum(
    inp: PlanningInput, symbol: str, side: Side, qty: Decimal, limit: Decimal
) -> Decimal | None:
    """A dust trade its asset's band needs, raised to the minimum trade; None to drop it.

    Dropping a small trade is right when it is optional, but when the asset is outside its
    band and would stay there, the minimum-size trade that brings it in is placed instead
    (if that does not overshoot the band's other edge, nor pass `limit`: the shares the
    tax rules let a sell relieve, or the shares the cash left can buy).
    """
    price = inp.prices_usd[symbol]
    target = inp.target_of(symbol)
    members = target.members if target else (symbol,)
    value = sum((inp.held_value_usd(m) for m in members), ZERO)
    low, high = inp.band_usd(target)
    sign = 1 if side is Side.BUY else -1
    if low <= value <= high:
        return None  # inside its band already: the small trade is optional
    asset = inp.assets[symbol]
    exact = inp.settings.costs.min_trade_usd / price
    bumped = round_qty(exact, fractionable=True, side=Side.SELL)  # rounds up
    if not asset.fractionable:
        bumped = bumped.to_integral_value(ROUND_CEILING)
    if bumped > limit or (side is Side.SELL and bumped > inp.held_qty(symbol)):
        return None
    if not low <= value + sign * bumped * price <= high:
        return None
    return bumped


def _plan(
    inp: PlanningInput,
    strategy: Strategy,
    trades: list[PlannedTrade],
    notes: list[PlanNote],
    solver: str | None,
) -> Plan:
    settings = inp.settings
    # Before and after both count an announced deposit, so drift removed compares like
    # with like; a withdrawal is gone after, as it should be.
    with_deposit = replace(inp.portfolio, cash_usd=inp.cash_usd)
    before = measure_drift(with_deposit, list(inp.targets), settings.drift)
    qty = {h.symbol: h.qty for h in inp.portfolio.holdings}
    cash = inp.cash_usd - inp.cash_to_raise_usd
    for trade in trades:
        sign = 1 if trade.side is Side.BUY else -1
        qty[trade.symbol] = qty.get(trade.symbol, ZERO) + sign * trade.qty
        cash -= sign * trade.estimated_value_usd + trade.estimated_cost_usd
    holdings = tuple(
        Holding(s, q, inp.prices_usd[s], q * inp.prices_usd[s]) for s, q in qty.items() if q > 0
    )
    after = measure_drift(Portfolio(cash, holdings), list(inp.targets), settings.drift)
    # A holding sold out entirely has no row after: its drift went to zero.
    after_drift = {row.symbol: abs(row.drift_percent) for row in after.assets}
    change = {
        row.symbol: abs(row.drift_percent) - after_drift.get(row.symbol, ZERO)
        for row in before.assets
    }
    scored = tuple(_with_drift_removed(inp, t, change, before) for t in trades)
    limit = settings.tax.tax_limit_usd
    tax = sum((t.estimated_tax_usd for t in scored), ZERO)
    if limit is not None and tax > limit:
        notes.append(
            PlanNote("", "tax_limit", f"estimated tax ${tax:.2f} exceeds the limit ${limit:.2f}")
        )
    ordered = tuple(t for t in scored if t.side is Side.SELL) + tuple(
        t for t in scored if t.side is Side.BUY
    )
    return Plan(
        strategy=strategy,
        trades=ordered,
        notes=tuple(notes),
        drift_before=before,
        drift_after=after,
        projected_cash_usd=cash,
        tax_limit_exceeded=limit is not None and tax > limit,
        solver=solver,
    )


def _with_drift_removed(
    inp: PlanningInput, trade: PlannedTrade, change: Mapping[str, Decimal], inp_before: DriftReport
) -> PlannedTrade:
    target = inp.target_of(trade.symbol)
    group = target.symbol if target else trade.symbol
    removed = change.get(group, ZERO)
    before = next((r for r in inp_before.assets if r.symbol == group), None)
    drift = before.drift_percent if before else ZERO
    return PlannedTrade(
        **{**trade.__dict__, "drift_removed_percent": max(ZERO, removed), "drift_percent": drift}
    )
