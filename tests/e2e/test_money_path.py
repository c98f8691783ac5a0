"""Issue 10's sequences end to end: callables over HTTP, the paper broker's books as judge.

Every test asserts the broker's order book (no client order id twice, nothing on the
wrong account) and the plan documents. Time is moved with the paper broker's clock,
which the functions follow in the emulator.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from devstack.broker import PaperBroker
from devstack.firebase import Stack
from devstack.http import request

from .conftest import Client
from .test_execution import ORDERS, broker_orders, fault, plan_doc

pytestmark = [pytest.mark.e2e, pytest.mark.dates]


def assert_no_order_twice(client: Client) -> list[dict[str, Any]]:
    orders = broker_orders(client)
    ids = Counter(o["client_order_id"] for o in orders)
    assert all(n == 1 for n in ids.values()), ids
    return orders


def wait_for_status(client: Client, db: Any, plan_id: str, wanted: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while (doc := plan_doc(client, db, plan_id))["status"] not in wanted:
        assert time.monotonic() < deadline, doc["status"]
        time.sleep(0.5)
    return doc


def in_background(client: Client, plan_id: str, answers: list[Any]) -> threading.Thread:
    """Call execute_plan in a thread (a client waiting on it); its answer goes to `answers`."""
    call = threading.Thread(
        target=lambda: answers.append(client.call("execute_plan", {"plan_id": plan_id}))
    )
    call.start()
    return call


def jump(paper: PaperBroker, seconds: float) -> None:
    """Move the broker's clock (and so the functions') forward."""
    paper.set_clock(paper.now() + timedelta(seconds=seconds))


def test_two_checks_while_closed_trade_once_at_the_open(
    demo_client: Client, db: Any, paper: PaperBroker, stack: Stack
) -> None:
    paper.control("POST", "/_paper/clock", {"market": "closed"})
    first = demo_client.ok("check_rebalance_drift", {})
    second = demo_client.ok("check_rebalance_drift", {})
    assert first["plan_id"] != second["plan_id"] and broker_orders(demo_client) == []
    older = plan_doc(demo_client, db, first["plan_id"])
    assert older["status"] == "cancelled" and older["superseded_by"] == second["plan_id"]
    paper.control("POST", "/_paper/clock/next_open")
    for plan_id in (first["plan_id"], second["plan_id"]):  # both tasks arrive at the open
        task = {"data": {"uid": demo_client.user.uid, "plan_id": plan_id}}
        status, body = request("POST", stack.function_url("executePlanTask"), task)
        assert status in (200, 409), body
    done = wait_for_status(demo_client, db, second["plan_id"], {"completed_success"})
    orders = assert_no_order_twice(demo_client)
    assert {o["client_order_id"] for o in orders} == {
        leg["client_order_id"] for leg in done["legs"] if leg["order_id"]
    }
    after = demo_client.ok("check_rebalance_drift", {"dry_run": True})
    assert after["needs_rebalance"] is False  # in band, not pushed out the other way


def test_a_plan_never_trades_on_another_account_after_a_relink(
    demo_client: Client, db: Any, paper: PaperBroker
) -> None:
    plan = demo_client.ok("propose_plan", {})
    other = paper.new_account("100000")
    keys = {"api_key_id": other["api_key_id"], "secret_key": other["secret_key"]}
    demo_client.ok("link_broker", keys)
    status, code, message = demo_client.error("execute_plan", {"plan_id": plan["plan_id"]})
    assert code == "FAILED_PRECONDITION" and demo_client.account["account_number"] in message
    assert paper.counters(other["id"]).get(ORDERS, 0) == 0
    assert demo_client.orders_placed() == 0
    assert plan_doc(demo_client, db, plan["plan_id"])["status"] == "failed"


def test_a_proposal_is_planned_again_when_the_account_traded_since(
    demo_client: Client, db: Any
) -> None:
    stale = demo_client.ok("propose_plan", {})
    spy = next(t for t in stale["trades"] if t["symbol"] == "SPY")
    demo_client.ok("execute_trade", {"symbol": "SPY", "side": "sell", "qty": 90})
    result = demo_client.ok("execute_plan", {"plan_id": stale["plan_id"]})
    doc = plan_doc(demo_client, db, stale["plan_id"])
    assert doc["replans"] == 1, doc.get("status")
    sold = [
        float(o["qty"])
        for o in assert_no_order_twice(demo_client)
        if o["symbol"] == "SPY" and o["client_order_id"].startswith(f"rb-{stale['plan_id']}")
    ]
    assert sum(sold) <= 10 < float(spy["qty"])  # never more than the 10 still held
    assert result["status"] in {"completed_success", "completed_adjusted", "cancelled"}


def test_a_task_never_runs_a_proposal_awaiting_review(
    demo_client: Client, db: Any, stack: Stack
) -> None:
    plan = demo_client.ok("propose_plan", {})
    task = {"data": {"uid": demo_client.user.uid, "plan_id": plan["plan_id"]}}
    status, body = request("POST", stack.function_url("executePlanTask"), task)
    assert status == 200, body
    assert demo_client.orders_placed() == 0
    assert plan_doc(demo_client, db, plan["plan_id"])["status"] == "proposed"


def test_a_run_past_its_budget_is_finished_by_a_task_and_cancels_the_rest(
    demo_client: Client, db: Any, paper: PaperBroker
) -> None:
    demo_client.ok("update_settings", {"fill_wait_seconds": 150})
    plan = demo_client.ok("propose_plan", {})
    fault(demo_client, route=ORDERS, kind="partial_fill", count=3, fill_ratio=0.5)
    answers: list[Any] = []
    call = in_background(demo_client, plan["plan_id"], answers)
    time.sleep(4)  # the sells are out and only half filled: the run waits for fills
    jump(paper, 60)  # past the callable's budget: it hands the rest to a task
    call.join(timeout=60)
    ((status, body),) = answers
    assert status == 200 and body["result"]["status"] == "executing", body
    # The task finishes the sells' fill window, sends the buys (half filled too) and
    # waits on them: close each window by moving the clock until the plan ends.
    finished = {"completed_adjusted", "completed_success", "failed"}
    for _ in range(30):
        time.sleep(2)
        if plan_doc(demo_client, db, plan["plan_id"])["status"] in finished:
            break
        jump(paper, 200)
    doc = wait_for_status(demo_client, db, plan["plan_id"], finished)
    assert doc.get("handed_off_at") and not doc.get("lease_holder")
    orders = assert_no_order_twice(demo_client)
    assert all(o["status"] in {"filled", "canceled"} for o in orders), orders
    assert all(leg["status"] != "open" for leg in doc["legs"])
    assert any(leg["status"] == "partially_filled" for leg in doc["legs"])


def test_an_executor_whose_lease_was_taken_stops_before_its_next_send(
    demo_client: Client, db: Any, paper: PaperBroker
) -> None:
    demo_client.ok("update_settings", {"fill_wait_seconds": 30})
    plan = demo_client.ok("propose_plan", {})
    fault(demo_client, route=ORDERS, kind="partial_fill", count=1, fill_ratio=0.5)
    answers: list[Any] = []
    first = in_background(demo_client, plan["plan_id"], answers)
    time.sleep(4)  # the first run waits on its partly filled sell, polling the order
    fault(demo_client, route="GET /v2/orders/{id}", kind="slow", delay_ms=8000, count=1)
    time.sleep(1.5)  # ...and is now stuck in one slow request
    jump(paper, 150)  # its lease (120 s) expires while it still runs
    second = demo_client.call("execute_plan", {"plan_id": plan["plan_id"]})
    first.join(timeout=90)
    assert second[0] == 200, second
    assert answers and answers[0][0] in (200, 409), answers
    doc = plan_doc(demo_client, db, plan["plan_id"])
    assert "lease_lost" in doc, doc.get("status")
    assert_no_order_twice(demo_client)


def test_cancel_with_the_broker_failing_leaves_the_plan_as_it_was(
    demo_client: Client, db: Any
) -> None:
    demo_client.ok("update_settings", {"fill_wait_seconds": 1, "unfilled_orders": "keep"})
    plan = demo_client.ok("propose_plan", {})
    fault(demo_client, route=ORDERS, kind="partial_fill", count=3, fill_ratio=0.5)
    demo_client.ok("execute_plan", {"plan_id": plan["plan_id"]})
    before = plan_doc(demo_client, db, plan["plan_id"])
    fault(demo_client, route="DELETE /v2/orders/{id}", kind="http_500", count=20)
    status, code, _ = demo_client.error("cancel_plan", {"plan_id": plan["plan_id"]})
    assert code == "UNAVAILABLE"
    after = plan_doc(demo_client, db, plan["plan_id"])
    assert after["status"] == before["status"] and after["legs"] == before["legs"]
    demo_client.paper.control("DELETE", "/_paper/faults")
    cancelled = demo_client.ok("cancel_plan", {"plan_id": plan["plan_id"]})
    orders = assert_no_order_twice(demo_client)
    by_id = {o["client_order_id"]: o for o in orders}
    for leg in cancelled["legs"]:
        if leg["order_id"]:
            broker_says = by_id[leg["client_order_id"]]
            filled = float(broker_says["filled_qty"] or 0)
            assert float(leg["filled_qty"] or 0) == filled
            assert leg["status"] != "cancelled" or filled == 0  # a fill is never "cancelled"
    assert all(o["status"] in {"filled", "canceled"} for o in orders)
