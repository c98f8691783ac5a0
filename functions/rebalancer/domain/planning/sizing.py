"""From desired post-trade values to orders the broker accepts, with tax, cost and drift.

Every strategy decides dollar values per symbol; this module turns them into a `Plan`
the same way for all: sells first, the tax rules honoured (short-term gains avoided,
wash sales refused) whatever the strategy, buys within the cash that is really there,
quantities rounded as the broker accepts them, and dust dropped with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.models import ZERO, Holding, Portfolio, Side
from rebalancer.domain.orders import round_qty
from rebalancer.domain.plan import Plan, PlannedTrade, PlanningInput, PlanNote
from rebalancer.domain.settings import Strategy
from rebalancer.domain.tax import SellCap, net_tax, realize, relieve, sale_cap

ONE_CENT = Decimal("0.01")


def sell_cap(inp: PlanningInput, symbol: str) -> SellCap:
    """Shares of `symbol` the tax rules let a sale relieve now (see `tax.sale_cap`)."""
    return sale_cap(
        symbol,
        inp.lots.of(symbol),
        inp.prices_usd[symbol],
        inp.held_qty(symbol),
        inp.as_of,
        inp.settings.tax,
        bought_recently=inp.lots.bought_within(symbol, inp.as_of),
    )


def finalize(
    inp: PlanningInput,
    desired_usd: Mapping[str, Decimal],
    strategy: Strategy,
    reasons: Mapping[str, str],
    notes: list[PlanNote],
    solver: str | None = None,
) -> Plan:
    """Turn desired post-trade values per symbol into the plan's orders.

    Cash goes first to the buys that bring an asset back into its band (whole shares
    and the minimum trade counted), then to the rest. When cash cannot pay those band
    buys, more is sold (least tax per dollar raised first, never taking another asset out
    of its band nor breaking a tax rule), unless the strategy never sells.

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
    inp.check_plannable()
    sells: list[PlannedTrade] = []
    for symbol in inp.symbols():
        held = inp.held_value_usd(symbol)
        want = desired_usd.get(symbol, held)
        if want >= held - ONE_CENT or held <= 0:
            continue
        trade = _sell(inp, symbol, held - want, want, reasons.get(symbol, "Rebalance"), notes)
        if trade is not None:
            sells.append(trade)

    may_sell = not (strategy is Strategy.CASH_FLOW and inp.cash_to_raise_usd <= 0)
    shortfall = inp.reserve_usd - inp.cash_usd - _proceeds(sells)
    if shortfall > ONE_CENT / 100 and may_sell:
        sells = _cover(inp, sells, shortfall, notes)
    wanted: list[tuple[str, Decimal, str]] = []
    loss_sold = _loss_sold(inp, sells)
    for symbol in inp.symbols():
        held = inp.held_value_usd(symbol)
        want = desired_usd.get(symbol, held)
        if want <= held + ONE_CENT:
            continue
        target = _buy_symbol(inp, symbol, loss_sold, notes)
        if target is not None:
            _note_substitute(inp, target, loss_sold, notes)
            wanted.append((target, want - held, reasons.get(symbol, "Rebalance")))
    buy_notes: list[PlanNote] = []
    # Cash flow spreads its cash by water-filling: its buys have no band priority.
    banded = strategy is not Strategy.CASH_FLOW
    buys, gap = _buys(inp, sells, wanted, buy_notes, banded=banded)
    for _ in range(3):
        if gap <= 0 or not may_sell:
            break
        # The band buys need more cash than there is: sell more, keeping every band.
        funding: list[PlanNote] = []
        bought = {symbol for symbol, _, _ in wanted}
        more = _cover(inp, sells, gap, funding, keep_bands=True, exclude=bought, quiet=True)
        if _proceeds(more) <= _proceeds(sells) or _loss_sold(inp, more) & bought:
            break
        sells = more
        notes.extend(n for n in funding if n not in notes)
        buy_notes = []
        buys, gap = _buys(inp, sells, wanted, buy_notes, banded=banded)
    notes.extend(buy_notes)
    return _plan(inp, strategy, sells + buys, notes, solver)


