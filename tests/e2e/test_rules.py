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
