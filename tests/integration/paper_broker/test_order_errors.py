"""Every refusal of an order request, with Alpaca's status and code."""

from __future__ import annotations

from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, MarketOrderRequest

from .conftest import Clients, Control, auth_headers

pytestmark = pytest.mark.integration

BASE = {"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day", "qty": 1}


def refused(client: TradingClient, body: dict[str, Any]) -> APIError:
    """Post an order body through alpaca-py and return the APIError it raises."""
    with pytest.raises(APIError) as error:
        client.post("/orders", body)
    return error.value


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"symbol": "NOSUCH"}, 'asset "NOSUCH" not found'),
        ({"symbol": "DELISTED"}, "asset DELISTED is not tradable"),
        ({"symbol": "BRK.A", "qty": 0.5}, "asset BRK.A is not fractionable"),
        ({"qty": 1.5, "time_in_force": "gtc"}, "fractional orders must be day orders"),
        ({"qty": None, "notional": 100, "time_in_force": "gtc"}, "must be day orders"),
        (
            {"qty": None, "notional": 100, "type": "limit", "limit_price": 500},
            "notional orders must be market orders",
        ),
        ({"qty": 0}, "qty must be > 0"),
        ({"qty": -2}, "qty must be > 0"),
        ({"qty": 0.0000000001}, "qty must have at most 9 decimal places"),
        ({"qty": None, "notional": 10.001}, "notional must have at most 2 decimal places"),
        ({"qty": None, "notional": 0.5}, "notional must be at least $1"),
        ({"qty": None, "notional": None}, "exactly one of qty or notional is required"),
        ({"notional": 100}, "exactly one of qty or notional is required"),
        ({"type": "limit", "limit_price": 100.123}, "sub-penny increment"),
        ({"type": "limit"}, "limit_price is required for limit orders"),
        ({"limit_price": 100}, "limit_price is not allowed for market orders"),
        ({"type": "stop", "stop_price": 100}, "invalid type"),
        ({"time_in_force": "forever"}, "invalid time_in_force"),
        ({"side": "short"}, "invalid side"),
        ({"symbol": None}, "symbol is required"),
        ({"qty": "one"}, "invalid qty"),
        ({"client_order_id": "x" * 129}, "client_order_id must be no more than 128 characters"),
        ({"order_class": "bracket"}, "only simple orders are supported"),
        ({"symbol": "BTC/USD", "qty": 0.1, "time_in_force": "opg"}, "crypto time_in_force"),
    ],
)
def test_invalid_orders_are_422(
    trading: TradingClient, changes: dict[str, Any], message: str
) -> None:
    body = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    error = refused(trading, body)
    assert error.status_code == 422
    assert error.code == 40010001
    assert message.lower() in error.message.lower()
    assert trading.get_orders(GetOrdersRequest(status="all")) == []


def test_sub_dollar_limit_prices_may_have_four_decimals(control: Control, clients: Clients) -> None:
    symbol = control.new_symbol(price="0.5")
    client = clients.trading(control.account())
    body = {**BASE, "symbol": symbol, "type": "limit", "limit_price": 0.4512}
    assert client.post("/orders", body)["limit_price"] == "0.4512"
    error = refused(client, {**body, "limit_price": 0.45123})
    assert (error.status_code, error.code) == (422, 40010001)


def test_duplicate_client_order_id_is_422(trading: TradingClient) -> None:
    trading.post("/orders", {**BASE, "client_order_id": "once"})
    error = refused(trading, {**BASE, "client_order_id": "once"})
    assert (error.status_code, error.code) == (422, 40010001)
    assert error.message == "client_order_id must be unique"
    assert len(trading.get_orders(GetOrdersRequest(status="all"))) == 1


def test_client_order_id_of_128_characters_is_fine(trading: TradingClient) -> None:
    assert trading.post("/orders", {**BASE, "client_order_id": "y" * 128})["status"] == "new"


def test_insufficient_buying_power_is_403(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="499.99"))
    with pytest.raises(APIError) as error:
        client.submit_order(
            MarketOrderRequest(
                symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
    assert (error.value.status_code, error.value.code) == (403, 40310000)
    assert error.value.message == "insufficient buying power"


def test_selling_more_than_held_is_403(trading: TradingClient) -> None:
    trading.post("/orders", {**BASE, "qty": 2})
    error = refused(trading, {**BASE, "side": "sell", "qty": 3})
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "insufficient qty available for order (requested: 3, available: 2)"
    no_position = refused(trading, {**BASE, "symbol": "QQQ", "side": "sell"})
    assert (no_position.status_code, no_position.code) == (403, 40310000)


@pytest.mark.parametrize("payload", [b"{not json", b"", b"\xff\xfe", b"[1, 2]"])
def test_malformed_body_is_400(control: Control, account: dict[str, Any], payload: bytes) -> None:
    status, body, _ = control.call("POST", "/v2/orders", raw=payload, headers=auth_headers(account))
    assert status == 400
    assert body["code"] == 40010000


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_order_by_id("8f0a2a4e-5d2c-4d0a-9a7e-3f1b2c3d4e5f"),
        lambda c: c.cancel_order_by_id("8f0a2a4e-5d2c-4d0a-9a7e-3f1b2c3d4e5f"),
        lambda c: c.get_open_position("SPY"),
        lambda c: c.get_open_position("NOSUCH"),
        lambda c: c.get_asset("NOSUCH"),
        lambda c: c.get("/orders/not-a-uuid"),
    ],
    ids=["order", "cancel", "position", "unknown-position", "asset", "bad-order-id"],
)
def test_unknown_things_are_404(trading: TradingClient, call: Any) -> None:
    with pytest.raises(APIError) as error:
        call(trading)
    assert (error.value.status_code, error.value.code) == (404, 40410000)


def test_unknown_path_and_wrong_method(control: Control, account: dict[str, Any]) -> None:
    status, body, _ = control.call("GET", "/v2/nothing-here", headers=auth_headers(account))
    assert (status, body["code"]) == (404, 40410000)
    status, body, _ = control.call("PATCH", "/v2/account", headers=auth_headers(account))
    assert (status, body["code"]) == (405, 40510000)