def _proceeds(sells: list[PlannedTrade]) -> Decimal:
    return sum((t.estimated_value_usd - t.estimated_cost_usd for t in sells), ZERO)


def _loss_sold(inp: PlanningInput, sells: list[PlannedTrade]) -> set[str]:
    """Symbols a sale relieves at a loss (the wash-sale rule looks at each lot)."""
    return {
        t.symbol
        for t in sells
        for lot, _ in relieve(inp.lots.of(t.symbol), t.qty)[0]
        if t.price_usd < lot.cost_per_share_usd
    }


def band_need_usd(inp: PlanningInput, symbol: str, costs_usd: Decimal = ZERO) -> Decimal:
    """The smallest buy of `symbol` that brings its group up into its band; 0 if none.

    The band is measured after the plan, whose costs (`costs_usd`) shrink the portfolio
    and its edges with it. Whole shares round up, and the buy is at least the minimum
    trade; 0 when the group is in (or above) its band, or when that buy would overshoot
    the band's high edge.
    """
    target = inp.target_of(symbol)
    if target is None:
        return ZERO
    value = inp.group_value_usd(symbol)
    low, high = inp.band_usd(target)
    post = inp.post_value_usd
    if post > 0:
        low, high = low * (post - costs_usd) / post, high * (post - costs_usd) / post
    if value >= low:
        return ZERO
    price = inp.prices_usd[symbol]
    need = low - value + ONE_CENT
    if not inp.assets[symbol].fractionable:
        need = (need / price).to_integral_value(ROUND_CEILING) * price
    need = max(need, inp.settings.costs.min_trade_usd)
    return ZERO if value + need > high else need


