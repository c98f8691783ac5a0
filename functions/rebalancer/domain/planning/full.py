"""The `full` strategy: every enabled asset to its exact target (the naive baseline)."""

from __future__ import annotations

from rebalancer.domain.models import ZERO
from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.groups import Values, plan_by, spread_group, untargeted
from rebalancer.domain.settings import Strategy


def plan_full(inp: PlanningInput) -> Plan:
    """Every enabled asset to its target; untargeted holdings sold.

    Args:
        inp: Holdings with lots, cash, prices, targets and settings.

    Returns:
        The plan, sized by `sizing.finalize`.
    """
    return plan_by(inp, Strategy.FULL, _full)


def _full(inp: PlanningInput, notes: list[PlanNote]) -> Values:
    desired: Values = {s: ZERO for s in untargeted(inp)}
    for target in inp.targets:
        desired |= spread_group(inp, target, inp.target_usd(target))
    return desired
