"""The nightly run: fan out one task per user, and each user's task.

The fan-out pages through the users whose rebalancing is on and enqueues one task per
user, concurrently, with a task id from the uid and the night, so that a second fan-out
the same night enqueues nothing new. Each task measures drift, writes the night's drift
log (one document id per night: a task delivered twice overwrites, never adds), decides by
the user's trigger, and plans: executed (queued for the open) with `auto_execute`, else
left proposed with a drift alert.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rebalancer.domain.drift import measure_drift
from rebalancer.domain.drift_log import DriftAlert, DriftLogEntry, FanOutSummary, NightRecord
from rebalancer.domain.execution import PlanStatus
from rebalancer.domain.plan import Plan
from rebalancer.domain.schedule import Decision, decide
from rebalancer.service.context import Ports
from rebalancer.service.drafts import draft_plan
from rebalancer.service.executor import TASK_BUDGET_S, execute_plan
from rebalancer.service.market import (
    goal_status,
    read_market,
    read_user,
    require_value,
)

USER_TASK = "rebalanceUser"  # a queue id: letters, digits and hyphens only
CALENDAR_WINDOW = timedelta(days=400)


@dataclass(frozen=True)
class FanOut:
    """What a nightly fan-out did."""

    users: int
    enqueued: int
    already_queued: int
    seconds: float


@dataclass(frozen=True)
class NightResult:
    """What one user's nightly task did."""

    uid: str
    skipped: str | None
    decision: Decision | None
    plan_id: str | None
    plan_status: str | None
    alert: bool


def night_of(now: datetime, timezone: str) -> date:
    """The night a run at `now` belongs to: the calendar date in the schedule's timezone.

    The scheduled event's own time is not used: the Functions SDK puts the wall-clock time
    there when the scheduler header is missing, and the emulator invokes a scheduled
    function once without it, so two runs of one night could claim two different nights.
    """
    return now.astimezone(ZoneInfo(timezone)).date()


def trading_night(night: date, trading: set[date]) -> date:
    """The trading day a night belongs to (Saturday's and Sunday's nights to Monday)."""
    return min((d for d in trading if d >= night), default=night)


_NOTHING = (None, None, None, False)


def task_id(uid: str, night: date) -> str:
    """The night's task id for a user: derived, so a second fan-out adds nothing."""
    digest = hashlib.sha256(uid.encode()).hexdigest()[:32]
    return f"nightly-{night:%Y%m%d}-{digest}"


def fan_out(ports: Ports, night: date, page_size: int = 500, workers: int = 64) -> FanOut:
    """Enqueue one `rebalanceUser` task per user whose rebalancing is on.

    Args:
        ports: The adapters.
        night: The trading day the night belongs to.
        page_size: Users read per query page.
        workers: Enqueue requests in flight at once.

    Returns:
        How many users were seen, how many tasks were new, and how long it took.
    """
    started = time.perf_counter()
    users = enqueued = 0
    run_at = ports.clock.now()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fan-out") as pool:
        for page in ports.nightly.nightly_users(page_size):
            users += len(page)
            results = pool.map(
                lambda uid: ports.tasks.enqueue(
                    USER_TASK, {"uid": uid, "night": night.isoformat()}, task_id(uid, night), run_at
                ),
                page,
            )
            enqueued += sum(1 for new in results if new)
    result = FanOut(users, enqueued, users - enqueued, time.perf_counter() - started)
    summary = FanOutSummary(users, enqueued, users - enqueued, result.seconds, ports.clock.now())
    ports.nightly.record_fan_out(night, summary)
    return result


def rebalance_user(uid: str, night: date, ports: Ports, timezone: str) -> NightResult:
    """One user's night: drift log, trigger decision, and a plan or an alert.

    A task is acted on only while its night is still the current one by the clock (the
    same trading day): a task delivered late, after the next night began, is dropped, so
    it never writes a drift log for a night it was not enqueued for.

    Raises:
        RebalancerError: For this user only (no targets, no broker, broker down); the
            task fails and Cloud Tasks retries it, no other user is affected.
    """
    user = read_user(uid, ports)
    if not user.settings.nightly:
        return NightResult(uid, "rebalancing is off", *_NOTHING)
    market = read_market(user.broker, user.targets)
    require_value(market.portfolio)  # an empty account: logged, not retried
    report = measure_drift(market.portfolio, user.targets, user.settings.drift)
    trading = user.broker.trading_days(night - CALENDAR_WINDOW, night + CALENDAR_WINDOW)
    # A night belongs to the next trading day (Saturday's and Sunday's nights to Monday),
    # which is also the day the once-a-day rule counts.
    tonight = night_of(ports.clock.now(), timezone)
    night = trading_night(night, trading)
    if night != trading_night(tonight, trading):
        return NightResult(uid, f"stale task: its night ({night}) is not tonight's", *_NOTHING)
    settings = user.settings
    decision = decide(
        settings.schedule, night, trading, report.needs_rebalance, settings.last_auto_run_on
    )
    now = ports.clock.now()
    progress = goal_status(settings, report.portfolio_value_usd, now)
    log_id = f"nightly-{night:%Y%m%d}"
    log = DriftLogEntry(log_id, report, now, "nightly", False, None, progress, decision)
    if not decision.due:
        ports.nightly.record_night(uid, NightRecord(night, log))
        return NightResult(uid, None, decision, None, None, False)

    plan_id = f"nightly{night:%Y%m%d}"
    existing = ports.plans.get_plan(uid, plan_id)
    if existing is None:
        draft = draft_plan(user, market, night, now, decision.reason)
        plan, new = draft.plan, replace(draft.new, drift_log_id=log_id)
        alert = None if settings.auto_execute else drift_alert(plan, plan_id, decision, night, now)
        record = NightRecord(night, replace(log, plan_id=plan_id), plan_id, new, alert, night)
        ports.nightly.record_night(uid, record)
    status = existing.status if existing else PlanStatus.PROPOSED
    if settings.auto_execute and not status.finished:
        status = execute_plan(uid, plan_id, ports, budget_s=TASK_BUDGET_S).status
    return NightResult(uid, None, decision, plan_id, status.value, not settings.auto_execute)


def drift_alert(
    plan: Plan, plan_id: str, decision: Decision, night: date, now: datetime
) -> DriftAlert:
    """The night's alert when auto-execute is off: a plan awaits the user's review."""
    return DriftAlert(
        night=night,
        plan_id=plan_id,
        reason=decision.reason,
        created_at=now,
        max_drift_percent=plan.drift_before.max_drift_percent,
        orders=len(plan.trades),
        estimated_tax_usd=plan.estimated_tax_usd,
    )
