"""Use case: a user's schedule as the app shows it (`get_schedule`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rebalancer.domain.drift import measure_drift
from rebalancer.domain.progress import GoalProgress
from rebalancer.domain.schedule import Trigger, next_calendar_day
from rebalancer.domain.settings import UserSettings
from rebalancer.service.context import Ports
from rebalancer.service.market import (
    goal_status,
    read_market,
    read_user,
    require_value,
    trading_day,
)
from rebalancer.service.nightly import CALENDAR_WINDOW


@dataclass(frozen=True)
class ScheduleState:
    """Where the user's schedule stands today."""

    settings: UserSettings
    next_calendar_date: date | None
    days_until_next: int | None
    cooldown_until: date | None
    threshold_breach_pending: bool
    max_drift_percent: Decimal
    goal_progress: GoalProgress | None


def get_schedule(uid: str, ports: Ports) -> ScheduleState:
    """The schedule state: next calendar date, last run, cooldown, pending breach, goal.

    `days_until_next` is never negative: the next calendar date is never before today.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked, BrokerError: As a drift check.
        EmptyAccount: When the account has no value (nothing to measure).
    """
    user = read_user(uid, ports)
    market = read_market(user.broker, user.targets)
    require_value(market.portfolio)
    now = ports.clock.now()
    today = trading_day(now)
    settings = user.settings
    schedule = settings.schedule
    report = measure_drift(market.portfolio, user.targets, settings.drift)
    next_day = None
    if schedule.trigger in {Trigger.CALENDAR, Trigger.COMBINED}:
        trading = user.broker.trading_days(today - CALENDAR_WINDOW, today + CALENDAR_WINDOW)
        next_day = next_calendar_day(schedule, today, trading)
    last = settings.last_auto_run_on
    cooldown_until = last + timedelta(days=schedule.cooldown_days) if last else None
    return ScheduleState(
        settings=settings,
        next_calendar_date=next_day,
        days_until_next=(next_day - today).days if next_day else None,
        cooldown_until=cooldown_until,
        threshold_breach_pending=report.needs_rebalance
        and schedule.trigger in {Trigger.THRESHOLD, Trigger.COMBINED},
        max_drift_percent=report.max_drift_percent,
        goal_progress=goal_status(settings, report.portfolio_value_usd, now),
    )
