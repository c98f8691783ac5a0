"""Injected faults, seen through alpaca-py, and the per-route request counters."""

from __future__ import annotations

import time
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus, TradeActivityType
from alpaca.trading.models import Order, TradeActivity
from alpaca.trading.requests import GetOrdersRequest, MarketOrderRequest

from .conftest import Clients, Control

pytestmark = pytest.mark.integration

ORDERS = "POST /v2/orders"


def buy(client: TradingClient, qty: float = 2, **fields: Any) -> Order:
    """Submit a day market buy of SPY."""
    request = MarketOrderRequest(symbol="SPY", qty=qty, side="buy", time_in_force="day", **fields)
    order: Order = client.submit_order(request)
    return order


def all_orders(client: TradingClient) -> list[Order]:
    """Return every order of the client's account."""
    orders: list[Order] = client.get_orders(GetOrdersRequest(status="all"))
    return orders


def test_http_500_does_nothing(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    control.fault(route=ORDERS, kind="http_500", account_id=account["id"])
    with pytest.raises(APIError) as error:
        buy(client)
    assert (error.value.status_code, error.value.code) == (500, 50010000)
    assert all_orders(client) == []
    assert buy(client).status == OrderStatus.NEW


def test_rate_limit_answers_429_with_headers(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    client._retry = 0
    control.fault(route="GET /v2/account", kind="rate_limit", reset_seconds=30)
    before = time.time()
    with pytest.raises(APIError) as error:
        client.get_account()
    assert (error.value.status_code, error.value.code) == (429, 42910000)
    headers = error.value.response.headers
    assert headers["X-Ratelimit-Limit"] == "200"
    assert headers["X-Ratelimit-Remaining"] == "0"
    assert before + 29 <= int(headers["X-Ratelimit-Reset"]) <= time.time() + 31


def test_rate_limit_then_success_on_retry(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    client._retry_wait = 0
    control.fault(route="GET /v2/account", kind="rate_limit", count=2, account_id=account["id"])
    assert client.get_account().id is not None
    assert control.counters(account)["GET /v2/account"] == 3


def test_slow_answers_late_but_normally(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account())
    control.fault(route="GET /v2/clock", kind="slow", delay_ms=300)
    started = time.monotonic()
    assert client.get_clock().is_open
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.get_clock()
    assert time.monotonic() - started < 0.3


def test_reject_answers_the_given_error(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    control.fault(
        route=ORDERS,
        kind="reject",
        status=403,
        code=40310000,
        message="insufficient buying power",
        account_id=account["id"],
    )
    with pytest.raises(APIError) as error:
        buy(client)
    assert (error.value.status_code, error.value.code) == (403, 40310000)
    assert error.value.message == "insufficient buying power"
    assert all_orders(client) == []


def test_partial_fill_leaves_the_rest_open(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    control.fault(route=ORDERS, kind="partial_fill", account_id=account["id"])
    order = buy(client, qty=5)
    partial = client.get_order_by_id(order.id)
    assert partial.status == OrderStatus.PARTIALLY_FILLED
    assert partial.filled_qty == "2.5"
    assert client.get_order_by_id(order.id).filled_qty == "2.5"
    [activity] = [TradeActivity(**a) for a in client.get("/account/activities/FILL")]
    assert activity.type == TradeActivityType.PARTIAL_FILL
    assert (activity.qty, activity.cum_qty, activity.leaves_qty) == (2.5, 2.5, 2.5)
    assert client.get_open_position("SPY").qty == "2.5"
    assert client.get_orders()[0].id == order.id
    client.cancel_order_by_id(order.id)
    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED
    assert buy(client, qty=1).id is not None
    assert client.get_open_position("SPY").qty == "3.5"


def test_partial_fill_ratio_on_whole_shares(control: Control, clients: Clients) -> None:
    account = control.account(cash="2000000")
    client = clients.trading(account)
    control.fault(route=ORDERS, kind="partial_fill", fill_ratio=0.34, account_id=account["id"])
    order = client.submit_order(
        MarketOrderRequest(symbol="BRK.A", qty=3, side="buy", time_in_force="day")
    )
    assert client.get_order_by_id(order.id).filled_qty == "1"


def test_error_after_commit_places_the_order(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    control.fault(route=ORDERS, kind="error_after_commit", account_id=account["id"])
    with pytest.raises(APIError) as error:
        buy(client, client_order_id="lost-response-1")
    assert (error.value.status_code, error.value.code) == (500, 50010000)
    found = client.get_order_by_client_id("lost-response-1")
    assert found.status == OrderStatus.FILLED
    assert [o.id for o in all_orders(client)] == [found.id]


def test_account_scoped_faults_hit_only_that_account(control: Control, clients: Clients) -> None:
    target, other = control.account(), control.account()
    control.fault(route="GET /v2/account", kind="http_500", account_id=target["id"])
    assert clients.trading(other).get_account().id is not None
    with pytest.raises(APIError):
        clients.trading(target).get_account()


def test_faults_count_down_only_on_their_route(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    fault = control.fault(route="GET /v2/orders/{id}", kind="http_500", count=2)
    assert fault["remaining"] == 2
    order = buy(client)
    client.get_orders()
    assert control.ok("GET", "/_paper/faults")["faults"][0]["remaining"] == 2
    for _ in range(2):
        with pytest.raises(APIError):
            client.get_order_by_id(order.id)
    assert control.ok("GET", "/_paper/faults") == {"faults": []}
    assert client.get_order_by_id(order.id).id == order.id
    control.fault(route="GET /v2/positions", kind="http_500", count=5)
    assert len(control.ok("DELETE", "/_paper/faults")["faults"]) == 0
    assert client.get_all_positions()[0].symbol == "SPY"


def test_counters_per_route_template(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    order = buy(client)
    client.get_order_by_id(order.id)
    client.get_order_by_id(order.id)
    client.get_order_by_client_id(order.client_order_id)
    client.get_open_position("SPY")
    clients.stock(account).get("/stocks/SPY/trades/latest")
    control.fault(route="GET /v2/account", kind="http_500")
    with pytest.raises(APIError):
        client.get_account()
    assert control.counters(account) == {
        "GET /v2/account": 1,
        "GET /v2/orders/{id}": 2,
        "GET /v2/orders:by_client_order_id": 1,
        "GET /v2/positions/{symbol_or_asset_id}": 1,
        "GET /v2/stocks/{symbol}/trades/latest": 1,
        "POST /v2/orders": 1,
    }
    assert control.ok("DELETE", f"/_paper/accounts/{account['id']}/counters") == {}
    assert control.counters(account) == {}


def test_skip_lets_the_first_requests_through(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    control.fault(route=ORDERS, kind="http_500", skip=1, account_id=account["id"])
    assert buy(client).status == OrderStatus.NEW
    with pytest.raises(APIError) as error:
        buy(client)
    assert error.value.status_code == 500
    assert buy(client).status == OrderStatus.NEW
    assert len(all_orders(client)) == 2
