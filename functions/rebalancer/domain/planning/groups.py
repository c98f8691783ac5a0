"""What the simple planners share: groups, their split, the tax of selling, the reasons.

A group is a target with its substitutes; its desired value is split over its symbols.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from rebalancer.domain.models import ZERO, Target
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.sizing import finalize
from rebalancer.domain.settings import Strategy
from rebalancer.domain.tax import realize

Values = dict[str, Decimal]


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


def untargeted(inp: PlanningInput) -> list[str]:
    """Held symbols no target names (they are sold)."""
    return [h.symbol for h in inp.portfolio.holdings if inp.target_of(h.symbol) is None]


def tax_per_dollar(inp: PlanningInput, group: str, value_usd: Decimal) -> Decimal:
    """Estimated tax per dollar of selling `value_usd` of a group (substitutes first)."""
    remaining, tax = value_usd, ZERO
    for member in reversed(members(inp, group) or (group,)):
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


def members(inp: PlanningInput, symbol: str) -> tuple[str, ...]:
    """The symbols of a target's group (none for an untargeted symbol)."""
    target = inp.target_of(symbol)
    return target.members if target else ()


def expand(inp: PlanningInput, groups: Values) -> Values:
    """Groups' desired values spread over their symbols."""
    desired: Values = {}
    for symbol, value in groups.items():
        target = inp.target_of(symbol)
        desired |= spread_group(inp, target, value) if target else {symbol: value}
    return desired


def reason(inp: PlanningInput, strategy: Strategy) -> str:
    """Why a strategy trades (the history shows it)."""
    if inp.cash_to_raise_usd > 0:
        return "Cash flow: withdrawal"
    if inp.cash_to_invest_usd > 0 or strategy is Strategy.CASH_FLOW:
        return "Cash flow: invest cash"
    return {
        Strategy.FULL: "Full rebalance to target",
        Strategy.THRESHOLD: "Outside its band: back to target",
        Strategy.BAND: "Outside its band: back inside",
    }.get(strategy, "Rebalance")


def plan_by(
    inp: PlanningInput,
    strategy: Strategy,
    decide: Callable[[PlanningInput, list[PlanNote]], Values],
) -> Plan:
    """A plan from a strategy's desired values, each trade with the strategy's reason.

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.
        strategy: The strategy (for the plan and the reasons).
        decide: The strategy's desired post-trade values (it may add notes).

    Returns:
        The plan, sized by `sizing.finalize`.
    """
    notes: list[PlanNote] = []
    desired = decide(inp, notes)
    reasons = {symbol: reason(inp, strategy) for symbol in desired}
    return finalize(inp, desired, strategy, reasons, notes)
