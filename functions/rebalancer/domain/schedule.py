"""When automatic rebalancing is due: drift triggers, calendars, cooldowns, one run a day.

Trading days come from the broker's calendar (an argument), so a calendar date that is
not a trading day moves to the previous trading day.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Trigger(StrEnum):
    """What makes an automatic run due."""

    THRESHOLD = "threshold"
    CALENDAR = "calendar"
    COMBINED = "combined"
    MANUAL = "manual"


class Frequency(StrEnum):
    """How often a calendar trigger fires."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUALLY = "annually"


REASONS = {
    Frequency.WEEKLY: "Weekly reset",
    Frequency.MONTHLY: "Monthly reset",
    Frequency.QUARTERLY: "Quarterly reset",
    Frequency.ANNUALLY: "Annual reset",
}


@dataclass(frozen=True)
class ScheduleSettings:
    """A user's trigger.

    Defaults: threshold trigger, monthly on the 1st when a calendar is chosen, 1 day of
    cooldown.
    """

    trigger: Trigger = Trigger.THRESHOLD
    frequency: Frequency = Frequency.MONTHLY
    weekday: int = 0  # Monday
    day: int = 1  # of the month (the last day when the month is shorter)
    month: int = 1  # for annually
    cooldown_days: int = 1


@dataclass(frozen=True)
class Decision:
    """Whether a run is due today, and why (or why not)."""

    due: bool
    reason: str


def calendar_day(settings: ScheduleSettings, period_start: date) -> date:
    """The nominal calendar date of the period that starts on `period_start`."""
    if settings.frequency is Frequency.WEEKLY:
        monday = period_start - timedelta(days=period_start.weekday())
        return monday + timedelta(days=settings.weekday)
    month = settings.month if settings.frequency is Frequency.ANNUALLY else period_start.month
    last = calendar.monthrange(period_start.year, month)[1]
    return date(period_start.year, month, min(settings.day, last))


def scheduled_day(
    settings: ScheduleSettings, period_start: date, trading: Collection[date]
) -> date:
    """The calendar date of a period, moved back to a trading day when it is not one.

    Args:
        settings: The user's calendar.
        period_start: Any day of the period (week, month, quarter's month, year).
        trading: Trading days around it, from the broker's calendar.

    Returns:
        The trading day the run belongs to (the nominal date when no earlier trading day
        is known).
    """
    day = calendar_day(settings, period_start)
    for back in range(0, 10):
        candidate = day - timedelta(days=back)
        if candidate in trading:
            return candidate
    return day


def period_starts(settings: ScheduleSettings, around: date) -> list[date]:
    """The starts of the periods before, at and after `around` (quarters start Jan/Apr/Jul/Oct)."""
    if settings.frequency is Frequency.WEEKLY:
        monday = around - timedelta(days=around.weekday())
        return [monday + timedelta(weeks=k) for k in (-1, 0, 1)]
    if settings.frequency is Frequency.ANNUALLY:
        return [date(around.year + k, 1, 1) for k in (-1, 0, 1)]
    step = 3 if settings.frequency is Frequency.QUARTERLY else 1
    first = ((around.month - 1) // step) * step + 1
    starts = []
    for k in (-1, 0, 1):
        index = around.year * 12 + first - 1 + k * step
        starts.append(date(index // 12, index % 12 + 1, 1))
    return starts


def next_period_start(settings: ScheduleSettings, period_start: date) -> date:
    """The start of the period after the one `period_start` belongs to."""
    return period_starts(settings, period_start)[-1]


def next_calendar_day(settings: ScheduleSettings, today: date, trading: Collection[date]) -> date:
    """The next scheduled trading day on or after `today`.

    A period's scheduled day can move back over a weekend or holiday to before `today`
    (Monday the 27th a holiday, today Saturday the 25th: that run was Friday the 24th),
    so the periods are walked forward from the current one until a scheduled day is not
    in the past. Scheduled days never decrease from one period to the next, so the first
    such day is the next one.

    Args:
        settings: The user's calendar.
        today: The day asked about (any day, trading or not).
        trading: Trading days around it, from the broker's calendar.

    Returns:
        The earliest scheduled trading day on or after `today`.
    """
    start = period_starts(settings, today)[1]  # the current period
    # Each step moves at least a week; a scheduled day moves back at most 9 days, so
    # this ends after at most three steps (the bound only guards a broken calendar).
    for _ in range(_MAX_PERIODS):
        day = scheduled_day(settings, start, trading)
        if day >= today:
            return day
        start = next_period_start(settings, start)
    return calendar_day(settings, start)


_MAX_PERIODS = 8


def last_calendar_day(settings: ScheduleSettings, today: date, trading: Collection[date]) -> date:
    """The latest scheduled trading day on or before `today`."""
    days = [scheduled_day(settings, s, trading) for s in period_starts(settings, today)]
    return max(d for d in days if d <= today)


def decide(
    settings: ScheduleSettings,
    today: date,
    trading: Collection[date],
    breach: bool,
    last_run: date | None,
) -> Decision:
    """Whether an automatic run is due on the trading day `today`.

    Args:
        settings: Trigger, calendar and cooldown.
        today: The night's trading day.
        trading: Trading days around `today`, from the broker's calendar.
        breach: Whether a band is breached now.
        last_run: The day of the last automatic run, if any.

    Returns:
        Due or not, with the reason ("Quarterly reset", "Drift trigger") or why not.
    """
    if settings.trigger is Trigger.MANUAL:
        return Decision(False, "manual trigger: never automatic")
    if last_run == today:
        return Decision(False, "already ran today")
    if last_run is not None and (today - last_run).days < settings.cooldown_days:
        until = last_run + timedelta(days=settings.cooldown_days)
        return Decision(False, f"cooling down until {until.isoformat()}")
    if settings.trigger in {Trigger.CALENDAR, Trigger.COMBINED}:
        scheduled = last_calendar_day(settings, today, trading)
        # Due on the scheduled day, or later when that day's run was missed.
        missed = last_run is not None and last_run < scheduled < today
        if scheduled == today or missed:
            return Decision(True, REASONS[settings.frequency])
    if settings.trigger in {Trigger.THRESHOLD, Trigger.COMBINED} and breach:
        return Decision(True, "Drift trigger")
    return Decision(False, "nothing due")
