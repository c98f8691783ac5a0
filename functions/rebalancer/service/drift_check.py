"""Use case: measure a user's drift and, when a band is breached, rebalance by their strategy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.execution import Leg, PlanStatus
from rebalancer.domain.models import OrderResult
from rebalancer.domain.plan import Plan
from rebalancer.service import records
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
    goal_progress: dict[str, Any] | None = None


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
    drift_log_id = ports.store.new_id()
    progress = records.progress_record(goal_status(user.settings, report.portfolio_value_usd, now))

    if not report.needs_rebalance or dry_run:
        message = _message(report.needs_rebalance)
        log = {**records.drift_log(report, now, dry_run, None), "goal_progress": progress}
        ports.store.record_check(uid, drift_log_id, log, None, None)
        return DriftCheckResult(report, None, (), dry_run, drift_log_id, None, message, progress)

    draft = draft_plan(user, market, trading_day(now), now, "Drift trigger")
    plan, plan_id = draft.plan, ports.store.new_id()
    history = {**draft.record, "drift_log_id": drift_log_id}
    log = {**records.drift_log(report, now, dry_run, plan_id), "goal_progress": progress}
    ports.store.record_check(uid, drift_log_id, log, plan_id, history)
    if not plan.trades:
        message = records.outcome(())
        return DriftCheckResult(report, plan, (), dry_run, drift_log_id, plan_id, message, progress)
    run = execute_plan(uid, plan_id, ports)
    orders = tuple(leg_result(leg) for leg in run.legs)
    message = _RUNNING.get(run.status) or records.outcome(orders)
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


_RUNNING = {
    PlanStatus.QUEUED: "Rebalancing queued for the market open",
    PlanStatus.EXECUTING: "Rebalancing continues in the background (waiting for fills)",
}


def _message(needs_rebalance: bool) -> str:
    if not needs_rebalance:
        return "Portfolio within thresholds"
    return "Dry run: rebalancing needed, no orders placed"
