"""Issue 11 through the callables: an empty account, a full withdrawal, the schedule's dates."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.broker import PaperBroker
from devstack.seed import DEMO_LOTS, DEMO_TARGETS
from paper_broker import market_calendar

from .conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.dates]

EMPTY = "the account has no value to rebalance"


def test_an_empty_account_answers_failed_precondition_not_internal(new_client: Any) -> None:
    client: Client = new_client("0")
    client.link()
    client.ok("set_targets", {"allocations": DEMO_TARGETS})
    for name, data in (
        ("propose_plan", {}),
        ("propose_plan", {"strategy": "tax_aware"}),
        ("get_schedule", {}),
        ("check_rebalance_drift", {"dry_run": True}),
        ("check_rebalance_drift", {}),
    ):
        status, code, message = client.error(name, data)
        assert (status, code, message) == (400, "FAILED_PRECONDITION", EMPTY), name
    assert client.orders_placed() == 0


@pytest.mark.parametrize("strategy", ["threshold", "full", "band", "cash_flow", "tax_aware"])
def test_withdrawing_the_whole_value_plans_selling_everything(
    demo_client: Client, strategy: str
) -> None:
    value = demo_client.ok("check_rebalance_drift", {"dry_run": True})["portfolio_value"]
    plan = demo_client.ok("propose_plan", {"strategy": strategy, "cash_to_raise": value})
    held: dict[str, float] = {}
    for lot in DEMO_LOTS:
        held[lot["symbol"]] = held.get(lot["symbol"], 0.0) + float(lot["qty"])
    sold = {t["symbol"]: float(t["qty"]) for t in plan["trades"] if t["side"] == "sell"}
    assert sold == held
    assert all(t["side"] == "sell" for t in plan["trades"])
    # Nothing is left but the estimated costs of selling (the spread), which the
    # withdrawal cannot also cover.
    assert plan["projected_cash"] == pytest.approx(-plan["totals"]["estimated_cost"], abs=0.01)
    assert demo_client.orders_placed() == 0


def test_get_schedule_never_reports_a_past_date(demo_client: Client, paper: PaperBroker) -> None:
    # Every frequency, including a weekday that is never a trading day (moved back).
    today = paper.now().astimezone(ZoneInfo("America/New_York")).date()
    for change in (
        {"calendar_frequency": "weekly", "calendar_weekday": 0},
        {"calendar_frequency": "weekly", "calendar_weekday": 6},
        {"calendar_frequency": "monthly", "calendar_day": 1},
        {"calendar_frequency": "monthly", "calendar_day": 31},
        {"calendar_frequency": "quarterly", "calendar_day": 1},
        {"calendar_frequency": "annually", "calendar_day": 1, "calendar_month": 1},
    ):
        demo_client.ok("update_settings", {"trigger": "calendar", **change})
        schedule = demo_client.ok("get_schedule", {})
        next_date = date.fromisoformat(schedule["next_calendar_date"])
        assert next_date >= today and market_calendar.is_trading_day(next_date), change
        assert schedule["days_until_next"] == (next_date - today).days >= 0, change
