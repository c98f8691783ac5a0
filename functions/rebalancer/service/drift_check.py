"""Use case: measure a user's drift and, when a band is breached, rebalance by their strategy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.drift_log import DriftLogEntry
from rebalancer.domain.execution import Leg, PlanStatus
from rebalancer.domain.models import OrderResult
from rebalancer.domain.plan import Plan
from rebalancer.domain.progress import GoalProgress
from rebalancer.service.context import Ports
from rebalancer.service.drafts import draft_plan
from rebalancer.service.executor import execute_plan
from rebalancer.service.market import (
    goal_status,
    read_market,
    read_user,
    require_value,
    trading_day,
)


@dataclass(frozen=True)
class DriftCheckResult:
    """What a drift check measured, decided and did."""

    report: DriftReport
    plan: Plan | None
    orders: tuple[OrderResult, ...]
    dry_run: bool
    drift_log_id: str
    plan_id: str | None
    message: str
    goal_progress: GoalProgress | None = None


def check_drift(uid: str, ports: Ports, *, dry_run: bool) -> DriftCheckResult:
    """Measure drift and, when a band is breached, plan and place the plan's orders.

    The plan uses the user's strategy; a dry run only measures. The drift log and the
    history entry are written in one batch.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked: Before any broker call.
        BrokerError: When the broker cannot be read; nothing is written then.
        EmptyAccount: When the account has no value; nothing is written then.
    """
    user = read_user(uid, ports)
    market = read_market(user.broker, user.targets)
    require_value(market.portfolio)
    report = measure_drift(market.portfolio, user.targets, user.settings.drift)
    now = ports.clock.now()
    drift_log_id = ports.plans.new_id()
    progress = goal_status(user.settings, report.portfolio_value_usd, now)
    log = DriftLogEntry(drift_log_id, report, now, "manual", dry_run, None, progress)

    if not report.needs_rebalance or dry_run:
        message = _message(report.needs_rebalance)
        ports.drift_logs.record_check(uid, log, None)
        return DriftCheckResult(report, None, (), dry_run, drift_log_id, None, message, progress)

    draft = draft_plan(user, market, trading_day(now), now, "Drift trigger")
    plan, plan_id = draft.plan, ports.plans.new_id()
    new = replace(draft.new, drift_log_id=drift_log_id)
    ports.drift_logs.record_check(uid, replace(log, plan_id=plan_id), new)
    if not plan.trades:
        message = outcome(())
        return DriftCheckResult(report, plan, (), dry_run, drift_log_id, plan_id, message, progress)
    run = execute_plan(uid, plan_id, ports)
    orders = tuple(leg_result(leg) for leg in run.legs)
    message = _RUNNING.get(run.status) or outcome(orders)
    return DriftCheckResult(report, plan, orders, dry_run, drift_log_id, plan_id, message, progress)


def leg_result(leg: Leg) -> OrderResult:
    """A leg as the order result the drift check's answer has always listed."""
    return OrderResult(
        symbol=leg.symbol,
        side=leg.side,
        qty=leg.order_qty,
        notional_usd=None,
        status=leg.status.value,
        order_id=leg.order_id,
        client_order_id=leg.client_order_id,
        filled_qty=leg.filled_qty,
        filled_avg_price_usd=leg.filled_avg_price_usd,
        error=leg.error,
    )


def outcome(orders: Sequence[OrderResult]) -> str:
    """A one-line summary of what the orders did."""
    placed = sum(1 for o in orders if o.placed)
    if not orders:
        return "Rebalancing needed, but every trade was below the minimum or untradable"
    if placed == len(orders):
        return "Rebalancing executed"
    if placed == 0:
        return "Rebalancing not executed: " + (orders[0].error or orders[0].status)
    return f"Rebalancing partially executed: {placed} of {len(orders)} orders placed"


_RUNNING = {
    PlanStatus.QUEUED: "Rebalancing queued for the market open",
    PlanStatus.EXECUTING: "Rebalancing continues in the background (waiting for fills)",
}


def _message(needs_rebalance: bool) -> str:
    if not needs_rebalance:
        return "Portfolio within thresholds"
    return "Dry run: rebalancing needed, no orders placed"
