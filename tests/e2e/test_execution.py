"""Plan execution end to end, with the paper broker's faults.

Each test asserts both the broker's own order list and the plan's history document.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.http import request

from .conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.dates]

ORDERS = "POST /v2/orders"


def broker_orders(client: Client) -> list[dict[str, Any]]:
    """Every order of the client's account, oldest first, as the broker lists them."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import GetOrdersRequest

    trading = TradingClient(
        client.account["api_key_id"], client.account["secret_key"], url_override=client.paper.url
    )
    orders = trading.get_orders(GetOrdersRequest(status="all", direction="asc", limit=500))
    return [o.model_dump(mode="json") for o in orders]


def fault(client: Client, **spec: Any) -> None:
    client.paper.control("POST", "/_paper/faults", {**spec, "account_id": client.account["id"]})


def plan_doc(client: Client, db: Any, plan_id: str) -> dict[str, Any]:
    ref = db.collection("users").document(client.user.uid).collection("rebalanceHistory")
    return ref.document(plan_id).get().to_dict()


def assert_each_leg_placed_once(client: Client, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """No client order id twice at the broker, and every placed leg's id recorded."""
    orders = broker_orders(client)
    ids = Counter(o["client_order_id"] for o in orders)
    assert all(count == 1 for count in ids.values()), ids
    recorded = {leg["client_order_id"]: leg["order_id"] for leg in doc["legs"] if leg["order_id"]}
    assert recorded == {o["client_order_id"]: o["id"] for o in orders}
    return orders


@pytest.fixture
def proposed(demo_client: Client) -> tuple[Client, str]:
    """The demo user with a proposed threshold plan: sell SPY, buy QQQ and TLT."""
    plan = demo_client.ok("propose_plan", {})
    assert [(t["side"], t["symbol"]) for t in plan["trades"]] == [
        ("sell", "SPY"),
        ("buy", "QQQ"),
        ("buy", "TLT"),
    ]
    return demo_client, plan["plan_id"]


@pytest.fixture
def market(paper: Any) -> Any:
    """The broker's clock, put back to an open market afterwards."""
    yield paper
    paper.control("POST", "/_paper/clock", {"market": "open"})


def test_execute_plan_runs_a_proposed_plan_sells_first(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_success" and result["plan_id"] == plan_id
    assert [leg["status"] for leg in result["legs"]] == ["filled"] * 3
    orders = assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))
    assert [o["side"] for o in orders] == ["sell", "buy", "buy"]
    assert client.ok("get_plan", {"plan_id": plan_id})["status"] == "completed_success"
    again = client.ok("execute_plan", {"plan_id": plan_id})  # one click twice
    assert again["status"] == "completed_success" and len(broker_orders(client)) == 3


