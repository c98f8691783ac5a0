"""Issue 10, scenarios 8 and 9: what a client (or an old backend) stored is checked when read.

A user writes allocation documents straight to Firestore as the rules allow; a rule that
spans documents, or a value written around the rules, makes every reader answer
FAILED_PRECONDITION naming the document, never a plan, never INTERNAL; the paper broker
sees no order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devstack.firebase import Stack
from devstack.http import request
from devstack.seed import DEMO_TARGETS

from .conftest import Client
from .test_rules import fields

pytestmark = pytest.mark.e2e

READERS = [
    ("check_rebalance_drift", {}),
    ("check_rebalance_drift", {"dry_run": True}),
    ("propose_plan", {}),
    ("propose_plan", {"strategy": "tax_aware"}),
    ("get_schedule", {}),
    ("get_targets", {}),
]


def write_as_user(client: Client, doc_id: str, body: dict[str, Any]) -> int:
    """PATCH an allocation document through the Firestore REST API with the user's ID token."""
    path = f"userSettings/{client.user.uid}/allocation/{doc_id}"
    headers = {"Authorization": f"Bearer {client.user.id_token}"}
    status, answer = request("PATCH", client.stack.firestore_url(path), body, headers)
    assert status in (200, 403), answer
    return status


def history(db: Any, client: Client) -> list[dict[str, Any]]:
    docs = db.collection("users").document(client.user.uid).collection("rebalanceHistory").get()
    return [d.to_dict() for d in docs]


def drift_logs(db: Any, client: Client) -> list[dict[str, Any]]:
    docs = db.collection("users").document(client.user.uid).collection("driftLogs").get()
    return [d.to_dict() for d in docs]


def every_reader_refuses(client: Client, message: str) -> None:
    for name, data in READERS:
        status, code, text = client.error(name, data)
        assert (status, code) == (400, "FAILED_PRECONDITION"), (name, data, text)
        assert text.startswith(message), (name, text)


def run_night(stack: Stack, client: Client, start: datetime) -> tuple[int, Any]:
    """Deliver the user's nightly task as Cloud Tasks would."""
    night = start.astimezone(ZoneInfo("America/New_York")).date().isoformat()
    task = {"data": {"uid": client.user.uid, "night": night}}
    return request("POST", stack.function_url("rebalanceUser"), task)


def test_a_substitute_that_is_another_target_is_refused_and_nothing_trades(
    demo_client: Client, stack: Stack, db: Any, start: datetime
) -> None:
    uid = demo_client.user.uid
    demo_client.ok("update_settings", {"rebalancing_enabled": True, "auto_execute": True})
    # Scenario 8: the rules see one document, where QQQ is a valid substitute of SPY.
    body = fields(symbol="SPY", target_percent=40, enabled=True, substitutes=["QQQ"])
    assert write_as_user(demo_client, "SPY", body) == 200

    every_reader_refuses(
        demo_client, f"userSettings/{uid}/allocation/SPY: substitutes: QQQ is itself a target"
    )
    status, answer = run_night(stack, demo_client, start)
    assert status < 500, answer
    assert demo_client.orders_placed() == 0
    assert history(db, demo_client) == [] and drift_logs(db, demo_client) == []

    # set_targets replaces the allocation: the user is back in business.
    demo_client.ok("set_targets", {"allocations": DEMO_TARGETS})
    assert demo_client.ok("check_rebalance_drift", {"dry_run": True})["needs_rebalance"] is True


def test_the_rules_refuse_what_one_document_can_show(demo_client: Client) -> None:
    for substitutes in (["SPY"], ["IVV", "IVV"], ["A", "B", "C", "D", "E", "F"], ["spy"]):
        body = fields(symbol="SPY", target_percent=40, enabled=True, substitutes=substitutes)
        assert write_as_user(demo_client, "SPY", body) == 403, substitutes
    tiny = fields(symbol="SPY", target_percent=1e-25, enabled=True)
    assert write_as_user(demo_client, "SPY", tiny) == 403
    assert demo_client.ok("check_rebalance_drift", {"dry_run": True})["needs_rebalance"] is True


