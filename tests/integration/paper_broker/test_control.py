"""The control API: its answers, and 4xx messages that name the problem field."""

from __future__ import annotations

from typing import Any

import pytest
from alpaca.trading.enums import AssetClass, OrderStatus
from alpaca.trading.requests import MarketOrderRequest

from .conftest import Clients, Control

pytestmark = pytest.mark.integration


def test_health(control: Control) -> None:
    assert control.ok("GET", "/_paper/health") == {"ok": True}


def test_create_account_returns_credentials(control: Control) -> None:
    status, body, _ = control.call("POST", "/_paper/accounts", {})
    assert status == 201
    assert set(body) == {"id", "account_number", "api_key_id", "secret_key", "oauth_token", "cash"}
    assert body["cash"] == "100000"
    assert body["api_key_id"].startswith("PK")
    summary = control.summary(body)
    assert summary["cash"] == "100000"
    assert summary["lots"] == []
    assert summary["open_orders"] == []


def test_set_cash(control: Control, clients: Clients, account: dict[str, Any]) -> None:
    control.ok("POST", f"/_paper/accounts/{account['id']}/cash", {"cash": 42.5})
    assert clients.trading(account).get_account().cash == "42.5"


def test_open_orders_show_in_the_summary(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    control.clock("2024-03-09T15:00:00Z")
    order = clients.trading(account).submit_order(
        MarketOrderRequest(symbol="SPY", qty=1, side="buy", time_in_force="day")
    )
    [listed] = control.summary(account)["open_orders"]
    assert listed["id"] == str(order.id)
    assert listed["status"] == OrderStatus.ACCEPTED


def test_put_asset_adds_and_changes_assets(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    answer = control.ok(
        "PUT", "/_paper/assets/ZNEWONE", {"name": "New One", "price": "12.5", "exchange": "NYSE"}
    )
    assert (answer["symbol"], answer["price"], answer["exchange"]) == ("ZNEWONE", "12.5", "NYSE")
    client = clients.trading(account)
    asset = client.get_asset("ZNEWONE")
    assert asset.name == "New One"
    assert asset.tradable and asset.fractionable
    control.ok("PUT", "/_paper/assets/ZNEWONE", {"fractionable": False, "tradable": False})
    asset = client.get_asset("ZNEWONE")
    assert not asset.fractionable and not asset.tradable
    coin = control.ok("PUT", "/_paper/assets/ZED/USD", {"price": 2})
    assert coin["class"] == "crypto"
    assert client.get_asset("ZED/USD").asset_class == AssetClass.CRYPTO


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/_paper/accounts", {"cash": "lots"}, 400, "cash"),
        ("POST", "/_paper/accounts", {"cash": -1}, 400, "cash"),
        ("POST", "/_paper/accounts", {"cash": "1", "colour": "red"}, 400, "colour"),
        ("POST", "/_paper/accounts", {"api_key_id": 7}, 400, "api_key_id"),
        ("GET", "/_paper/accounts/nope", None, 404, "id"),
        ("POST", "/_paper/accounts/{id}/cash", {}, 400, "cash"),
        ("POST", "/_paper/accounts/{id}/lots", {"lots": []}, 400, "lots"),
        (
            "POST",
            "/_paper/accounts/{id}/lots",
            {"lots": [{"symbol": "SPY", "qty": 0, "cost_per_share": 1}]},
            400,
            "lots[0].qty",
        ),
        (
            "POST",
            "/_paper/accounts/{id}/lots",
            {"lots": [{"symbol": "NOSUCH", "qty": 1, "cost_per_share": 1}]},
            400,
            "lots[0].symbol",
        ),
        (
            "POST",
            "/_paper/accounts/{id}/lots",
            {"lots": [{"symbol": "SPY", "qty": 1, "cost_per_share": 1, "acquired_at": "x"}]},
            400,
            "lots[0].acquired_at",
        ),
        ("POST", "/_paper/prices", {"prices": {"NOSUCH": "1"}}, 400, "prices.NOSUCH"),
        ("POST", "/_paper/prices", {"prices": {"SPY": "0"}}, 400, "prices.SPY"),
        ("POST", "/_paper/prices", {}, 400, "prices"),
        ("PUT", "/_paper/assets/bad%20symbol!", {}, 400, "symbol"),
        ("PUT", "/_paper/assets/ZOK", {"class": "bond"}, 400, "class"),
        ("PUT", "/_paper/assets/ZOK", {"exchange": "MOON"}, 400, "exchange"),
        ("PUT", "/_paper/assets/ZOK", {"tradable": "yes"}, 400, "tradable"),
        ("POST", "/_paper/clock", {"now": "soon"}, 400, "now"),
        ("POST", "/_paper/clock", {"market": "lunch"}, 400, "market"),
        ("POST", "/_paper/clock", {"frozen": "no"}, 400, "frozen"),
        ("POST", "/_paper/faults", {"route": "GET /v2/nope", "kind": "http_500"}, 400, "route"),
        ("POST", "/_paper/faults", {"route": "GET /v2/account", "kind": "boom"}, 400, "kind"),
        (
            "POST",
            "/_paper/faults",
            {"route": "GET /v2/account", "kind": "http_500", "count": 0},
            400,
            "count",
        ),
        (
            "POST",
            "/_paper/faults",
            {"route": "GET /v2/account", "kind": "partial_fill"},
            400,
            "route",
        ),
        (
            "POST",
            "/_paper/faults",
            {"route": "POST /v2/orders", "kind": "partial_fill", "fill_ratio": 1.5},
            400,
            "fill_ratio",
        ),
        (
            "POST",
            "/_paper/faults",
            {"route": "GET /v2/account", "kind": "http_500", "account_id": "nope"},
            404,
            "account_id",
        ),
    ],
)
def test_bad_control_requests_name_the_field(
    control: Control,
    account: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str,
) -> None:
    got, answer, _ = control.call(method, path.replace("{id}", account["id"]), body)
    assert got == status, answer
    assert answer["message"].startswith(f"{field}:"), answer


def test_malformed_control_body_is_400(control: Control) -> None:
    status, answer, _ = control.call("POST", "/_paper/prices", raw=b"{oops")
    assert status == 400
    assert answer["code"] == 40010000


def test_unknown_control_path_is_404(control: Control) -> None:
    status, answer, _ = control.call("GET", "/_paper/nothing")
    assert (status, answer["code"]) == (404, 40410000)
