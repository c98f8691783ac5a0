"""execute_trade retries and funds, and the link_broker limit, over HTTP on the paper broker.

The broker's own order book is the judge: how many orders it holds, not what we recorded.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from .conftest import Client

pytestmark = pytest.mark.e2e


def broker_orders(client: Client) -> list[dict[str, Any]]:
    """Every order of the client's account, as the broker lists them."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import GetOrdersRequest

    trading = TradingClient(
        client.account["api_key_id"], client.account["secret_key"], url_override=client.paper.url
    )
    orders = trading.get_orders(GetOrdersRequest(status="all", direction="asc", limit=500))
    return [o.model_dump(mode="json") for o in orders]


def history(client: Client, db: Any, history_id: str) -> dict[str, Any]:
    ref = db.document(f"users/{client.user.uid}/rebalanceHistory/{history_id}")
    doc: dict[str, Any] = ref.get().to_dict()
    return doc


def test_a_retry_with_the_same_key_returns_the_first_order(new_client: Any, db: Any) -> None:
    client: Client = new_client("10000")
    client.link()
    trade = {"symbol": "SPY", "side": "buy", "qty": 1.5, "idempotency_key": "buy-spy-1"}
    first = client.ok("execute_trade", trade)
    again = client.ok("execute_trade", trade)
    assert first["order_id"] and again["order_id"] == first["order_id"]
    assert again["client_order_id"] == first["client_order_id"]
    assert client.orders_placed() == 1 and len(broker_orders(client)) == 1
    entry = history(client, db, "trade-buy-spy-1")
    assert entry["idempotency_key"] == "buy-spy-1"
    assert entry["orders"][0]["order_id"] == first["order_id"]

    status, code, message = client.error("execute_trade", {**trade, "qty": 2})
    assert code == "INVALID_ARGUMENT" and message.startswith("idempotency_key:")
    status, code, message = client.error("execute_trade", {**trade, "idempotency_key": "a b"})
    assert code == "INVALID_ARGUMENT" and message.startswith("idempotency_key:")
    assert client.orders_placed() == 1 and len(broker_orders(client)) == 1
    # Without a key every call is a new order, as before.
    client.ok("execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1})
    client.ok("execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1})
    assert len(broker_orders(client)) == 3


def test_two_concurrent_calls_with_the_same_key_place_one_order(new_client: Any, db: Any) -> None:
    client: Client = new_client("10000")
    client.link()
    trade = {"symbol": "QQQ", "side": "buy", "qty": 2, "idempotency_key": "tap-tap"}
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(2)

    def call() -> None:
        start.wait()
        answers.append(client.call("execute_trade", trade))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    (order,) = broker_orders(client)
    assert [status for status, _ in answers] == [200, 200], answers
    assert {body["result"]["order_id"] for _, body in answers} == {order["id"]}
    assert history(client, db, "trade-tap-tap")["orders"][0]["order_id"] == order["id"]


def test_a_buy_above_buying_power_held_by_open_orders_never_reaches_the_broker(
    new_client: Any,
) -> None:
    client: Client = new_client("1000")
    client.link()
    # An open limit order (SPY trades at 500) holds $400 of the $1,000 cash.
    limit = {"symbol": "SPY", "side": "buy", "qty": 1, "order_type": "limit", "limit_price": 400}
    assert client.ok("execute_trade", limit)["status"] in {"new", "accepted"}
    assert client.orders_placed() == 1
    status, code, message = client.error(
        "execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1.5}
    )
    assert code == "FAILED_PRECONDITION"
    assert message == "insufficient buying power: SPY needs $750.00, $600.00 available"
    status, code, message = client.error(
        "execute_trade", {"symbol": "SPY", "side": "buy", "notional": 600.01}
    )
    assert code == "FAILED_PRECONDITION" and message.endswith("$600.00 available")
    status, code, message = client.error(
        "execute_trade", {"symbol": "QQQ", "side": "sell", "qty": 1}
    )
    assert code == "FAILED_PRECONDITION"
    assert message == "insufficient shares: selling 1 QQQ, 0 available"
    assert client.orders_placed() == 1 and len(broker_orders(client)) == 1


def test_the_sixth_link_attempt_in_an_hour_is_refused_before_the_broker(
    new_client: Any, db: Any
) -> None:
    client: Client = new_client()
    wrong = {"api_key_id": client.account["api_key_id"], "secret_key": "guessed"}
    status, code, _ = client.error("link_broker", wrong)
    assert code == "INVALID_ARGUMENT"  # a failed attempt counts too
    for _ in range(4):
        client.link()
    assert client.paper.counters(client.account["id"]).get("GET /v2/account") == 4
    status, code, message = client.error(
        "link_broker",
        {"api_key_id": client.account["api_key_id"], "secret_key": client.account["secret_key"]},
    )
    assert (status, code) == (429, "RESOURCE_EXHAUSTED")
    assert message.startswith("too many link_broker attempts: at most 5 per hour; retry after ")
    assert client.paper.counters(client.account["id"]).get("GET /v2/account") == 4
    limits = db.document(f"users/{client.user.uid}/limits/link_broker").get().to_dict()
    assert len(limits["attempts"]) == 5
