"""The planners, one per module behind one registry.

- `full` (full.py): every enabled asset to its exact target.
- `threshold` and `band` (banded.py): only assets outside their band trade.
- `cash_flow` (cash_flow.py): never sells to rebalance; invests or raises cash.
- `tax_aware` (tax_aware.py): the least tax plus cost that puts every asset in its band.

Each decides post-trade values; `sizing.finalize` turns them into orders. One planner
serves live runs, the CLI and the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rebalancer.domain.plan import Plan, PlanningInput, PlanNote
from rebalancer.domain.planning.banded import plan_band, plan_threshold
from rebalancer.domain.planning.cash_flow import plan_cash_flow
from rebalancer.domain.planning.full import plan_full
from rebalancer.domain.planning.tax_aware import SolverStopped, plan_tax_aware
from rebalancer.domain.settings import Strategy

PLANNERS: dict[Strategy, Callable[[PlanningInput], Plan]] = {
    Strategy.FULL: plan_full,
    Strategy.THRESHOLD: plan_threshold,
    Strategy.BAND: plan_band,
    Strategy.CASH_FLOW: plan_cash_flow,
    Strategy.TAX_AWARE: plan_tax_aware,
}


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
    try:
        return PLANNERS[strategy](inp)
    except SolverStopped as stopped:
        # The band plan (to the edge) is the safe answer when the solver stops early.
        plan = plan_band(inp)
        message = f"tax-aware solver stopped ({stopped.status}); band plan used"
        note = PlanNote("", "solver", message)
        return replace(
            plan, strategy=Strategy.TAX_AWARE, notes=(*plan.notes, note), solver=stopped.status
        )
