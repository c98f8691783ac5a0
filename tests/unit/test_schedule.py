"""Calendar math, triggers, cooldowns and goal progress."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from itertools import pairwise

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

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
from rebalancer.service.nightly import CALENDAR_WINDOW

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


def test_next_calendar_day_is_never_in_the_past_when_the_scheduled_day_moved_back() -> None:
    # Issue 11, item 4. Monday 27 May 2024 is Memorial Day: that week's run was Friday
    # the 24th, so on Saturday the 25th the next run is Monday 3 June, not the 24th.
    memorial = TRADING - {date(2024, 5, 27)}
    weekly = ScheduleSettings(Trigger.CALENDAR, Frequency.WEEKLY, weekday=0)
    assert next_calendar_day(weekly, date(2024, 5, 25), memorial) == date(2024, 6, 3)
    # 1 September 2025 is Labor Day: September's run was Friday 29 August, so on Sunday
    # 31 August the next run is 1 October.
    labor = TRADING | trading(date(2025, 1, 1), date(2026, 1, 1))
    labor -= {date(2025, 9, 1)}
    assert next_calendar_day(monthly(1), date(2025, 8, 31), labor) == date(2025, 10, 1)
    # On the Friday itself, the run is that day.
    assert next_calendar_day(weekly, date(2024, 5, 24), memorial) == date(2024, 5, 24)


def _nominal_days(settings: ScheduleSettings, start: date, end: date) -> list[date]:
    """Every nominal calendar date from `start` to `end`, enumerated independently."""
    if settings.frequency is Frequency.WEEKLY:
        days = (start + timedelta(days=k) for k in range((end - start).days + 1))
        return [d for d in days if d.weekday() == settings.weekday]
    if settings.frequency is Frequency.ANNUALLY:
        months = [settings.month]
    elif settings.frequency is Frequency.QUARTERLY:
        months = [1, 4, 7, 10]
    else:
        months = list(range(1, 13))
    found = []
    for year in range(start.year, end.year + 1):
        for month in months:
            for day in range(min(settings.day, 31), 0, -1):  # clamp to the month's end
                try:
                    found.append(date(year, month, day))
                    break
                except ValueError:
                    continue
    return [d for d in found if start <= d <= end]


def _scheduled_trading_days(
    settings: ScheduleSettings, today: date, trading: set[date]
) -> set[date]:
    """Each period's nominal date moved back to the latest trading day on or before it."""
    moved = set()
    for nominal in _nominal_days(
        settings, today - timedelta(days=370), today + timedelta(days=420)
    ):
        day = nominal
        while day not in trading:
            day -= timedelta(days=1)
        moved.add(day)
    return moved


SCHEDULES = st.one_of(
    st.builds(
        ScheduleSettings,
        trigger=st.just(Trigger.CALENDAR),
        frequency=st.just(Frequency.WEEKLY),
        weekday=st.integers(0, 6),
    ),
    st.builds(
        ScheduleSettings,
        trigger=st.just(Trigger.CALENDAR),
        frequency=st.sampled_from([Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUALLY]),
        day=st.integers(1, 31),
        month=st.integers(1, 12),
    ),
)


@given(
    settings=SCHEDULES,
    today=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    holiday_offsets=st.sets(st.integers(-20, 400), max_size=40),
)
@example(
    settings=ScheduleSettings(Trigger.CALENDAR, Frequency.WEEKLY, weekday=0),
    today=date(2024, 5, 25),
    holiday_offsets={2},
)
@example(settings=monthly(1), today=date(2025, 8, 31), holiday_offsets={1})
def test_next_and_last_calendar_days_are_the_nearest_scheduled_trading_days(
    settings: ScheduleSettings, today: date, holiday_offsets: set[int]
) -> None:
    holidays = {today + timedelta(days=k) for k in holiday_offsets}
    days = trading(today - CALENDAR_WINDOW, today + CALENDAR_WINDOW) - holidays
    # A market closed for ten days in a row is outside the model (the look-back stops).
    window = sorted(
        d for d in days if today - timedelta(days=60) <= d <= today + timedelta(days=430)
    )
    assume(all((b - a).days < 10 for a, b in pairwise(window)))
    got = next_calendar_day(settings, today, days)
    scheduled = _scheduled_trading_days(settings, today, days)
    assert got >= today
    assert got in days  # a trading day
    assert got in scheduled  # the scheduled day of its period
    assert not any(today <= d < got for d in scheduled)  # none skipped
    # And its mirror, which `decide` uses: the latest scheduled trading day up to today.
    last = last_calendar_day(settings, today, days)
    assert last <= today and last in days and last in scheduled
    assert not any(last < d <= today for d in scheduled)


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


def test_goal_progress_without_a_start_value_starts_the_line_at_zero() -> None:
    # Issue 11, item 1: what update_settings stores by default (start date, no start
    # value). The line runs from $0 on 2025-06-02 to $100k on 2026-06-02; 30 of 365 days
    # later it is at 100,000 x 30/365 = 8,219.18, and $90k is well on track.
    goal = Goal("House", D(100000), date(2026, 6, 2), start_date=date(2025, 6, 2))
    progress = goal_progress(goal, D(90000), date(2025, 7, 2))
    assert progress.on_track
    assert progress.expected_value_usd == D("8219.18")
    assert progress.progress_percent == D("90.00") and progress.days_remaining == 335
    # The line does not move with the portfolio: the same day, a smaller value, the same
    # expected value (it used to start at today's value: $90,821.92 here, never on track).
    assert goal_progress(goal, D(5000), date(2025, 7, 2)).expected_value_usd == D("8219.18")
    assert not goal_progress(goal, D(5000), date(2025, 7, 2)).on_track
