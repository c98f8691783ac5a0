"""The rebalancing strategies: each decides post-trade values; `sizing` makes the orders.

- `full`: every enabled asset to its exact target.
- `threshold`: only assets outside their band trade, to target; cash absorbs the other
  side first, in-band assets (least tax per dollar raised first) only when cash is short.
- `band`: like threshold, but to the band's edge (or to target, per the user's setting).
- `cash_flow`: never sells; invests cash above the buffer (plus `cash_to_invest`) into the
  most underweight assets first; a withdrawal sells the most overweight first.
- `tax_aware`: see `rebalancer.domain.tax_aware`.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from rebalancer.domain.drift import DriftMethod
from rebalancer.domain.models import HUNDRED, ZERO, Target
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.settings import BandTarget, Strategy
from rebalancer.domain.sizing import finalize
from rebalancer.domain.tax import realize
from rebalancer.domain.tax_aware import SolverStopped, plan_tax_aware

# Trading to a band's edge stops this share of the way back inside it, so that rounding
# and costs do not leave the asset just outside.
EDGE_MARGIN = Decimal("0.05")

Values = dict[str, Decimal]


def build_plan(inp: PlanningInput, strategy: Strategy = Strategy.AUTO) -> Plan:
    """Build a plan with `strategy` (`auto`: the user's configured one).

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.
        strategy: Which strategy decides the trades.

    Returns:
        The plan: orders sells first, notes, and the drift before and after.
    """
    if strategy is Strategy.AUTO:
        strategy = inp.settings.strategy
    if strategy is Strategy.AUTO:
        strategy = Strategy.THRESHOLD
    if strategy is Strategy.TAX_AWARE:
        try:
            return plan_tax_aware(inp)
        except SolverStopped as stopped:
            # The band plan (to the edge) is the safe answer when the solver stops early.
            plan = band_plan(inp)
            message = f"tax-aware solver stopped ({stopped.status}); band plan used"
            note = PlanNote("", "solver", message)
            return replace(
                plan, strategy=Strategy.TAX_AWARE, notes=(*plan.notes, note), solver=stopped.status
            )
    if strategy is Strategy.THRESHOLD:
        return _banded(inp, strategy, to_edge=False)
    if strategy is Strategy.BAND:
        return band_plan(inp)
    decide = _full if strategy is Strategy.FULL else _cash_flow
    notes: list[PlanNote] = []
    desired = decide(inp, notes)
    reasons = {symbol: _reason(inp, strategy) for symbol in desired}
    return finalize(inp, desired, strategy, reasons, notes)


def band_plan(inp: PlanningInput) -> Plan:
    """The `band` strategy: drifted assets back to their band's edge (or target)."""
    to_edge = inp.settings.band_target is BandTarget.EDGE
    return _banded(inp, Strategy.BAND, to_edge=to_edge)


def _banded(inp: PlanningInput, strategy: Strategy, *, to_edge: bool) -> Plan:
    """Threshold and band plans, re-planned when costs lift an untouched asset over its edge.

    Costs shrink the portfolio a little, which can lift an asset just inside its edge
    over it; such assets join the trades and the plan is made again (at most 3 times).
    """
    also: set[str] = set()
    plan = None
    for _ in range(3):
        notes: list[PlanNote] = []
        out, spare = _out_of_band(inp, to_edge, also)
        desired = _expand(inp, _within_cash(inp, out, spare, notes))
        reasons = {symbol: _reason(inp, strategy) for symbol in desired}
        plan = finalize(inp, desired, strategy, reasons, notes)
        traded = {inp.group_key(t.symbol) for t in plan.trades}
        pushed = {r.symbol for r in plan.drift_after.assets if r.breach} - traded - also
        if not pushed:
            return plan
        also |= pushed
    assert plan is not None
    return plan


def spread_group(inp: PlanningInput, target: Target, value_usd: Decimal) -> Values:
    """Split a group's desired value over its symbols.

    Buys go to the primary symbol; sells come out of substitutes first, then the primary.
    """
    current = {m: inp.held_value_usd(m) for m in target.members}
    change = value_usd - sum(current.values(), ZERO)
    if change >= 0:
        return {target.symbol: current[target.symbol] + change}
    desired: Values = {}
    for member in reversed(target.members):
        take = min(current[member], -change)
        desired[member] = current[member] - take
        change += take
    return desired


def _untargeted(inp: PlanningInput) -> list[str]:
    return [h.symbol for h in inp.portfolio.holdings if inp.target_of(h.symbol) is None]


def _full(inp: PlanningInput, notes: list[PlanNote]) -> Values:
    desired: Values = {s: ZERO for s in _untargeted(inp)}
    for target in inp.targets:
        desired |= spread_group(inp, target, inp.target_usd(target))
    return desired


def _out_of_band(
    inp: PlanningInput,
    to_edge: bool,
    also: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[Values, Values]:
    """Desired values of the groups outside their band, and in-band groups' excess.

    The excess is what a group could give up to fund buys: an in-band group's value above
    target, and for a group sold only to its edge, the room between that edge and target.
    `also` names groups to treat as out of band (see `_banded`).
    """
    out: Values = {}
    spare: Values = {}
    groups: list[tuple[Target | None, str]] = [(t, t.symbol) for t in inp.targets]
    groups += [(None, s) for s in _untargeted(inp)]
    for target, symbol in groups:
        value = inp.group_value_usd(symbol)
        goal = inp.target_usd(target) if target else ZERO
        low, high = inp.band_usd(target)
        if value > high or (symbol in also and value > goal):
            edge = min(value, high - (high - goal) * EDGE_MARGIN)
            out[symbol] = edge if to_edge else goal
            if out[symbol] > goal:
                spare[symbol] = out[symbol] - goal
        elif value < low or (symbol in also and value < goal):
            edge = max(value, low + (goal - low) * EDGE_MARGIN)
            out[symbol] = edge if to_edge else goal
        elif value > goal:
            spare[symbol] = value - goal
    return out, spare


def _within_cash(inp: PlanningInput, out: Values, spare: Values, notes: list[PlanNote]) -> Values:
    """Add sells of in-band assets when cash cannot fund the buys.

    The least estimated tax per dollar raised goes first, then the most overweight.
    """
    spread = inp.settings.costs.spread_bps / 10_000
    short = -(inp.cash_usd - inp.reserve_usd)
    for symbol, value in out.items():
        change = value - inp.group_value_usd(symbol)
        if change < 0:
            short += change * (1 - spread)
        elif any(map(inp.can_buy, _members(inp, symbol))):  # a refused buy needs no funding
            short += change * (1 + spread)
    funded = dict(out)

    def cheapest(item: tuple[str, Decimal]) -> tuple[Decimal, Decimal]:
        symbol, extra = item
        return _tax_per_dollar(inp, symbol, min(extra, max(short, ZERO))), -extra

    for symbol, extra in sorted(spare.items(), key=cheapest):
        if short <= 0:
            break
        # Each dollar sold brings in a dollar less its spread.
        take = min(extra, short / (1 - spread))
        current = funded.get(symbol, inp.group_value_usd(symbol))
        funded[symbol] = current - take
        short -= take * (1 - spread)
        notes.append(PlanNote(symbol, "funding", "sold further to fund the buys"))
    return funded


def _tax_per_dollar(inp: PlanningInput, group: str, value_usd: Decimal) -> Decimal:
    """Estimated tax per dollar of selling `value_usd` of a group (substitutes first)."""
    remaining, tax = value_usd, ZERO
    for member in reversed(_members(inp, group) or (group,)):
        held = inp.held_qty(member)
        if remaining <= 0 or held <= 0 or member not in inp.prices_usd:
            continue
        price = inp.prices_usd[member]
        qty = min(held, remaining / price)
        tax += realize(
            inp.lots.of(member), qty, price, inp.as_of, inp.settings.tax
        ).estimated_tax_usd
        remaining -= qty * price
    sold = value_usd - remaining
    return tax / sold if sold > 0 else ZERO


def _members(inp: PlanningInput, symbol: str) -> tuple[str, ...]:
    target = inp.target_of(symbol)
    return target.members if target else ()


def _expand(inp: PlanningInput, groups: Values) -> Values:
    desired: Values = {}
    for symbol, value in groups.items():
        target = inp.target_of(symbol)
        desired |= spread_group(inp, target, value) if target else {symbol: value}
    return desired


def _cash_flow(inp: PlanningInput, notes: list[PlanNote]) -> Values:
    """Water-filling: the most underweight groups rise to a common drift level first.

    A withdrawal does the reverse: the most overweight fall to one common level.
    """
    available = inp.cash_usd - inp.reserve_usd
    if available >= 0:
        return _expand(inp, _fill(inp, available, up=True))
    if inp.cash_to_raise_usd <= 0:
        notes.append(PlanNote("", "cash", "cash is below the buffer; cash_flow never sells"))
        return {}
    desired: Values = {}
    # Each dollar sold brings in a dollar less its spread.
    need = -available / (1 - inp.settings.costs.spread_bps / 10_000)
    for symbol in _untargeted(inp):
        if need <= 0:
            break
        take = min(inp.held_value_usd(symbol), need)
        desired[symbol] = inp.held_value_usd(symbol) - take
        need -= take
    if need > 0:
        desired |= _expand(inp, _fill(inp, need, up=False))
    return desired


def _fill(inp: PlanningInput, amount_usd: Decimal, *, up: bool) -> Values:
    """Move `amount_usd` into (up) or out of the targets, most off-target first."""
    post = inp.post_value_usd
    relative = inp.settings.drift_method is DriftMethod.RELATIVE
    lines = []  # (base, slope, current) per group: value(level) = base + slope * level
    for target in inp.targets:
        base = inp.target_usd(target)
        slope = (base if relative else post) / HUNDRED
        lines.append((target.symbol, base, slope, inp.group_value_usd(target.symbol)))
    lines = [line for line in lines if line[2] > 0]
    if not lines or amount_usd <= 0:
        return {}
    sign = 1 if up else -1

    def moved(level: Decimal) -> Decimal:
        return sum(
            (max(ZERO, sign * (base + slope * level - value)) for _, base, slope, value in lines),
            ZERO,
        )

    # Each group's own drift level; the answer lies between two of them or beyond.
    levels = sorted((value - base) / slope for _, base, slope, value in lines)
    low, high = levels[0], levels[-1]
    reach = max(abs(lv) for lv in levels) + amount_usd / min(s for _, _, s, _ in lines) + 1
    low, high = (low, high + reach) if up else (low - reach, high)
    for _ in range(100):
        middle = (low + high) / 2
        if (moved(middle) < amount_usd) == up:
            low = middle
        else:
            high = middle
    level = (low + high) / 2
    return {
        symbol: (max if up else min)(value, base + slope * level)
        for symbol, base, slope, value in lines
    }


def _reason(inp: PlanningInput, strategy: Strategy) -> str:
    if inp.cash_to_raise_usd > 0:
        return "Cash flow: withdrawal"
    if inp.cash_to_invest_usd > 0 or strategy is Strategy.CASH_FLOW:
        return "Cash flow: invest cash"
    return {
        Strategy.FULL: "Full rebalance to target",
        Strategy.THRESHOLD: "Outside its band: back to target",
        Strategy.BAND: "Outside its band: back inside",
    }.get(strategy, "Rebalance")
