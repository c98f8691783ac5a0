"""One contract for every store: the in-memory fake and Firestore (on the emulator).

Each test runs against both, so the fake the unit tests trust cannot drift from the
adapter that runs deployed: the same typed records come back, the same documents are
written, the same lease decisions are taken.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from fakes import InMemoryStore
from rebalancer.domain.drift_log import DriftAlert, DriftLogEntry, FanOutSummary, NightRecord
from rebalancer.domain.errors import ConcurrentExecution, NotFound, PreconditionFailed
from rebalancer.domain.execution import LegStatus, PlanStatus, client_order_id
from rebalancer.domain.models import OrderIntent, OrderResult, Side, Target
from rebalancer.domain.plan import Plan
from rebalancer.domain.plan_record import AccountRef, LeaseLost, NewPlan, PlanChanges
from rebalancer.domain.planning import build_plan
from rebalancer.domain.schedule import Decision
from rebalancer.domain.settings import Strategy
from rebalancer.domain.trade_record import ManualTrade
from rebalancer.service.ports import BrokerLink, Store
from tests.unit.test_strategies import make

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 15, tzinfo=UTC)
ACCOUNT = AccountRef("PA0000000001", True)
LEASE_S = 120.0


@pytest.fixture(params=["memory", "firestore"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    from rebalancer.adapters.firestore_store import FirestoreStore

    yield FirestoreStore(request.getfixturevalue("db"))


@pytest.fixture
def uid() -> str:
    return "contract-" + secrets.token_hex(6)


def a_plan() -> Plan:
    """A two-trade plan (one sell, one buy) from the domain planner."""
    inp = make(held={"A": 60, "B": 40}, targets={"A": 50, "B": 50})
    plan = build_plan(inp, Strategy.FULL)
    assert [t.side for t in plan.trades] == [Side.SELL, Side.BUY]
    return plan


def proposed(store: Store, uid: str, plan_id: str = "p1", at: datetime = T0) -> str:
    store.add_plan(uid, plan_id, NewPlan(a_plan(), "Manual", at, ACCOUNT, D("10.5")))
    return plan_id


# --- user documents -------------------------------------------------------------------


def test_targets_replace_the_whole_allocation_and_read_back_largest_first(
    store: Store, uid: str
) -> None:
    store.replace_targets(uid, [Target("SPY", D(60)), Target("BND", D(40))], T0)
    store.replace_targets(uid, [Target("BND", D(30)), Target("SPY", D(70), D(3))], T0)
    assert store.get_targets(uid) == [Target("SPY", D(70), D(3)), Target("BND", D(30))]


def test_settings_default_then_merge(store: Store, uid: str) -> None:
    assert store.get_settings(uid).threshold_percent == 5
    store.update_settings(uid, {"threshold_percent": 3}, T0)
    store.update_settings(uid, {"auto_execute": True}, T0)
    settings = store.get_settings(uid)
    assert settings.threshold_percent == 3 and settings.auto_execute is True


def test_broker_link_round_trip_and_delete(store: Store, uid: str) -> None:
    assert store.get_broker_link(uid) is None and store.delete_broker_link(uid) is False
    link = BrokerLink("sealed", True, "PA1", "api_key")
    store.save_broker_link(uid, link, T0)
    assert store.get_broker_link(uid) == link
    assert store.delete_broker_link(uid) is True and store.get_broker_link(uid) is None


def test_attempts_are_counted_up_to_the_limit_in_a_rolling_window(store: Store, uid: str) -> None:
    window = timedelta(hours=1)
    for minute in range(3):
        assert store.count_attempt(uid, "x", T0 + timedelta(minutes=minute), 3, window) is None
    assert store.count_attempt(uid, "x", T0 + timedelta(minutes=5), 3, window) == T0 + window
    assert store.count_attempt(uid, "x", T0 + window, 3, window) is None


# --- plans ----------------------------------------------------------------------------


def test_a_proposed_plan_reads_back_typed_with_its_pending_legs(store: Store, uid: str) -> None:
    plan_id = proposed(store, uid)
    record = store.get_plan(uid, plan_id)
    assert record is not None
    assert record.status is PlanStatus.PROPOSED and record.account == ACCOUNT
    assert record.strategy is Strategy.FULL and record.reason == "Manual"
    assert record.cash_to_invest_usd == D("10.5") and record.created_at == T0
    assert [(leg.side, leg.status) for leg in record.legs] == [
        (Side.SELL, LegStatus.PENDING),
        (Side.BUY, LegStatus.PENDING),
    ]
    assert [leg.client_order_id for leg in record.legs] == [
        client_order_id(plan_id, 0),
        client_order_id(plan_id, 1),
    ]
    assert not record.sent and record.lease is None
    document = store.get_entry(uid, plan_id)
    assert document is not None and document["status"] == "proposed"
    assert document["totals"]["orders"] == 2 and document["orders"] == []
    assert store.get_plan(uid, "absent") is None and store.get_entry(uid, "absent") is None
    assert store.get_trade(uid, plan_id) is None  # a plan is not a manual trade


def test_a_drift_check_writes_its_log_and_plan_together(store: Store, uid: str) -> None:
    plan = a_plan()
    log = DriftLogEntry("log1", plan.drift_before, T0, "manual", False, "p9", None)
    store.record_check(uid, log, NewPlan(plan, "Drift trigger", T0, ACCOUNT, drift_log_id="log1"))
    record = store.get_plan(uid, "p9")
    assert record is not None and record.reason == "Drift trigger"
    assert (store.get_entry(uid, "p9") or {})["drift_log_id"] == "log1"


def test_a_manual_trade_is_kept_once_an_order_is_recorded(store: Store, uid: str) -> None:
    intent = OrderIntent("SPY", Side.BUY, qty=D("1.5"))
    placed = OrderResult("SPY", Side.BUY, D("1.5"), None, "accepted", order_id="o1")
    store.save_trade(uid, "t1", ManualTrade(intent, placed, T0, "key"))
    refused = OrderResult("SPY", Side.BUY, D("1.5"), None, "refused", error="late")
    store.save_trade(uid, "t1", ManualTrade(intent, refused, T0, "key"))
    trade = store.get_trade(uid, "t1")
    assert trade is not None and trade.intent == intent
    assert trade.placed_order is not None and trade.placed_order.order_id == "o1"
    assert store.get_plan(uid, "t1") is None  # a trade is not a plan


# --- the lease ------------------------------------------------------------------------


def test_one_executor_at_a_time_and_fenced_writes(store: Store, uid: str) -> None:
    plan_id = proposed(store, uid)
    record = store.start_execution(uid, plan_id, "x-1", T0, LEASE_S)
    assert record.status is PlanStatus.EXECUTING
    assert record.lease is not None and record.lease.holder == "x-1"
    with pytest.raises(ConcurrentExecution):
        store.start_execution(uid, plan_id, "x-2", T0 + timedelta(seconds=5), LEASE_S)
    with pytest.raises(ConcurrentExecution):
        store.save_execution(uid, plan_id, "x-2", PlanChanges(), T0, LEASE_S)
    legs = tuple(replace(leg, status=LegStatus.FILLED) for leg in record.legs)
    done = PlanChanges(status=PlanStatus.COMPLETED_SUCCESS, legs=legs, record_orders=True)
    store.save_execution(uid, plan_id, "x-1", done, T0, LEASE_S, release=True)
    stored = store.get_plan(uid, plan_id)
    assert stored is not None and stored.status is PlanStatus.COMPLETED_SUCCESS
    assert stored.lease is None and all(leg.status is LegStatus.FILLED for leg in stored.legs)
    assert [o["status"] for o in (store.get_entry(uid, plan_id) or {})["orders"]] == [
        "filled",
        "filled",
    ]
    # Finished: returned untouched, no lease is taken.
    again = store.start_execution(uid, plan_id, "x-3", T0, LEASE_S)
    assert again.status is PlanStatus.COMPLETED_SUCCESS


def test_an_expired_lease_is_taken_over_and_the_old_executor_is_fenced_out(
    store: Store, uid: str
) -> None:
    plan_id = proposed(store, uid)
    store.start_execution(uid, plan_id, "x-1", T0, LEASE_S)
    later = T0 + timedelta(seconds=LEASE_S + 1)
    assert store.start_execution(uid, plan_id, "x-2", later, LEASE_S).lease is not None
    with pytest.raises(ConcurrentExecution):
        store.save_execution(uid, plan_id, "x-1", PlanChanges(), later, LEASE_S)
    lost = LeaseLost("x-1", later, "lost")
    store.annotate_plan(uid, plan_id, PlanChanges(lease_lost=lost))
    assert (store.get_entry(uid, plan_id) or {})["lease_lost"]["executor"] == "x-1"


def test_a_run_of_another_plan_supersedes_a_queued_one_and_waits_for_an_executing_one(
    store: Store, uid: str
) -> None:
    first, second, third = (proposed(store, uid, p) for p in ("p1", "p2", "p3"))
    queued = store.queue_plan(uid, first, T0, PlanChanges(queued_task="task-1"))
    assert queued.status is PlanStatus.QUEUED
    assert (store.get_entry(uid, first) or {})["queued_task"] == "task-1"
    store.start_execution(uid, second, "x-1", T0, LEASE_S)
    superseded = store.get_plan(uid, first)
    assert superseded is not None and superseded.status is PlanStatus.CANCELLED
    assert (store.get_entry(uid, first) or {})["superseded_by"] == second
    with pytest.raises(ConcurrentExecution):
        store.start_execution(uid, third, "x-2", T0, LEASE_S)
    with pytest.raises(ConcurrentExecution):
        store.queue_plan(uid, third, T0, PlanChanges())


def test_cancel_of_an_unsent_plan_and_of_a_finished_one(store: Store, uid: str) -> None:
    plan_id = proposed(store, uid)
    cancelled = store.cancel_unsent(uid, plan_id, T0)
    assert cancelled is not None and cancelled.status is PlanStatus.CANCELLED
    assert store.start_cancel(uid, plan_id, "x-1", T0, LEASE_S) is False
    running = proposed(store, uid, "p2")
    store.start_execution(uid, running, "x-1", T0, LEASE_S)
    with pytest.raises(ConcurrentExecution):
        store.cancel_unsent(uid, running, T0)
    with pytest.raises(ConcurrentExecution):
        store.start_cancel(uid, running, "x-2", T0, LEASE_S)


def test_lease_decisions_on_what_is_not_a_plan(store: Store, uid: str) -> None:
    with pytest.raises(NotFound):
        store.start_execution(uid, "absent", "x-1", T0, LEASE_S)
    with pytest.raises(NotFound):
        store.cancel_unsent(uid, "absent", T0)
    intent = OrderIntent("SPY", Side.BUY, qty=D(1))
    placed = OrderResult("SPY", Side.BUY, D(1), None, "accepted", order_id="o1")
    store.save_trade(uid, "t1", ManualTrade(intent, placed, T0))
    with pytest.raises(PreconditionFailed):
        store.start_execution(uid, "t1", "x-1", T0, LEASE_S)


# --- the nightly run ------------------------------------------------------------------


def test_a_night_writes_its_plan_alert_and_last_run_and_users_are_paged(
    store: Store, uid: str, request: pytest.FixtureRequest
) -> None:
    store.update_settings(uid, {"rebalancing_enabled": True}, T0)
    # Off again afterwards: a nightly fan-out of another test must not see this user.
    request.addfinalizer(lambda: store.update_settings(uid, {"rebalancing_enabled": False}, T0))
    pages = list(store.nightly_users(500))
    assert any(uid in page for page in pages)
    plan = a_plan()
    night = date(2026, 11, 20)
    decision = Decision(True, "Drift trigger")
    log = DriftLogEntry("nightly-20261120", plan.drift_before, T0, "nightly", False, None, None)
    log = replace(log, decision=decision, plan_id="nightly20261120")
    new = NewPlan(plan, decision.reason, T0, ACCOUNT, drift_log_id=log.log_id)
    alert = DriftAlert(night, "nightly20261120", decision.reason, T0, D(10), 2, D(0))
    store.record_night(uid, NightRecord(night, log, "nightly20261120", new, alert, night))
    record = store.get_plan(uid, "nightly20261120")
    assert record is not None and record.status is PlanStatus.PROPOSED
    assert store.get_settings(uid).last_auto_run_on == night
    store.record_fan_out(night, FanOutSummary(1, 1, 0, 0.01, T0))


# --- the kill-switch --------------------------------------------------------------------


def test_the_kill_switch_records_who_turned_trading_off_and_when(
    store: Store, request: pytest.FixtureRequest
) -> None:
    if not isinstance(store, InMemoryStore):
        request.getfixturevalue("kill_switch")  # the shared document, removed afterwards
    assert store.read_kill_switch().allows_orders
    store.set_trading(False, "broker incident", "ops", T0)
    switch = store.read_kill_switch()
    assert not switch.allows_orders and switch.refusal is not None
    assert (switch.reason, switch.updated_by, switch.updated_at) == ("broker incident", "ops", T0)
    store.set_trading(True, "resolved", "ops", T0 + timedelta(minutes=5))
    assert store.read_kill_switch().allows_orders