def test_500_on_the_second_order_is_retried_without_a_duplicate(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    fault(client, route=ORDERS, kind="http_500", skip=1)
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_success"
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 3
    counts = client.paper.counters(client.account["id"])
    assert counts[ORDERS] == 4  # three legs, one retried
    assert counts["GET /v2/orders:by_client_order_id"] >= 1  # looked up before the retry


def test_an_answer_lost_after_the_order_was_placed_is_found_not_resent(
    proposed: Any, db: Any
) -> None:
    client, plan_id = proposed
    fault(client, route=ORDERS, kind="error_after_commit")
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_success"
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 3
    assert client.paper.counters(client.account["id"])[ORDERS] == 3


def test_bursts_of_429_are_retried_honouring_the_reset(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    fault(client, route=ORDERS, kind="rate_limit", count=3, reset_seconds=1)
    started = time.monotonic()
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_success"
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 3
    assert time.monotonic() - started >= 1.0  # it waited for the reset, at least once


def test_a_slow_broker_is_waited_for(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    fault(client, route=ORDERS, kind="slow", delay_ms=1500, count=3)
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_success"
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 3


def test_two_execute_plan_calls_at_once_one_is_aborted(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    # The first clock read (before the lease: is the market open?) is quick; the second,
    # made holding the lease, is slow, so the other call finds the lease held.
    fault(client, route="GET /v2/clock", kind="slow", delay_ms=2000, skip=1)
    answers: list[tuple[int, Any]] = []

    def call() -> None:
        answers.append(client.call("execute_plan", {"plan_id": plan_id}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join()
    statuses = sorted(
        body["result"]["status"] if "result" in body else body["error"]["status"]
        for _, body in answers
    )
    assert statuses == ["ABORTED", "completed_success"]
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 3


def test_the_kill_switch_flipped_between_legs_stops_the_rest(
    proposed: Any, db: Any, kill_switch: Any
) -> None:
    client, plan_id = proposed
    fault(client, route=ORDERS, kind="slow", delay_ms=2500)  # the first leg takes a while
    answers: list[Any] = []
    thread = threading.Thread(
        target=lambda: answers.append(client.ok("execute_plan", {"plan_id": plan_id}))
    )
    thread.start()
    deadline = time.monotonic() + 20
    while client.paper.counters(client.account["id"]).get(ORDERS, 0) < 1:  # first leg out
        assert time.monotonic() < deadline, "the first order never reached the broker"
        time.sleep(0.1)
    kill_switch.set({"trading_enabled": False, "reason": "incident 7"})
    thread.join()
    (result,) = answers
    assert [leg["status"] for leg in result["legs"]] == ["filled", "refused", "refused"]
    assert all("incident 7" in leg["error"] for leg in result["legs"][1:])
    assert result["status"] == "completed_adjusted"
    assert client.paper.counters(client.account["id"])[ORDERS] == 1
    assert len(assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))) == 1


def test_partial_fills_are_recorded_and_the_rest_cancelled(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    client.ok("update_settings", {"fill_wait_seconds": 1})
    fault(client, route=ORDERS, kind="partial_fill", count=3, fill_ratio=0.5)
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert result["status"] == "completed_adjusted"
    legs = result["legs"]
    assert {leg["status"] for leg in legs} == {"partially_filled"}
    for leg in legs:
        assert 0 < float(leg["filled_qty"]) < float(leg["qty"])
    orders = assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))
    assert {o["status"] for o in orders} == {"canceled"}  # the unfilled rest, cancelled


def test_orders_left_working_are_cancelled_by_cancel_plan(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    client.ok("update_settings", {"fill_wait_seconds": 0, "unfilled_orders": "keep"})
    fault(client, route=ORDERS, kind="partial_fill", count=3, fill_ratio=0.5)
    result = client.ok("execute_plan", {"plan_id": plan_id})
    assert {leg["status"] for leg in result["legs"]} == {"open"}
    cancelled = client.ok("cancel_plan", {"plan_id": plan_id})
    assert {leg["status"] for leg in cancelled["legs"]} == {"partially_filled"}
    assert {o["status"] for o in broker_orders(client)} == {"canceled"}


def test_not_enough_cash_for_all_buys_scales_the_basket(proposed: Any, db: Any) -> None:
    client, plan_id = proposed
    # The sell is refused, so only the $2,500 of cash (less the buffer) can buy.
    fault(client, route=ORDERS, kind="reject", status=422, code=40010001, message="halted")
    result = client.ok("execute_plan", {"plan_id": plan_id})
    sell, *buys = result["legs"]
    assert sell["status"] == "failed" and sell["error"] == "halted"
    spent = sum(float(b["qty"]) * float(b["price"]) for b in buys)
    assert 0 < spent <= 2500 - 0.0025 * 99900
    planned = sum(float(b["planned_qty"]) * float(b["price"]) for b in buys)
    assert spent < planned / 2  # scaled down in proportion
    assert {b["status"] for b in buys} == {"filled"}
    assert result["status"] == "completed_adjusted"
    assert_each_leg_placed_once(client, plan_doc(client, db, plan_id))


def test_market_closed_queues_the_plan_and_the_task_runs_it_at_the_open(
    proposed: Any, db: Any, market: Any, stack: Any
) -> None:
    client, plan_id = proposed
    market.control("POST", "/_paper/clock", {"market": "closed"})
    queued = client.ok("execute_plan", {"plan_id": plan_id})
    assert queued["status"] == "queued" and broker_orders(client) == []
    queued_until = datetime.fromisoformat(queued["queued_until"].replace("Z", "+00:00"))
    assert queued_until > market.now()  # after the next open
    # The task for the open is named in the plan. (The emulator delivers a task at once
    # and its queue statistics are rolling averages, so they cannot be counted on.)
    assert plan_doc(client, db, plan_id)["queued_task"] == (
        f"plan-{plan_id}-{queued_until.astimezone(UTC):%Y%m%d%H%M}"
    )
    market.control("POST", "/_paper/clock", {"market": "open"})
    # Cloud Tasks delivers at the scheduled time; deliver it now, twice, as a retry would.
    # The emulator may be delivering its own copy right now: then one delivery answers
    # 409 ABORTED (the lease is held) and Cloud Tasks would retry it later.
    task = {"data": {"uid": client.user.uid, "plan_id": plan_id}}
    for _ in range(2):
        status, body = request("POST", stack.function_url("executePlanTask"), task)
        assert status == 200 or (status == 409 and body["error"]["status"] == "ABORTED"), body
    deadline = time.monotonic() + 60
    while (doc := plan_doc(client, db, plan_id))["status"] != "completed_success":
        assert time.monotonic() < deadline, doc["status"]
        time.sleep(0.5)
    assert len(assert_each_leg_placed_once(client, doc)) == 3


def test_only_the_owner_touches_a_plan(proposed: Any, new_client: Any) -> None:
    client, plan_id = proposed
    other: Client = new_client()
    for name in ("execute_plan", "cancel_plan", "get_plan"):
        status, code, message = other.error(name, {"plan_id": plan_id})
        assert (status, code) == (404, "NOT_FOUND")
    for bad in ({"plan_id": "../x"}, {"plan_id": 5}, {}, {"plan_id": "a" * 41}):
        status, code, message = client.error("execute_plan", bad)
        assert code == "INVALID_ARGUMENT" and message.startswith("plan_id")
    assert broker_orders(client) == []