def _buys(
    inp: PlanningInput,
    sells: list[PlannedTrade],
    wanted: list[tuple[str, Decimal, str]],
    notes: list[PlanNote],
    *,
    banded: bool = True,
) -> tuple[list[PlannedTrade], Decimal]:
    """The buys the cash pays for, band buys first; and the cash those band buys lack.

    Without `banded`, buys share the cash in proportion to their size, with no priority.

    Returns:
        The buys, and how much more cash (after costs) the buys that bring an asset into
        its band would need; 0 when they are paid.
    """
    costs = inp.settings.costs
    markup = 1 + costs.spread_bps / 10_000
    budget = inp.cash_usd + _proceeds(sells) - inp.reserve_usd
    # The plan's costs, as far as they are known: the sells', and the spread of the buys.
    spent = sum((t.estimated_cost_usd for t in sells), ZERO)
    spent += sum((v * (markup - 1) for _, v, _ in wanted), ZERO)
    needs = {s: band_need_usd(inp, s, spent) if banded else ZERO for s, _, _ in wanted}
    band_cost = sum((n * markup + costs.commission_usd for n in needs.values() if n), ZERO)
    gap = band_cost - budget if band_cost > budget else ZERO
    first = {s: n for s, n in needs.items() if n} if not gap else {}
    rest = [(s, max(ZERO, v - first.get(s, ZERO)), r) for s, v, r in wanted]
    total_rest = sum((v * markup for _, v, _ in rest), ZERO)
    total_rest += costs.commission_usd * sum(1 for s, v, _ in rest if v and s not in first)
    spare = budget - band_cost if first else budget
    fits = total_rest <= 0 or total_rest <= spare
    scale = Decimal(1) if fits else max(ZERO, spare) / total_rest
    if scale < Decimal("0.99") and wanted:
        notes.append(
            PlanNote("", "scaled", f"buys scaled to {scale:.2%} of their size: cash is short")
        )
    # Band buys go first, so that rounding elsewhere cannot starve them.
    order = sorted(rest, key=lambda item: item[0] not in first)
    buys: list[PlannedTrade] = []
    for symbol, value, reason in order:
        amount = first.get(symbol, ZERO) + value * scale
        trade = _buy(inp, symbol, amount, budget, reason, notes)
        if trade is not None:
            buys.append(trade)
            budget -= trade.estimated_value_usd + trade.estimated_cost_usd
    by_symbol = {t.symbol: t for t in buys}
    return [by_symbol[s] for s, _, _ in wanted if s in by_symbol], gap


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
    inp: PlanningInput,
    sells: list[PlannedTrade],
    shortfall_usd: Decimal,
    notes: list[PlanNote],
    *,
    keep_bands: bool = False,
    exclude: set[str] | None = None,
    quiet: bool = False,
) -> list[PlannedTrade]:
    """Sell more, least tax per dollar raised first, when the planned sells leave cash short.

    This happens when a tax rule caps the sale the strategy wanted (a withdrawal must
    still be paid), when the sells' own costs eat into the buffer, or when the buys that
    bring an asset into its band need more cash. Each extra sale respects the tax rules;
    a new order is at least the minimum trade and pays its commission. Sales that keep
    their asset inside its band come first (with `keep_bands`, only those); among them,
    the least estimated tax per dollar, then the most overweight.
    """
    costs = inp.settings.costs
    spread = costs.spread_bps / 10_000
    sold = {t.symbol: t for t in sells}
    exclude = exclude or set()

    def overweight(symbol: str) -> Decimal:
        target = inp.target_of(symbol)
        goal = inp.target_usd(target) if target else ZERO
        return inp.held_value_usd(symbol) - goal * (
            inp.held_value_usd(symbol) / max(ONE_CENT, inp.group_value_usd(symbol))
        )

    def group_after(symbol: str) -> Decimal:
        target = inp.target_of(symbol)
        members = target.members if target else (symbol,)
        value = inp.group_value_usd(symbol)
        return value - sum((sold[m].estimated_value_usd for m in members if m in sold), ZERO)

    def extra_sale(symbol: str, need: Decimal) -> tuple[Decimal, Decimal] | None:
        """Shares to add to `symbol`'s sale for `need` dollars, and the tax per dollar."""
        asset = inp.assets.get(symbol)
        if symbol in exclude or asset is None or not asset.tradable:
            return None
        if inp.held_qty(symbol) <= 0 or symbol not in inp.prices_usd:
            return None
        price = inp.prices_usd[symbol]
        before = sold[symbol].qty if symbol in sold else ZERO
        room = sell_cap(inp, symbol).qty - before
        if symbol not in sold:
            need = max(need + costs.commission_usd / (1 - spread), costs.min_trade_usd)
        extra = round_qty(need / price, fractionable=True, side=Side.SELL)
        if not asset.fractionable:
            extra = extra.to_integral_value(ROUND_CEILING)
            room = room.to_integral_value(ROUND_FLOOR)
        extra = min(extra, room)
        if extra <= 0 or (symbol not in sold and extra * price < costs.min_trade_usd):
            return None
        tax = inp.settings.tax
        lots = inp.lots.of(symbol)
        added = (
            realize(lots, before + extra, price, inp.as_of, tax).estimated_tax_usd
            - realize(lots, before, price, inp.as_of, tax).estimated_tax_usd
        )
        return extra, added / (extra * price)

    def leaves_band(symbol: str, value: Decimal) -> bool:
        low, _ = inp.band_usd(inp.target_of(symbol))
        return group_after(symbol) - value < low

    need = shortfall_usd / (1 - spread)
    tried: set[str] = set()
    while need > 0:
        options = []
        for symbol in inp.symbols():
            if symbol in tried:
                continue
            found = extra_sale(symbol, need)
            if found is None:
                continue
            extra, per_dollar = found
            out = leaves_band(symbol, extra * inp.prices_usd[symbol])
            if keep_bands and out:
                continue
            options.append(((out, per_dollar, -overweight(symbol)), symbol, extra))
        if not options:
            break
        _, symbol, extra = min(options)
        tried.add(symbol)
        price = inp.prices_usd[symbol]
        before = sold[symbol].qty if symbol in sold else ZERO
        default = "Cash flow: withdrawal" if inp.cash_to_raise_usd > 0 else "Keep the cash buffer"
        reason = sold[symbol].reason if symbol in sold else default
        trade = _trade(inp, symbol, Side.SELL, before + extra, reason, [], limit=before + extra)
        if trade is None:
            continue
        commission = ZERO if symbol in sold else costs.commission_usd
        sold[symbol] = trade
        need -= extra * price - commission / (1 - spread)
        why = "to fund the buys" if keep_bands else "to keep the cash buffer"
        notes.append(PlanNote(symbol, "funding", f"sold further {why}"))
    if need > ONE_CENT and not quiet:
        what = "the withdrawal and the buffer" if inp.cash_to_raise_usd > 0 else "the buffer"
        message = f"cash stays ${need * (1 - spread):.2f} short of {what} within the rules"
        notes.append(PlanNote("", "cash", message))
    return [sold[s] for s in inp.symbols() if s in sold] + [
        t for t in sold.values() if t.symbol not in inp.symbols()
    ]


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


