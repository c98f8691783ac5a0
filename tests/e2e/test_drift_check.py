"""check_rebalance_drift end to end: HTTP callable, Auth emulator token, Firestore, paper broker."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.seed import DEMO_TARGETS

from .conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.dates]


def broker_orders(client: Client) -> list[dict[str, Any]]:
    """Every order of the client's account, oldest first, read from the broker itself."""
    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import GetOrdersRequest

    trading = TradingClient(
        client.account["api_key_id"], client.account["secret_key"], url_override=client.paper.url
    )
    orders = trading.get_orders(GetOrdersRequest(status="all", direction="asc"))
    return [o.model_dump(mode="json") for o in orders]


def test_happy_path_dry_run_then_rebalance(demo_client: Client, db: Any) -> None:
    dry = demo_client.ok("check_rebalance_drift", {"dry_run": True})
    assert dry["needs_rebalance"] is True
    assert dry["trades_executed"] == [] and demo_client.orders_placed() == 0
    spy = dry["drift_analysis"][0]
    assert spy["symbol"] == "SPY" and spy["action"] == "sell" and spy["critical"] is True
    assert set(spy) >= {
        "symbol",
        "target_percent",
        "actual_percent",
        "drift_percent",
        "needs_rebalance",
        "action",
    }
    assert dry["portfolio_value"] == pytest.approx(99900.0)

    done = demo_client.ok("check_rebalance_drift", {})
    assert done["message"] == "Rebalancing executed" and done["strategy"] == "threshold"
    placed = done["trades_executed"]
    # The default strategy trades only what is outside its band: GLD (-0.49) stays.
    assert [(t["side"], t["symbol"]) for t in placed] == [
        ("sell", "SPY"),
        ("buy", "QQQ"),
        ("buy", "TLT"),
    ]
    at_broker = broker_orders(demo_client)
    assert [o["id"] for o in at_broker] == [t["order_id"] for t in placed]
    assert [o["client_order_id"] for o in at_broker] == [t["client_order_id"] for t in placed]
    assert {o["status"] for o in at_broker} == {"filled"}

    uid = demo_client.user.uid
    log = (
        db.collection("users")
        .document(uid)
        .collection("driftLogs")
        .document(done["drift_log_id"])
        .get()
        .to_dict()
    )
    assert log["plan_id"] == done["plan_id"] and log["needs_rebalance"] is True
    assert [a["symbol"] for a in log["assets"]] == ["SPY", "QQQ", "TLT", "GLD"]
    history = (
        db.collection("users")
        .document(uid)
        .collection("rebalanceHistory")
        .document(done["plan_id"])
        .get()
        .to_dict()
    )
    assert history["status"] == "completed_success" and history["reason"] == "Drift trigger"
    assert [o["order_id"] for o in history["orders"]] == [o["id"] for o in at_broker]
    assert history["drift_log_id"] == done["drift_log_id"]

    after = demo_client.ok("check_rebalance_drift", {"dry_run": True})
    assert after["needs_rebalance"] is False
    # Back to target, less the 25 bp cash buffer.
    assert all(abs(row["drift_percent"]) < 0.5 for row in after["drift_analysis"])
    logs = db.collection("users").document(uid).collection("driftLogs").get()
    assert len(logs) == 3


@pytest.mark.parametrize(
    ("switch", "reason"),
    [
        ({"trading_enabled": False, "reason": "maintenance"}, "trading disabled"),
        ({"trading_enabled": True, "drawdown_recovery_mode": True}, "drawdown recovery"),
        ({"trading_enabled": "yes"}, "trading disabled"),  # not a real boolean: fail closed
    ],
)
def test_kill_switch_refuses_every_order(
    demo_client: Client, kill_switch: Any, db: Any, switch: dict[str, Any], reason: str
) -> None:
    kill_switch.set(switch)
    result = demo_client.ok("check_rebalance_drift", {})
    assert demo_client.orders_placed() == 0
    assert result["trades_executed"] == []
    refused = result["trades_not_executed"]
    assert refused and all(o["status"] == "refused" and reason in o["error"] for o in refused)
    history = (
        db.collection("users")
        .document(demo_client.user.uid)
        .collection("rebalanceHistory")
        .document(result["plan_id"])
        .get()
        .to_dict()
    )
    assert history["status"] == "failed"
    assert all(reason in o["error"] for o in history["orders"])


def test_targets_not_summing_to_100_are_refused_before_the_broker(
    demo_client: Client, db: Any
) -> None:
    # A client may write allocation documents itself (the rules allow valid ones), so the
    # stored targets can stop summing to 100.
    allocation = (
        db.collection("userSettings").document(demo_client.user.uid).collection("allocation")
    )
    allocation.document("GLD").delete()
    status, code, message = demo_client.error("check_rebalance_drift", {})
    assert (status, code) == (400, "FAILED_PRECONDITION") and "sum to 90" in message
    assert demo_client.orders_placed() == 0


def test_no_targets_and_no_linked_account(new_client: Any) -> None:
    client: Client = new_client()
    status, code, message = client.error("check_rebalance_drift", {})
    assert code == "FAILED_PRECONDITION" and "link_broker" in message
    client.link()
    status, code, message = client.error("check_rebalance_drift", {})
    assert code == "FAILED_PRECONDITION" and "set_targets" in message
    client.ok("set_targets", {"allocations": DEMO_TARGETS})
    client.ok("unlink_broker", {})
    status, code, message = client.error("check_rebalance_drift", {"dry_run": True})
    assert code == "FAILED_PRECONDITION" and "link_broker" in message
    assert client.orders_placed() == 0


def test_broker_500_is_unavailable_and_nothing_is_half_written(
    demo_client: Client, db: Any
) -> None:
    demo_client.paper.control(
        "POST",
        "/_paper/faults",
        {"route": "GET /v2/account", "kind": "http_500", "account_id": demo_client.account["id"]},
    )
    status, code, _ = demo_client.error("check_rebalance_drift", {})
    assert code == "UNAVAILABLE"
    uid = demo_client.user.uid
    assert db.collection("users").document(uid).collection("driftLogs").get() == []
    assert db.collection("users").document(uid).collection("rebalanceHistory").get() == []
    assert demo_client.orders_placed() == 0


def test_cash_only_account_buys_every_target(new_client: Any) -> None:
    client: Client = new_client("50000")
    client.link()
    client.ok("set_targets", {"allocations": DEMO_TARGETS})
    result = client.ok("check_rebalance_drift", {})
    assert [t["side"] for t in result["trades_executed"]] == ["buy"] * 4
    assert client.ok("check_rebalance_drift", {"dry_run": True})["needs_rebalance"] is False
