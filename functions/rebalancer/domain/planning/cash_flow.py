"""The `cash_flow` strategy: never sells to rebalance; cash goes where it is most needed.

It invests cash above the buffer (plus `cash_to_invest`) into the most underweight
assets first; a withdrawal (`cash_to_raise`) sells the most overweight first.
"""

from __future__ import annotations

from decimal import Decimal

from rebalancer.domain.drift import DriftMethod
from rebalancer.domain.models import HUNDRED, ZERO
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.groups import Values, expand, plan_by, untargeted
from rebalancer.domain.settings import Strategy


def plan_cash_flow(inp: PlanningInput) -> Plan:
    """Invest or raise cash without selling to rebalance.

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.

    Returns:
        The plan, sized by `sizing.finalize`.
    """
    return plan_by(inp, Strategy.CASH_FLOW, _cash_flow)


def _cash_flow(inp: PlanningInput, notes: list[PlanNote]) -> Values:
    """Water-filling: the most underweight groups rise to a common drift level first.

    A withdrawal does the reverse: the most overweight fall to one common level.
    """
    available = inp.cash_usd - inp.reserve_usd
    if available >= 0:
        return expand(inp, _fill(inp, available, up=True))
    if inp.cash_to_raise_usd <= 0:
        notes.append(PlanNote("", "cash", "cash is below the buffer; cash_flow never sells"))
        return {}
    desired: Values = {}
    # Each dollar sold brings in a dollar less its spread.
    need = -available / (1 - inp.settings.costs.spread_bps / 10_000)
    for symbol in untargeted(inp):
        if need <= 0:
            break
        take = min(inp.held_value_usd(symbol), need)
        desired[symbol] = inp.held_value_usd(symbol) - take
        need -= take
    if need > 0:
        desired |= expand(inp, _fill(inp, need, up=False))
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
