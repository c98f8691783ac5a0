"""The Store adapter (rebalancer.adapters.firestore_store) against the Firestore emulator."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from rebalancer.adapters.firestore_store import FirestoreStore
from rebalancer.domain.drift import DriftMethod
from rebalancer.domain.drift_log import DriftLogEntry
from rebalancer.domain.models import OrderIntent, OrderResult, Side, Target
from rebalancer.domain.plan_record import NewPlan
from rebalancer.domain.trade_record import ManualTrade
from rebalancer.service.ports import BrokerLink
from tests.contract.test_store_contract import ACCOUNT, a_plan

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 15, tzinfo=UTC)


@pytest.fixture
def store(db: Any) -> FirestoreStore:
    return FirestoreStore(db)


@pytest.fixture
def uid() -> str:
    return "store-" + secrets.token_hex(6)


def test_replace_targets_is_a_full_replacement_that_keeps_created_at(
    store: FirestoreStore, uid: str
) -> None:
    store.replace_targets(uid, [Target("SPY", D(60)), Target("BND", D(40))], T0)
    later = T0 + timedelta(days=1)
    store.replace_targets(
        uid, [Target("SPY", D(70), D(3)), Target("ETH/USD", D(30), enabled=False)], later
    )
    targets = store.get_targets(uid)
    assert targets == [Target("SPY", D(70), D(3)), Target("ETH/USD", D(30), None, False)]
    spy = store.client.document(f"userSettings/{uid}/allocation/SPY").get().to_dict()
    assert spy["created_at"] == T0 and spy["updated_at"] == later


def test_settings_take_defaults_for_missing_or_garbage_fields(
    store: FirestoreStore, uid: str
) -> None:
    assert store.get_settings(uid).threshold_percent == 5
    store.client.document(f"userSettings/{uid}").set(
        {
            "threshold_percent": 3,
            "critical_percent": "NaN",
            "drift_method": "relative",
            "min_trade_usd": True,
        }
    )
    settings = store.get_settings(uid)
    assert settings.threshold_percent == 3 and settings.critical_percent == 10
    assert settings.drift_method is DriftMethod.RELATIVE and settings.min_trade_usd == 10


@pytest.mark.parametrize(
    ("doc", "allows"),
    [
        (None, True),
        ({"trading_enabled": True}, True),
        ({"trading_enabled": False}, False),
        ({"trading_enabled": "true"}, False),
        ({"trading_enabled": True, "drawdown_recovery_mode": True}, False),
        ({"trading_enabled": True, "drawdown_recovery_mode": None}, False),
        ({}, True),
    ],
)
def test_kill_switch_reads_fail_closed(
    store: FirestoreStore, kill_switch: Any, doc: dict[str, Any] | None, allows: bool
) -> None:
    if doc is not None:
        kill_switch.set(doc)
    assert store.read_kill_switch().allows_orders is allows


def test_broker_links_and_the_batched_check_record(store: FirestoreStore, uid: str) -> None:
    assert store.get_broker_link(uid) is None and store.delete_broker_link(uid) is False
    link = BrokerLink("sealed", True, "PA1", "api_key")
    store.save_broker_link(uid, link, T0)
    assert store.get_broker_link(uid) == link
    assert store.delete_broker_link(uid) is True and store.get_broker_link(uid) is None
    plan = a_plan()
    log = DriftLogEntry("log1", plan.drift_before, T0, "manual", False, "plan1", None)
    store.record_check(uid, log, NewPlan(plan, "Drift trigger", T0, ACCOUNT))
    store.record_check(uid, replace(log, log_id="log2", plan_id=None), None)
    user = store.client.document(f"users/{uid}")
    assert {d.id for d in user.collection("driftLogs").get()} == {"log1", "log2"}
    assert [d.id for d in user.collection("rebalanceHistory").get()] == ["plan1"]
    assert len(store.new_id()) == 20 and store.new_id() != store.new_id()


def test_link_attempts_are_counted_in_a_transaction_per_user(
    store: FirestoreStore, uid: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    hour = timedelta(hours=1)
    assert store.count_attempt(uid, "link_broker", T0, 5, hour) is None
    with ThreadPoolExecutor(4) as pool:  # concurrent attempts: each is counted exactly once
        answers = list(
            pool.map(lambda k: store.count_attempt(uid, "link_broker", T0, 5, hour), range(4))
        )
    assert answers == [None] * 4  # 1 + 4 = 5 counted, none lost to a race
    assert store.count_attempt(uid, "link_broker", T0, 5, hour) == T0 + hour
    stored = store.client.document(f"users/{uid}/limits/link_broker").get().to_dict()
    assert stored["attempts"] == [T0] * 5
    assert store.count_attempt(uid, "link_broker", T0 + hour, 5, hour) is None
    assert store.count_attempt(uid + "-other", "link_broker", T0, 5, hour) is None


def test_a_trade_record_holding_an_order_is_never_replaced(store: FirestoreStore, uid: str) -> None:
    intent = OrderIntent("SPY", Side.BUY, qty=D(1))
    placed = OrderResult("SPY", Side.BUY, D(1), None, "accepted", order_id="o-1")
    refused = OrderResult("SPY", Side.BUY, D(1), None, "refused", error="off")
    for result in (refused, placed, refused):
        store.save_trade(uid, "trade-k", ManualTrade(intent, result, T0))
    stored = store.get_entry(uid, "trade-k") or {}
    assert stored["status"] == "completed_success"
    assert [o["order_id"] for o in stored["orders"]] == ["o-1"]
