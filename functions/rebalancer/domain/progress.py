"""Progress toward a savings goal, against a straight line from the start to the target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rebalancer.domain.models import HUNDRED, ZERO

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12


@dataclass(frozen=True)
class Goal:
    """A user's goal: a target amount by a date, with a priority and a monthly contribution."""

    name: str
    target_amount_usd: Decimal
    target_date: date
    priority: str = "medium"
    monthly_contribution_usd: Decimal | None = None
    start_date: date | None = None
    start_value_usd: Decimal | None = None


@dataclass(frozen=True)
class GoalProgress:
    """Where the portfolio stands against the goal today."""

    name: str
    progress_percent: Decimal
    on_track: bool
    expected_value_usd: Decimal
    required_monthly_contribution_usd: Decimal
    days_remaining: int


def goal_progress(goal: Goal, value_usd: Decimal, today: date) -> GoalProgress:
    """Measure a portfolio against its goal.

    The straight line runs from the goal's start (the day it was set, today when unknown,
    at `start_value_usd`, 0 when unset) to the target amount on the target date: on
    track means at or above that line today. The line is fixed when the goal is set, so
    it never moves with the portfolio. The required contribution spreads what is missing
    evenly over the months left (no growth assumed: the cautious estimate).

    Args:
        goal: The goal.
        value_usd: The portfolio's value today.
        today: The day measured.

    Returns:
        Progress percent, on track or not, the expected value today, the monthly
        contribution still required, and the days remaining.
    """
    start = goal.start_date or today
    start_value = goal.start_value_usd if goal.start_value_usd is not None else ZERO
    total_days = (goal.target_date - start).days
    elapsed = (today - start).days
    remaining = max(0, (goal.target_date - today).days)
    if total_days <= 0 or elapsed >= total_days:
        expected = goal.target_amount_usd
    else:
        share = Decimal(max(0, elapsed)) / Decimal(total_days)
        expected = start_value + (goal.target_amount_usd - start_value) * share
    missing = max(ZERO, goal.target_amount_usd - value_usd)
    months = Decimal(remaining) / DAYS_PER_MONTH
    required = missing / months if months > 0 else missing
    progress = value_usd / goal.target_amount_usd * HUNDRED if goal.target_amount_usd else HUNDRED
    cent = Decimal("0.01")
    return GoalProgress(
        name=goal.name,
        progress_percent=progress.quantize(cent, rounding=ROUND_HALF_UP),
        on_track=value_usd >= expected,
        expected_value_usd=expected.quantize(cent, rounding=ROUND_HALF_UP),
        required_monthly_contribution_usd=required.quantize(cent, rounding=ROUND_HALF_UP),
        days_remaining=remaining,
    )
