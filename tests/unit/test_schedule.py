"""Calendar math, triggers, cooldowns and goal progress."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from rebalancer.domain.progress import Goal, goal_progress
from rebalancer.domain.schedule import (
    Frequency,
    ScheduleSettings,
    Trigger,
    decide,
    last_calendar_day,
    next_calendar_day,
    scheduled_day,
)

pytestmark = pytest.mark.unit

HOLIDAYS = {
    date(2024, 1, 1),
    date(2024, 7, 4),
    date(2024, 12, 25),
    date(2025, 1, 1),
    date(2025, 4, 18),
    date(2026, 1, 1),
    date(2026, 12, 25),
}


def trading(start: date = date(2023, 12, 1), end: date = date(2027, 2, 1)) -> set[date]:
    days = {start + timedelta(days=k) for k in range((end - start).days + 1)}
    return {d for d in days if d.weekday() < 5 and d not in HOLIDAYS}


TRADING = trading()


def monthly(day: int, **kw: object) -> ScheduleSettings:
    return ScheduleSettings(trigger=Trigger.CALENDAR, frequency=Frequency.MONTHLY, day=day, **kw)


def test_month_ends_clamp_and_non_trading_days_move_back() -> None:
    # 31st of a 30-day month is the 30th; of February 2024 (leap) the 29th, a Thursday.
    assert scheduled_day(monthly(31), date(2024, 4, 1), TRADING) == date(2024, 4, 30)
    assert scheduled_day(monthly(31), date(2024, 2, 1), TRADING) == date(2024, 2, 29)
    # 29 February 2025 does not exist: the 28th, a Friday.
    assert scheduled_day(monthly(29), date(2025, 2, 1), TRADING) == date(2025, 2, 28)
    # June 30 2024 is a Sunday: Friday the 28th.
    assert scheduled_day(monthly(30), date(2024, 6, 1), TRADING) == date(2024, 6, 28)
    # July 4 2024 is a holiday (from the broker's calendar): July 3.
    assert scheduled_day(monthly(4), date(2024, 7, 1), TRADING) == date(2024, 7, 3)
    # January 1: a holiday, and the day before is the previous year's last session.
    assert scheduled_day(monthly(1), date(2025, 1, 1), TRADING) == date(2024, 12, 31)


def test_quarterly_boundaries_and_annual_dates() -> None:
    quarterly = ScheduleSettings(Trigger.CALENDAR, Frequency.QUARTERLY, day=15)
    assert next_calendar_day(quarterly, date(2024, 2, 20), TRADING) == date(2024, 4, 15)
    assert next_calendar_day(quarterly, date(2024, 4, 15), TRADING) == date(2024, 4, 15)
    assert next_calendar_day(quarterly, date(2024, 12, 20), TRADING) == date(2025, 1, 15)
    assert last_calendar_day(quarterly, date(2024, 3, 31), TRADING) == date(2024, 1, 15)
    annual = ScheduleSettings(Trigger.CALENDAR, Frequency.ANNUALLY, day=25, month=12)
    assert next_calendar_day(annual, date(2026, 6, 1), TRADING) == date(2026, 12, 24)


def test_weekly_on_a_weekday() -> None:
    weekly = ScheduleSettings(Trigger.CALENDAR, Frequency.WEEKLY, weekday=3)  # Thursday
    # Thursday 4 July 2024 is a holiday: Wednesday the 3rd.
    assert next_calendar_day(weekly, date(2024, 7, 1), TRADING) == date(2024, 7, 3)
    assert next_calendar_day(weekly, date(2024, 7, 5), TRADING) == date(2024, 7, 11)


def test_threshold_calendar_combined_and_manual_triggers() -> None:
    day = date(2024, 4, 15)
    calendar = ScheduleSettings(Trigger.CALENDAR, Frequency.QUARTERLY, day=15)
    assert decide(calendar, day, TRADING, False, None).reason == "Quarterly reset"
    assert not decide(calendar, day + timedelta(days=1), TRADING, True, None).due
    threshold = ScheduleSettings(Trigger.THRESHOLD)
    assert decide(threshold, day, TRADING, True, None).reason == "Drift trigger"
    assert not decide(threshold, day, TRADING, False, None).due
    combined = ScheduleSettings(Trigger.COMBINED, Frequency.MONTHLY, day=1)
    assert decide(combined, day, TRADING, True, None).reason == "Drift trigger"
    assert decide(combined, date(2024, 5, 1), TRADING, False, None).reason == "Monthly reset"
    manual = ScheduleSettings(Trigger.MANUAL)
    assert not decide(manual, day, TRADING, True, None).due


def test_cooldown_and_once_per_trading_day() -> None:
    threshold = ScheduleSettings(Trigger.THRESHOLD, cooldown_days=5)
    day = date(2024, 4, 15)
    assert decide(threshold, day, TRADING, True, day).reason == "already ran today"
    assert decide(threshold, day, TRADING, True, day - timedelta(days=3)).reason == (
        "cooling down until 2024-04-17"
    )
    assert decide(threshold, day, TRADING, True, day - timedelta(days=5)).due


def test_a_missed_calendar_run_happens_the_next_night() -> None:
    calendar = ScheduleSettings(Trigger.CALENDAR, Frequency.MONTHLY, day=1, cooldown_days=0)
    # The run of 1 April 2024 was missed (last run in March): due on the 2nd.
    assert decide(calendar, date(2024, 4, 2), TRADING, False, date(2024, 3, 1)).due
    assert not decide(calendar, date(2024, 4, 2), TRADING, False, date(2024, 4, 1)).due


def test_goal_progress_on_a_straight_line() -> None:
    goal = Goal(
        "House", D(100000), date(2027, 1, 1), start_date=date(2025, 1, 1), start_value_usd=D(20000)
    )
    mid = goal_progress(goal, D(61000), date(2026, 1, 1))
    # Half way in time (365 of 730 days): the line is at 20,000 + 80,000 * 365/730 = 60,000.
    assert mid.expected_value_usd == D("60000.00") and mid.on_track
    assert mid.progress_percent == D("61.00") and mid.days_remaining == 365
    # 39,000 missing over 365 days (365 / 30.4375 = 11.99 months): 3,252.23 a month.
    assert mid.required_monthly_contribution_usd == D("3252.23")
    behind = goal_progress(goal, D(50000), date(2026, 1, 1))
    assert not behind.on_track
    past = goal_progress(goal, D(90000), date(2027, 6, 1))
    assert past.days_remaining == 0 and not past.on_track
    assert past.required_monthly_contribution_usd == D("10000.00")
