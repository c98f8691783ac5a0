"""Use case: measure a user's drift and, when a band is breached, rebalance by their strategy."""

from __future__ import annotations

from dataclasses import dataclass

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.errors import PreconditionFailed
from rebalancer.domain.models import OrderResult
from rebalancer.domain.plan import Plan
from rebalancer.domain.strategies import build_plan
from rebalancer.service import records
from rebalancer.service.context import Ports
from rebalancer.service.market import planning_input, read_market, read_user, trading_day
from rebalancer.service.trading import place_trades


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


def check_drift(uid: str, ports: Ports, *, dry_run: bool) -> DriftCheckResult:
    """Measure drift and, when a band is breached, plan and place the plan's orders.

    The plan uses the user's strategy; a dry run only measures. The drift log and the
    history entry are written in one batch.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked: Before any broker call.
        BrokerError: When the broker cannot be read; nothing is written then.
    """
    user = read_user(uid, ports)
    market = read_market(user.broker, user.targets)
    if market.portfolio.total_value_usd <= 0:
        raise PreconditionFailed("the account has no value to rebalance")
    report = measure_drift(market.portfolio, user.targets, user.settings.drift)
    now = ports.clock.now()
    drift_log_id = ports.store.new_id()

    if not report.needs_rebalance or dry_run:
        message = _message(report.needs_rebalance)
        log = records.drift_log(report, now, dry_run, None)
        ports.store.record_check(uid, drift_log_id, log, None, None)
        return DriftCheckResult(report, None, (), dry_run, drift_log_id, None, message)

    plan = build_plan(planning_input(user, market, trading_day(now)))
    plan_id = ports.store.new_id()
    orders = place_trades(plan.trades, user.broker, ports.store, plan_id)
    history = records.rebalance_history(plan, orders, now, drift_log_id, "Drift trigger")
    ports.store.record_check(
        uid, drift_log_id, records.drift_log(report, now, dry_run, plan_id), plan_id, history
    )
    return DriftCheckResult(
        report, plan, orders, dry_run, drift_log_id, plan_id, records.outcome(orders)
    )


def _message(needs_rebalance: bool) -> str:
    if not needs_rebalance:
        return "Portfolio within thresholds"
    return "Dry run: rebalancing needed, no orders placed"
