"""firestore.rules against the Firestore emulator, as signed-in, other and anonymous callers."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from devstack.firebase import Stack, unsigned_token
from devstack.http import request

pytestmark = pytest.mark.e2e

OWNER = {"Authorization": "Bearer owner"}  # the emulator's admin bypass, as the backend


def as_user(uid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {unsigned_token(uid)}"}


def fields(**values: Any) -> dict[str, Any]:
    """A Firestore REST document body."""

    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"booleanValue": v}
        if isinstance(v, int | float):
            return {"doubleValue": v}
        if isinstance(v, list):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        return {"stringValue": v}

    return {"fields": {k: value(v) for k, v in values.items()}}


@pytest.fixture
def uid(stack: Stack) -> str:
    uid = "rules-" + secrets.token_hex(6)
    for path in (
        f"userSettings/{uid}",
        f"users/{uid}/driftLogs/log1",
        f"users/{uid}/rebalanceHistory/plan1",
        f"brokerConnections/{uid}",
        f"userSettings/{uid}/allocation/SPY",
    ):
        status, body = request("PATCH", stack.firestore_url(path), fields(seed=True), OWNER)
        assert status == 200, body
    return uid


@pytest.mark.parametrize(
    "path",
    [
        "userSettings/{uid}",
        "userSettings/{uid}/allocation/SPY",
        "users/{uid}/driftLogs/log1",
        "users/{uid}/rebalanceHistory/plan1",
    ],
)
def test_users_read_only_their_own_documents(stack: Stack, uid: str, path: str) -> None:
    url = stack.firestore_url(path.format(uid=uid))
    assert request("GET", url, None, as_user(uid))[0] == 200
    assert request("GET", url, None, as_user("someone-else"))[0] == 403
    assert request("GET", url)[0] == 403  # anonymous


@pytest.mark.parametrize("path", ["brokerConnections/{uid}", "systemStatus/risk_management"])
def test_server_only_documents_are_closed_to_every_client(
    stack: Stack, uid: str, path: str
) -> None:
    url = stack.firestore_url(path.format(uid=uid))
    assert request("GET", url, None, as_user(uid))[0] == 403
    assert request("PATCH", url, fields(trading_enabled=True), as_user(uid))[0] == 403
    assert request("GET", url)[0] == 403


@pytest.mark.parametrize(
    "path", ["userSettings/{uid}", "users/{uid}/driftLogs/log2", "users/{uid}/rebalanceHistory/p2"]
)
def test_backend_owned_documents_are_read_only_for_their_owner(
    stack: Stack, uid: str, path: str
) -> None:
    url = stack.firestore_url(path.format(uid=uid))
    assert request("PATCH", url, fields(auto_execute=True), as_user(uid))[0] == 403


def test_owner_writes_valid_allocation_documents_only(stack: Stack, uid: str) -> None:
    def put(doc_id: str, body: dict[str, Any], who: str = uid) -> int:
        url = stack.firestore_url(f"userSettings/{uid}/allocation/{doc_id}")
        return request("PATCH", url, body, as_user(who))[0]

    assert put("QQQ", fields(symbol="QQQ", target_percent=30, enabled=True)) == 200
    assert (
        put(
            "QQQ",
            fields(
                symbol="QQQ",
                target_percent=30,
                enabled=True,
                threshold_percent=4,
                substitutes=["QQQM"],
            ),
        )
        == 200
    )
    assert put("BTC-USD", fields(symbol="BTC/USD", target_percent=5, enabled=True)) == 200
    assert put("QQQ", fields(symbol="QQQ", target_percent=30, enabled=True), "other") == 403
    bad = [
        ("QQQ", fields(symbol="QQQ", target_percent=0, enabled=True)),
        ("QQQ", fields(symbol="QQQ", target_percent=101, enabled=True)),
        ("QQQ", fields(symbol="QQQ", target_percent="30", enabled=True)),
        ("QQQ", fields(symbol="SPY", target_percent=30, enabled=True)),
        ("QQQ", fields(symbol="QQQ", target_percent=30)),
        ("QQQ", fields(symbol="QQQ", target_percent=30, enabled=True, admin=True)),
        ("QQQ", fields(symbol="QQQ", target_percent=30, enabled=True, threshold_percent=-1)),
        ("bad;id", fields(symbol="bad;id", target_percent=30, enabled=True)),
    ]
    for doc_id, body in bad:
        assert put(doc_id, body) == 403, (doc_id, body)
    url = stack.firestore_url(f"userSettings/{uid}/allocation/QQQ")
    assert request("DELETE", url, None, as_user("other"))[0] == 403
    assert request("DELETE", url, None, as_user(uid))[0] == 200


def put_allocation(stack: Stack, uid: str, doc_id: str, body: dict[str, Any]) -> int:
    """PATCH one allocation document as its owner; the HTTP status."""
    url = stack.firestore_url(f"userSettings/{uid}/allocation/{doc_id}")
    return request("PATCH", url, body, as_user(uid))[0]


def spy(**extra: Any) -> dict[str, Any]:
    """SPY at 40 % with extra fields, as a REST document body."""
    return fields(symbol="SPY", target_percent=40, enabled=True, **extra)


def with_raw(body: dict[str, Any], field: str, value: dict[str, Any]) -> dict[str, Any]:
    """A body with one field set to a raw REST value (NaN, integers, nested lists)."""
    return {"fields": {**body["fields"], field: value}}


@pytest.mark.parametrize(
    "body",
    [
        spy(substitutes=["IVV", "VOO", "SPLG", "BRK.B", "SPYM"]),
        spy(substitutes=[]),
        spy(threshold_percent=0.01),
        fields(symbol="SPY", target_percent=0.01, enabled=True),
        fields(symbol="SPY", target_percent=100, enabled=False, threshold_percent=100),
    ],
)
def test_allocation_documents_at_the_limits_are_allowed(
    stack: Stack, uid: str, body: dict[str, Any]
) -> None:
    assert put_allocation(stack, uid, "SPY", body) == 200


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("itself as a substitute", spy(substitutes=["SPY"])),
        ("itself among others", spy(substitutes=["IVV", "SPY"])),
        ("a substitute twice", spy(substitutes=["IVV", "IVV"])),
        ("six substitutes", spy(substitutes=["IVV", "VOO", "SPLG", "SPYM", "RSP", "SCHX"])),
        ("a lower-case substitute", spy(substitutes=["ivv"])),
        ("a substitute with a space", spy(substitutes=["I V"])),
        ("substitutes as a string", spy(substitutes="QQQ")),
        ("substitutes as a number", with_raw(spy(), "substitutes", {"integerValue": "5"})),
        (
            "a number among the substitutes",
            with_raw(
                spy(),
                "substitutes",
                {"arrayValue": {"values": [{"stringValue": "IVV"}, {"integerValue": "5"}]}},
            ),
        ),
        (
            "a map among the substitutes",
            with_raw(
                spy(),
                "substitutes",
                {"arrayValue": {"values": [{"mapValue": {"fields": {}}}]}},
            ),
        ),
        ("target 1e-25", fields(symbol="SPY", target_percent=1e-25, enabled=True)),
        ("target 0.009", fields(symbol="SPY", target_percent=0.009, enabled=True)),
        ("target -5", fields(symbol="SPY", target_percent=-5, enabled=True)),
        (
            "target NaN",
            with_raw(spy(), "target_percent", {"doubleValue": "NaN"}),
        ),
        (
            "target infinity",
            with_raw(spy(), "target_percent", {"doubleValue": "Infinity"}),
        ),
        ("target 1e300", fields(symbol="SPY", target_percent=1e300, enabled=True)),
        ("threshold 1e-25", spy(threshold_percent=1e-25)),
        ("threshold 0", spy(threshold_percent=0)),
        ("threshold NaN", with_raw(spy(), "threshold_percent", {"doubleValue": "NaN"})),
        ("threshold as a string", spy(threshold_percent="3")),
        ("threshold null", with_raw(spy(), "threshold_percent", {"nullValue": None})),
    ],
)
def test_allocation_documents_that_break_a_rule_are_refused(
    stack: Stack, uid: str, name: str, body: dict[str, Any]
) -> None:
    assert put_allocation(stack, uid, "SPY", body) == 403, name
