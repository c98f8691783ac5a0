"""The nightly run end to end: the scheduled trigger, Cloud Tasks delivery, each user's night."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.broker import PaperBroker
from devstack.firebase import Stack
from devstack.seed import DEMO_LOTS, DEMO_TARGETS
from paper_broker import market_calendar

from .conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.dates]

NEW_YORK = ZoneInfo("America/New_York")


def next_two_am(moment: datetime) -> datetime:
    """The first 02:00 in New York at or after `moment` (the nightly cron's time).

    On the spring-forward night 02:00 does not exist; zoneinfo reads it with the winter
    offset, 03:00 summer time, which is when the scheduler fires.
    """
    local = moment.astimezone(NEW_YORK)
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        candidate = datetime(day.year, day.month, day.day, 2, tzinfo=NEW_YORK)
        if candidate.astimezone(UTC) >= moment.astimezone(UTC):
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable")


def trading_day_of(night: date) -> date:
    """The trading day a night belongs to, by the broker's own calendar (the judge)."""
    day = night
    while not market_calendar.is_trading_day(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def night(paper: PaperBroker, start: datetime) -> datetime:
    """The next nightly run after the test's start; the clock is put at it."""
    at = next_two_am(start)
    paper.set_clock(at)
    return at


def fire_nightly(stack: Stack, at: datetime) -> None:
    stack.fire_schedule("nightly_rebalance", at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def user_docs(db: Any, uid: str, collection: str) -> dict[str, dict[str, Any]]:
    docs = db.collection("users").document(uid).collection(collection).get()
    return {d.id: d.to_dict() for d in docs}


def wait_for(check: Any, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the nightly tasks"
        time.sleep(0.5)


@pytest.fixture
def night_clients(new_client: Any, paper: Any, night: datetime) -> Any:
    made: dict[str, Client] = {}
    for name, settings in {
        "alert": {"rebalancing_enabled": True},
        "auto": {"rebalancing_enabled": True, "auto_execute": True},
        "manual": {"rebalancing_enabled": True, "trigger": "manual"},
        "off": {},
        "paused": {"rebalancing_enabled": True, "paused": True},
    }.items():
        client: Client = new_client("2500", DEMO_LOTS)
        client.link()
        client.ok("set_targets", {"allocations": DEMO_TARGETS})
        if settings:
            client.ok("update_settings", settings)
        made[name] = client
    paper.set_clock(night)  # it is 2 AM (the calls above let the clock run a little)
    return made


def test_the_nightly_run_fans_out_and_each_user_gets_one_night(
    stack: Stack, db: Any, night_clients: dict[str, Client], night: datetime
) -> None:
    day = trading_day_of(night.astimezone(NEW_YORK).date())
    log_id, alert_id = f"nightly-{day:%Y%m%d}", f"{day:%Y%m%d}"
    fire_nightly(stack, night)
    due = ("alert", "auto", "manual")
    wait_for(lambda: all(user_docs(db, night_clients[n].user.uid, "driftLogs") for n in due))
    wait_for(lambda: bool(user_docs(db, night_clients["auto"].user.uid, "rebalanceHistory")))
    fire_nightly(stack, night)  # the same night again: nothing new
    time.sleep(3)

    # The fan-out saw exactly this test's three users whose rebalancing is on and who
    # have not paused it: no other test's users.
    summary = db.document(f"nightlyRuns/{night.astimezone(NEW_YORK).date()}").get().to_dict()
    assert summary["users"] == 3, summary
    alert = night_clients["alert"].user.uid
    assert list(user_docs(db, alert, "driftLogs")) == [log_id]
    ((plan_id, plan),) = user_docs(db, alert, "rebalanceHistory").items()
    assert plan["status"] == "proposed" and plan["reason"] == "Drift trigger"
    alerts = user_docs(db, alert, "driftAlerts")
    assert list(alerts) == [alert_id] and alerts[alert_id]["plan_id"] == plan_id

    auto = night_clients["auto"].user.uid
    assert list(user_docs(db, auto, "driftLogs")) == [log_id]
    (auto_plan,) = user_docs(db, auto, "rebalanceHistory").values()
    assert auto_plan["status"] == "queued" and user_docs(db, auto, "driftAlerts") == {}

    manual = night_clients["manual"].user.uid
    logs = user_docs(db, manual, "driftLogs")
    assert list(logs) == [log_id] and logs[log_id]["decision"]["due"] is False
    assert user_docs(db, manual, "rebalanceHistory") == {}

    for name in ("off", "paused"):
        uid = night_clients[name].user.uid
        assert (
            user_docs(db, uid, "driftLogs") == {} and user_docs(db, uid, "rebalanceHistory") == {}
        )
    for client in night_clients.values():
        assert client.orders_placed() == 0  # 2 AM: nothing is sent before the open


def test_get_schedule_reports_the_next_date_and_goal_progress(
    new_client: Any, paper: PaperBroker
) -> None:
    client: Client = new_client("2500", DEMO_LOTS)
    client.link()
    client.ok("set_targets", {"allocations": DEMO_TARGETS})
    client.ok(
        "update_settings",
        {
            "rebalancing_enabled": True,
            "trigger": "combined",
            "calendar_frequency": "quarterly",
            "calendar_day": 15,
            "goal": {
                "name": "House",
                "target_amount": 250000,
                "target_date": f"{paper.now().year + 5}-01-01",
                "priority": "high",
            },
        },
    )
    schedule = client.ok("get_schedule", {})
    today = paper.now().astimezone(NEW_YORK).date()
    assert schedule["trigger"] == "combined" and schedule["threshold_breach_pending"] is True
    next_date = date.fromisoformat(schedule["next_calendar_date"])
    # The 15th of a quarter's first month, moved back to a trading day when it is not one.
    assert next_date.month in {1, 4, 7, 10} and 11 <= next_date.day <= 15
    assert market_calendar.is_trading_day(next_date)
    assert next_date >= today and schedule["days_until_next"] == (next_date - today).days
    assert schedule["last_run_on"] is None
    progress = schedule["goal_progress"]
    assert progress["name"] == "House" and progress["progress_percent"] == pytest.approx(39.96)
    check = client.ok("check_rebalance_drift", {"dry_run": True})
    assert check["goal_progress"]["name"] == "House"
    status, code, message = client.error(
        "update_settings", {"goal": {"name": "x", "target_amount": -1, "target_date": "2030-01-01"}}
    )
    assert code == "INVALID_ARGUMENT" and message.startswith("goal.target_amount")
