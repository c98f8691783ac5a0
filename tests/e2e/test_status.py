"""get_status over HTTP: the kill-switch as users may see it, and the caller's link."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.firebase import Stack

from .conftest import Client

pytestmark = pytest.mark.e2e


def test_status_before_and_after_linking(new_client: Any, kill_switch: Any) -> None:
    client: Client = new_client("1000")
    assert client.ok("get_status", {}) == {
        "trading_enabled": True,
        "trading_message": None,
        "broker_linked": False,
        "account_number": None,
        "paper": None,
    }
    linked = client.link()
    status = client.ok("get_status")
    assert status["broker_linked"] is True and status["paper"] is True
    assert status["account_number"] == linked["account_number"]
    assert client.account["secret_key"] not in str(status)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"trading_enabled": False, "reason": "market halt"}, "market halt"),
        ({"trading_enabled": True, "drawdown_recovery_mode": True}, "drawdown recovery"),
        ({"trading_enabled": "no"}, "trading disabled"),  # a wrong type fails closed
    ],
)
def test_a_kill_switch_that_stops_trading_is_shown_with_its_reason(
    new_client: Any, kill_switch: Any, document: dict[str, Any], message: str
) -> None:
    client: Client = new_client("1000")
    kill_switch.set(document)
    status = client.ok("get_status", {})
    assert status["trading_enabled"] is False and message in status["trading_message"]


def test_status_needs_a_user_and_takes_no_fields(new_client: Any, stack: Stack) -> None:
    client: Client = new_client("1000")
    status, body = stack.call("get_status", {}, None)
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")
    assert client.error("get_status", {"uid": "someone-else"})[1] == "INVALID_ARGUMENT"
