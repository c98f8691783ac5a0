"""Auth, linking, targets, execute_trade and bad input, over HTTP as a client calls them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devstack.firebase import Stack, unsigned_token
from devstack.http import request
from tests.stack import CALLABLES

from .conftest import Client

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", CALLABLES)
def test_every_callable_requires_a_valid_token(stack: Stack, name: str) -> None:
    status, body = stack.call(name, {})
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")
    status, body = stack.call(name, {}, token="not-a-jwt")
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")


def test_link_verifies_credentials_stores_them_sealed_and_never_returns_them(
    new_client: Any, db: Any
) -> None:
    client: Client = new_client()
    status, code, message = client.error(
        "link_broker", {"api_key_id": client.account["api_key_id"], "secret_key": "wrong"}
    )
    assert code == "INVALID_ARGUMENT" and message.startswith("api_key_id:")
    assert not db.collection("brokerConnections").document(client.user.uid).get().exists

    result = client.link()
    assert result == {
        "linked": True,
        "account_number": client.account["account_number"],
        "status": "ACTIVE",
        "paper": True,
    }
    stored = db.collection("brokerConnections").document(client.user.uid).get().to_dict()
    assert client.account["secret_key"] not in json.dumps(stored, default=str)
    assert client.account["api_key_id"] not in json.dumps(stored, default=str)
    assert stored["account_number"] == client.account["account_number"]
    assert client.paper.counters(client.account["id"]).get("GET /v2/account") == 1


def test_link_with_an_oauth_token(new_client: Any) -> None:
    client: Client = new_client()
    result = client.ok("link_broker", {"oauth_token": client.account["oauth_token"]})
    assert result["account_number"] == client.account["account_number"]
    status, code, message = client.error("link_broker", {"oauth_token": "not-a-token"})
    assert code == "INVALID_ARGUMENT" and message.startswith("oauth_token:")


def test_a_user_only_ever_touches_their_own_account_and_targets(new_client: Any) -> None:
    alice: Client = new_client("100000")
    bob: Client = new_client("100000")
    alice.link()
    alice.ok("set_targets", {"allocations": [{"symbol": "SPY", "target_percent": 100}]})
    assert bob.ok("get_targets", {}) == {"allocations": []}
    # The uid comes from the token: a uid in the payload is refused, not obeyed.
    status, code, message = bob.error("get_targets", {"uid": alice.user.uid})
    assert code == "INVALID_ARGUMENT" and message == "uid: unknown field"
    status, code, _ = bob.error("execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1})
    assert code == "FAILED_PRECONDITION"  # bob has no broker linked; alice's is not his
    assert alice.orders_placed() == 0 and bob.orders_placed() == 0


def test_execute_trade_places_an_order_and_records_it(new_client: Any, db: Any) -> None:
    client: Client = new_client("10000")
    client.link()
    result = client.ok("execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1.5})
    assert result["symbol"] == "SPY" and result["qty"] == 1.5 and result["order_id"]
    notional = client.ok("execute_trade", {"symbol": "QQQ", "side": "buy", "notional": 250})
    assert notional["notional"] == 250
    limit = client.ok(
        "execute_trade",
        {"symbol": "SPY", "side": "buy", "qty": 1, "order_type": "limit", "limit_price": 450.5},
    )
    assert limit["status"] in {"new", "accepted"}
    history = db.collection("users").document(client.user.uid).collection("rebalanceHistory").get()
    assert sorted(h.to_dict()["orders"][0]["order_id"] for h in history) == sorted(
        [result["order_id"], notional["order_id"], limit["order_id"]]
    )
    assert client.orders_placed() == 3


def test_execute_trade_refusals_are_clear_errors_before_the_broker(new_client: Any) -> None:
    client: Client = new_client("100")
    client.link()
    status, code, message = client.error(
        "execute_trade", {"symbol": "SPY", "side": "buy", "qty": 5}
    )
    assert code == "FAILED_PRECONDITION"
    assert message == "insufficient buying power: SPY needs $2,500.00, $100.00 available"
    status, code, message = client.error(
        "execute_trade", {"symbol": "BRK.A", "side": "buy", "qty": 0.5}
    )
    assert code == "INVALID_ARGUMENT" and message == "qty: BRK.A trades in whole shares only"
    status, code, message = client.error(
        "execute_trade", {"symbol": "NOPE", "side": "buy", "qty": 1}
    )
    assert code == "INVALID_ARGUMENT" and message == "symbol: NOPE is not known at the broker"
    assert client.orders_placed() == 0  # buying power is checked before sending (issue 10)


def test_execute_trade_behind_the_kill_switch(new_client: Any, kill_switch: Any, db: Any) -> None:
    client: Client = new_client("10000")
    client.link()
    kill_switch.set({"trading_enabled": False, "reason": "incident 42"})
    status, code, message = client.error(
        "execute_trade", {"symbol": "SPY", "side": "buy", "qty": 1}
    )
    assert code == "FAILED_PRECONDITION" and "incident 42" in message
    assert client.orders_placed() == 0
    (entry,) = db.collection("users").document(client.user.uid).collection("rebalanceHistory").get()
    assert entry.to_dict()["status"] == "refused"


BAD_TRADES = [
    ({"qty": -1}, "qty: must be greater than 0"),
    ({"qty": 0}, "qty: must be greater than 0"),
    ({"qty": float("nan")}, "qty: must be a finite number"),
    ({"qty": float("inf")}, "qty: must be a finite number"),
    ({"qty": 1e30}, "qty: must be at most 1000000000"),
    ({"qty": "5"}, "qty: must be a number"),
    ({"qty": True}, "qty: must be a number"),
    ({"qty": 1, "notional": 100}, "notional: give either qty or notional, not both"),
    ({"qty": 1, "side": "hold"}, "side: Input should be 'buy' or 'sell'"),
    ({"qty": 1, "order_type": "stop"}, "order_type: Input should be 'market' or 'limit'"),
    ({"qty": 1, "order_type": "limit"}, "limit_price: is required for a limit order"),
    ({"qty": 1, "symbol": "SPY'; DROP TABLE--"}, "symbol: is not a valid symbol"),
    ({"qty": 1, "symbol": "../../v2/account"}, "symbol: is not a valid symbol"),
    ({"qty": 1, "symbol": 42}, "symbol: must be a string"),
    ({"qty": 1, "extra": "x"}, "extra: unknown field"),
    ({}, "qty: is required (or give notional)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_TRADES)
def test_bad_trade_input_names_the_field_and_reaches_no_broker(
    new_client: Any, change: dict[str, Any], message: str
) -> None:
    client: Client = new_client("10000")
    client.link()
    status, code, got = client.error("execute_trade", {"symbol": "SPY", "side": "buy", **change})
    assert (status, code, got) == (400, "INVALID_ARGUMENT", message)
    assert client.orders_placed() == 0


BAD_TARGETS = [
    (
        [{"symbol": "SPY", "target_percent": -10}, {"symbol": "QQQ", "target_percent": 110}],
        "allocations.0.target_percent: must be greater than 0",
    ),
    (
        [{"symbol": "SPY", "target_percent": 60}, {"symbol": "QQQ", "target_percent": 30}],
        "allocations: enabled targets must sum to 100 (within 0.01), got 90",
    ),
    (
        [{"symbol": "SPY", "target_percent": 50}, {"symbol": "SPY", "target_percent": 50}],
        "allocations: duplicate symbols: SPY",
    ),
    (
        [{"symbol": "SPY", "target_percent": "100"}],
        "allocations.0.target_percent: must be a number",
    ),
    (
        [{"symbol": "SPY", "target_percent": float("nan")}],
        "allocations.0.target_percent: must be a finite number",
    ),
    (
        [{"symbol": "SPY", "target_percent": 1e30}],
        "allocations.0.target_percent: must be at most 100",
    ),
    (
        [{"symbol": "SPY", "target_percent": 100, "threshold_percent": 0}],
        "allocations.0.threshold_percent: must be greater than 0",
    ),
    (
        [{"symbol": "<script>", "target_percent": 100}],
        "allocations.0.symbol: is not a valid symbol",
    ),
    (
        [{"symbol": "SPY", "target_percent": 100, "weight": 1}],
        "allocations.0.weight: unknown field",
    ),
    (
        [{"symbol": "NOPE", "target_percent": 100}],
        "allocations.0.symbol: NOPE is not known at the broker",
    ),
    (
        [{"symbol": "DELISTED", "target_percent": 100}],
        "allocations.0.symbol: DELISTED is not tradable",
    ),
    (
        [{"symbol": f"S{i}", "target_percent": 2} for i in range(51)],
        "allocations: List should have at most 50 items after validation, not 51",
    ),
    ([], "allocations: List should have at least 1 item after validation, not 0"),
    ("SPY", "allocations: must be a list"),
]


@pytest.mark.parametrize(("allocations", "message"), BAD_TARGETS)
def test_bad_targets_name_the_field_and_change_nothing(
    new_client: Any, allocations: Any, message: str
) -> None:
    client: Client = new_client()
    client.link()
    client.ok("set_targets", {"allocations": [{"symbol": "VTI", "target_percent": 100}]})
    status, code, got = client.error("set_targets", {"allocations": allocations})
    assert (code, got) == ("INVALID_ARGUMENT", message)
    assert client.ok("get_targets", {})["allocations"] == [
        {
            "symbol": "VTI",
            "target_percent": 100.0,
            "threshold_percent": None,
            "enabled": True,
            "substitutes": [],
        }
    ]


def test_set_targets_replaces_the_allocation_atomically(new_client: Any, db: Any) -> None:
    client: Client = new_client()
    client.link()
    client.ok(
        "set_targets",
        {
            "allocations": [
                {"symbol": "SPY", "target_percent": 60},
                {"symbol": "BND", "target_percent": 40},
            ]
        },
    )
    client.ok(
        "set_targets",
        {
            "allocations": [
                {"symbol": "SPY", "target_percent": 50, "threshold_percent": 3},
                {"symbol": "GLD", "target_percent": 50},
                {"symbol": "BTC/USD", "target_percent": 5, "enabled": False},
            ]
        },
    )
    docs = {
        d.id: d.to_dict()
        for d in db.collection("userSettings")
        .document(client.user.uid)
        .collection("allocation")
        .get()
    }
    assert set(docs) == {"SPY", "GLD", "BTC-USD"}
    assert docs["SPY"]["threshold_percent"] == 3 and docs["BTC-USD"]["symbol"] == "BTC/USD"
    assert docs["SPY"]["created_at"] < docs["SPY"]["updated_at"]


def test_malformed_callable_bodies(stack: Stack, new_client: Any) -> None:
    client: Client = new_client()
    url = stack.function_url("get_targets")
    auth = {"Authorization": f"Bearer {client.user.id_token}"}
    status, body = request("POST", url, {"not_data": 1}, auth)
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    status, body = request("POST", url, {"data": [1, 2]}, auth)
    assert (status, body["error"]["message"]) == (400, "data: must be an object")
    token = unsigned_token(client.user.uid)  # the emulator accepts unsigned tokens
    status, body = request("POST", url, {"data": {}}, {"Authorization": f"Bearer {token}"})
    assert status == 200