def _note_substitute(
    inp: PlanningInput, bought: str, loss_sold: set[str], notes: list[PlanNote]
) -> None:
    """Say so when a substitute is bought because the wash-sale rule bars its target."""
    target = inp.target_of(bought)
    if target is None or bought == target.symbol:
        return
    primary = target.symbol
    barred = primary in loss_sold or inp.lots.sold_at_loss_within(primary, inp.as_of)
    if barred and not any(n.kind == "substitute" and n.symbol == primary for n in notes):
        message = f"bought {bought} instead (wash sale)"
        notes.append(PlanNote(primary, "substitute", message, "wash_sale"))


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
    after = _drift_after(inp, Portfolio(cash, holdings))
    # A holding sold out entirely has no row after: its drift went to zero.
    after_drift = {row.symbol: abs(row.drift_percent) for row in after.assets}
    change = {
        row.symbol: abs(row.drift_percent) - after_drift.get(row.symbol, ZERO)
        for row in before.assets
    }
    scored = tuple(_with_drift_removed(inp, t, change, before) for t in trades)
    limit = settings.tax.tax_limit_usd
    tax = net_tax(
        sum((t.short_term_gain_usd for t in scored), ZERO),
        sum((t.long_term_gain_usd for t in scored), ZERO),
        settings.tax,
    )
    if limit is not None and tax > limit:
        notes.append(
            PlanNote("", "tax_limit", f"estimated tax ${tax:.2f} exceeds the limit ${limit:.2f}")
        )
    ordered = tuple(t for t in scored if t.side is Side.SELL) + tuple(
        t for t in scored if t.side is Side.BUY
    )
    notes = _explained(inp, strategy, ordered, notes, after)
    return Plan(
        strategy=strategy,
        trades=ordered,
        notes=tuple(notes),
        drift_before=before,
        drift_after=after,
        projected_cash_usd=cash,
        tax_rates=settings.tax,
        tax_limit_exceeded=limit is not None and tax > limit,
        solver=solver,
    )


def _drift_after(inp: PlanningInput, after: Portfolio) -> DriftReport:
    """The drift after the plan; a full withdrawal leaves nothing to measure: no rows."""
    if after.total_value_usd > 0:
        return measure_drift(after, list(inp.targets), inp.settings.drift)
    cash = after.cash_usd
    return DriftReport(cash, cash, ZERO, (), ZERO, ZERO, ZERO, ZERO)


def _explained(
    inp: PlanningInput,
    strategy: Strategy,
    trades: tuple[PlannedTrade, ...],
    notes: list[PlanNote],
    after: DriftReport,
) -> list[PlanNote]:
    """The notes, true to the trades, with every group left outside its band explained.

    A `funding` note on a symbol the plan does not sell is dropped (the sale it announced
    rounded away or was replaced by a cheaper one). Each group outside its band after the
    plan gets a `band_unreachable` note naming it and why, unless one is there already.
    """
    sold = {t.symbol for t in trades if t.side is Side.SELL}
    kept = [n for n in notes if n.kind != "funding" or n.symbol in sold]
    for row in after.assets:
        if not row.breach:
            continue
        members = _group(inp, row.symbol)
        if any(n.kind == "band_unreachable" and n.symbol in members for n in kept):
            continue
        kept.append(_why_outside(inp, strategy, row.symbol, row.drift_percent > 0, trades, kept))
    return kept