def test_a_substitute_listed_by_two_targets_is_refused(demo_client: Client) -> None:
    uid = demo_client.user.uid
    for symbol, percent in (("SPY", 40), ("QQQ", 30)):
        body = fields(symbol=symbol, target_percent=percent, enabled=True, substitutes=["IVV"])
        assert write_as_user(demo_client, symbol, body) == 200
    every_reader_refuses(
        demo_client,
        f"userSettings/{uid}/allocation/SPY: substitutes: IVV is also a substitute in "
        f"userSettings/{uid}/allocation/QQQ",
    )
    assert demo_client.orders_placed() == 0


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"target_percent": "40"}, "target_percent: must be a number"),
        ({"target_percent": float("nan")}, "target_percent: must be a finite number"),
        ({"target_percent": 1e300}, "target_percent: must be at most 100"),
        ({"substitutes": "QQQ"}, "substitutes: must be a list of symbols"),
        ({"substitutes": 7}, "substitutes: must be a list of symbols"),
        ({"substitutes": ["SPY"]}, "substitutes: SPY is the target's own symbol"),
        ({"enabled": "yes"}, "enabled: must be true or false"),
    ],
)
def test_values_written_around_the_rules_are_refused_naming_the_field(
    demo_client: Client, db: Any, stored: dict[str, Any], message: str
) -> None:
    uid = demo_client.user.uid
    # The backend's own client bypasses the rules, as an admin or an old backend would.
    db.document(f"userSettings/{uid}/allocation/SPY").set(stored, merge=True)
    every_reader_refuses(demo_client, f"userSettings/{uid}/allocation/SPY: {message}")
    assert demo_client.orders_placed() == 0


def test_more_than_fifty_allocation_documents_are_refused(demo_client: Client, db: Any) -> None:
    uid = demo_client.user.uid
    batch = db.batch()
    for n in range(47):  # 4 targets already: 51 in all
        ref = db.document(f"userSettings/{uid}/allocation/X{n:02d}")
        batch.set(ref, {"symbol": f"X{n:02d}", "target_percent": 1.0, "enabled": False})
    batch.commit()
    every_reader_refuses(demo_client, f"userSettings/{uid}/allocation: more than 50 documents")
    db.document(f"userSettings/{uid}/allocation/X46").delete()  # 50: read again
    assert demo_client.ok("check_rebalance_drift", {"dry_run": True})["needs_rebalance"] is True


def test_tiny_numbers_are_refused_and_stored_ones_never_give_internal(
    demo_client: Client, stack: Stack, db: Any, start: datetime
) -> None:
    uid = demo_client.user.uid
    # Scenario 9: refused at the door, naming the field, before any broker call.
    tiny = [{"symbol": "SPY", "target_percent": 1e-25}, {"symbol": "QQQ", "target_percent": 100}]
    status, code, text = demo_client.error("set_targets", {"allocations": tiny})
    assert (code, text) == (
        "INVALID_ARGUMENT",
        "allocations.0.target_percent: must be at least 0.01",
    )
    goal = {"name": "Tiny", "target_amount": 1e-20, "target_date": "2030-01-01"}
    status, code, text = demo_client.error("update_settings", {"goal": goal})
    assert (code, text) == ("INVALID_ARGUMENT", "goal.target_amount: must be at least 0.01")
    status, code, text = demo_client.error(
        "execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1e-300}
    )
    assert code == "INVALID_ARGUMENT" and text.startswith("qty: must be at least")
    assert demo_client.orders_placed() == 0

    # Values stored before the floors existed: a goal of 1e-20 dollars counts as none.
    db.document(f"userSettings/{uid}").set({"goal": goal, "threshold_percent": 1e-25}, merge=True)
    assert demo_client.ok("get_schedule", {})["goal_progress"] is None
    assert demo_client.ok("check_rebalance_drift", {"dry_run": True})["goal_progress"] is None
    assert demo_client.ok("get_settings", {})["threshold_percent"] == 5

    # A target of 1e-25 %: FAILED_PRECONDITION naming the document, never INTERNAL.
    db.document(f"userSettings/{uid}/allocation/SPY").set({"target_percent": 1e-25}, merge=True)
    every_reader_refuses(
        demo_client, f"userSettings/{uid}/allocation/SPY: target_percent: must be at least 0.01"
    )
    demo_client.ok("update_settings", {"rebalancing_enabled": True, "auto_execute": True})
    status, answer = run_night(stack, demo_client, start)
    assert status < 500, answer
    assert demo_client.orders_placed() == 0 and history(db, demo_client) == []
