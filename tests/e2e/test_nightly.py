"""The nightly run end to end: the scheduled trigger, Cloud Tasks delivery, each user's night."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.firebase import Stack
from devstack.seed import DEMO_LOTS, DEMO_TARGETS

from .conftest import Client

pytestmark = pytest.mark.e2e

# 02:00 in New York on Saturday 21 November 2026: the night belongs to Monday the 23rd.
SCHEDULE_TIME = "2026-11-21T07:00:00Z"
LOG_ID = "nightly-20261123"


def fire_nightly(stack: Stack) -> None:
    stack.fire_schedule("nightly_rebalance", SCHEDULE_TIME)


def user_docs(db: Any, uid: str, collection: str) -> dict[str, dict[str, Any]]:
    docs = db.collection("users").document(uid).collection(collection).get()
    return {d.id: d.to_dict() for d in docs}


def wait_for(check: Any, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the nightly tasks"
        time.sleep(0.5)


@pytest.fixture
def night_clients(new_client: Any, paper: Any) -> Any:
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
    paper.control("POST", "/_paper/clock", {"market": "closed"})  # it is 2 AM
    yield made
    paper.control("POST", "/_paper/clock", {"market": "open"})


def test_the_nightly_run_fans_out_and_each_user_gets_one_night(
    stack: Stack, db: Any, night_clients: dict[str, Client]
) -> None:
    fire_nightly(stack)
    due = ("alert", "auto", "manual")
    wait_for(lambda: all(user_docs(db, night_clients[n].user.uid, "driftLogs") for n in due))
    wait_for(lambda: bool(user_docs(db, night_clients["auto"].user.uid, "rebalanceHistory")))
    fire_nightly(stack)  # the same night again: nothing new
    time.sleep(3)

    alert = night_clients["alert"].user.uid
    assert list(user_docs(db, alert, "driftLogs")) == [LOG_ID]
    ((plan_id, plan),) = user_docs(db, alert, "rebalanceHistory").items()
    assert plan["status"] == "proposed" and plan["reason"] == "Drift trigger"
    alerts = user_docs(db, alert, "driftAlerts")
    assert list(alerts) == ["20261123"] and alerts["20261123"]["plan_id"] == plan_id

    auto = night_clients["auto"].user.uid
    assert list(user_docs(db, auto, "driftLogs")) == [LOG_ID]
    (auto_plan,) = user_docs(db, auto, "rebalanceHistory").values()
    assert auto_plan["status"] == "queued" and user_docs(db, auto, "driftAlerts") == {}

    manual = night_clients["manual"].user.uid
    logs = user_docs(db, manual, "driftLogs")
    assert list(logs) == [LOG_ID] and logs[LOG_ID]["decision"]["due"] is False
    assert user_docs(db, manual, "rebalanceHistory") == {}

    for name in ("off", "paused"):
        uid = night_clients[name].user.uid
        assert (
            user_docs(db, uid, "driftLogs") == {} and user_docs(db, uid, "rebalanceHistory") == {}
        )
    for client in night_clients.values():
        assert client.orders_placed() == 0  # 2 AM: nothing is sent before the open


def test_get_schedule_reports_the_next_date_and_goal_progress(new_client: Any) -> None:
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
                "target_date": "2031-01-01",
                "priority": "high",
            },
        },
    )
    schedule = client.ok("get_schedule", {})
    assert schedule["trigger"] == "combined" and schedule["threshold_breach_pending"] is True
    assert schedule["next_calendar_date"][8:] in {"15", "14", "13", "12"}
    assert schedule["days_until_next"] >= 0 and schedule["last_run_on"] is None
    progress = schedule["goal_progress"]
    assert progress["name"] == "House" and progress["progress_percent"] == pytest.approx(39.96)
    check = client.ok("check_rebalance_drift", {"dry_run": True})
    assert check["goal_progress"]["name"] == "House"
    status, code, message = client.error(
        "update_settings", {"goal": {"name": "x", "target_amount": -1, "target_date": "2030-01-01"}}
    )
    assert code == "INVALID_ARGUMENT" and message.startswith("goal.target_amount")