def _group(inp: PlanningInput, symbol: str) -> tuple[str, ...]:
    target = inp.target_of(symbol)
    return target.members if target else (symbol,)


def _why_outside(
    inp: PlanningInput,
    strategy: Strategy,
    group: str,
    above: bool,
    trades: tuple[PlannedTrade, ...],
    notes: list[PlanNote],
) -> PlanNote:
    """Why `group` stays outside its band: the rule that bound, the cash, whole shares."""
    members = _group(inp, group)
    side = "above" if above else "below"
    head = f"{group} stays {side} its band"
    never_sells = strategy is Strategy.CASH_FLOW and inp.cash_to_raise_usd <= 0
    rules = [n.rule for n in notes if n.rule and n.symbol in members]
    whole = [m for m in members if m in inp.assets and not inp.assets[m].fractionable]
    if above:
        held = [m for m in members if inp.held_qty(m) > 0]
        capped = [rule for m in held if (rule := _rule_stops_sale(inp, m, trades)) is not None]
        if capped or rules:
            rule = (capped or rules)[0]
            return PlanNote(
                group, "band_unreachable", f"{head}: selling more would break {rule}", rule
            )
        if never_sells:
            return PlanNote(group, "band_unreachable", f"{head}: cash_flow never sells")
        if any(not inp.assets[m].tradable for m in held if m in inp.assets):
            return PlanNote(group, "band_unreachable", f"{head}: it is not tradable at the broker")
        if whole:
            price = inp.prices_usd[whole[0]]
            message = f"{head}: one more whole share (${price}) would take it below its band"
            return PlanNote(group, "band_unreachable", message)
        return PlanNote(group, "band_unreachable", f"{head}: its sale is under the minimum trade")
    if not any(inp.can_buy(m) for m in members):
        if any(inp.lots.sold_at_loss_within(m, inp.as_of) for m in members) or rules:
            message = f"{head}: no member can be bought (wash sale: sold at a loss within 30 days)"
            return PlanNote(group, "band_unreachable", message, "wash_sale")
        return PlanNote(group, "band_unreachable", f"{head}: it is not tradable at the broker")
    if rules:
        message = f"{head}: buying it would break {rules[0]}"
        return PlanNote(group, "band_unreachable", message, rules[0])
    cash = inp.cash_usd - inp.reserve_usd
    for t in trades:
        cash += (t.estimated_value_usd if t.side is Side.SELL else -t.estimated_value_usd) - (
            t.estimated_cost_usd
        )
    left = f"${max(ZERO, cash):,.2f} is left above the cash buffer"
    if never_sells:
        return PlanNote(
            group, "band_unreachable", f"{head}: cash is short ({left}); cash_flow never sells"
        )
    bound = sorted({n.rule for n in notes if n.rule and n.kind in {"tax_rule", "band_unreachable"}})
    if bound:
        message = f"{head}: cash is short ({left}) and selling more would break {bound[0]}"
        return PlanNote(group, "band_unreachable", message, bound[0])
    if whole and band_need_usd(inp, whole[0]) == 0:
        price = inp.prices_usd[whole[0]]
        message = f"{head}: one more whole share (${price}) would take it above its band"
        return PlanNote(group, "band_unreachable", message)
    message = f"{head}: cash is short ({left}) and no other sale keeps its own band"
    return PlanNote(group, "band_unreachable", message)


def _rule_stops_sale(
    inp: PlanningInput, symbol: str, trades: tuple[PlannedTrade, ...]
) -> str | None:
    """The tax rule that stops any further sale of `symbol` (one of the minimum size)."""
    cap = sell_cap(inp, symbol)
    if cap.rule is None:
        return None
    sold = sum((t.qty for t in trades if t.symbol == symbol and t.side is Side.SELL), ZERO)
    smallest = inp.settings.costs.min_trade_usd if sold == 0 else ONE_CENT
    return cap.rule if (cap.qty - sold) * inp.prices_usd[symbol] < smallest else None


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
