"""The `threshold` and `band` strategies: only assets outside their band trade.

`threshold` takes them back to target, `band` to the band's edge (or to target, per the
user's `band_target`); cash absorbs the other side first, in-band assets (least tax per
dollar raised first) only when cash is short.
"""

from __future__ import annotations

from decimal import Decimal

from rebalancer.domain.models import ZERO, Target
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.groups import (
    Values,
    expand,
    members,
    reason,
    tax_per_dollar,
    untargeted,
)
from rebalancer.domain.planning.sizing import finalize
from rebalancer.domain.settings import BandTarget, Strategy

# Trading to a band's edge stops this share of the way back inside it, so that rounding
# and costs do not leave the asset just outside.
EDGE_MARGIN = Decimal("0.05")


def plan_threshold(inp: PlanningInput) -> Plan:
    """The `threshold` strategy: assets outside their band back to target.

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.

    Returns:
        The plan, sized by `sizing.finalize`.
    """
    return _banded(inp, Strategy.THRESHOLD, to_edge=False)


def plan_band(inp: PlanningInput) -> Plan:
    """The `band` strategy: drifted assets back to their band's edge (or target).

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.

    Returns:
        The plan, sized by `sizing.finalize`.
    """
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
        desired = expand(inp, _within_cash(inp, out, spare, notes))
        reasons = {symbol: reason(inp, strategy) for symbol in desired}
        plan = finalize(inp, desired, strategy, reasons, notes)
        traded = {inp.group_key(t.symbol) for t in plan.trades}
        pushed = {r.symbol for r in plan.drift_after.assets if r.breach} - traded - also
        if not pushed:
            return plan
        also |= pushed
    assert plan is not None
    return plan


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
    groups += [(None, s) for s in untargeted(inp)]
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
        elif any(map(inp.can_buy, members(inp, symbol))):  # a refused buy needs no funding
            short += change * (1 + spread)
    funded = dict(out)

    def cheapest(item: tuple[str, Decimal]) -> tuple[Decimal, Decimal]:
        symbol, extra = item
        return tax_per_dollar(inp, symbol, min(extra, max(short, ZERO))), -extra

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
