"""The execution engine on in-memory adapters, and the pure execution rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes import InMemoryBroker
from rebalancer.domain.errors import ConcurrentExecution, NotFound
from rebalancer.domain.execution import (
    Leg,
    LegStatus,
    PlanStatus,
    backoff_seconds,
    broker_leg_status,
    can_move,
    client_order_id,
    limit_price,
    outcome,
    size_buys,
)
from rebalancer.domain.models import AssetInfo, OrderIntent, OrderResult, Side
from rebalancer.domain.risk import KillSwitch
from rebalancer.service.executor import LEASE_S, TASK_FUNCTION, execute_plan
from rebalancer.service.proposals import propose_plan
from rebalancer.service.stored_plans import cancel_plan, get_plan

from .test_services import UID, make

pytestmark = pytest.mark.unit


def proposed(cash: str = "1000") -> tuple[Any, Any, InMemoryBroker, str]:
    ports, store, broker = make(cash, SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    return ports, store, broker, plan_id


def leg(index: int, side: Side, qty: str, price: str, **kw: Any) -> Leg:
    fields = {"fractionable": True, "crypto": False, "drift_percent": D(0)} | kw
    return Leg(index, f"S{index}", side, D(qty), D(price), client_order_id=f"c{index}", **fields)


# --- the pure rules -------------------------------------------------------------------------


def test_client_order_ids_are_deterministic_and_within_48_characters() -> None:
    long_id = "x" * 60
    assert client_order_id("abc", 3) == "rb-abc-003" == client_order_id("abc", 3)
    assert len(client_order_id(long_id, 999)) <= 48


def test_plan_transitions() -> None:
    assert can_move(PlanStatus.PROPOSED, PlanStatus.EXECUTING)
    assert can_move(PlanStatus.EXECUTING, PlanStatus.QUEUED)
    assert not can_move(PlanStatus.COMPLETED_SUCCESS, PlanStatus.EXECUTING)
    assert not can_move(PlanStatus.CANCELLED, PlanStatus.QUEUED)


def test_broker_statuses_map_to_leg_statuses() -> None:
    assert broker_leg_status("filled", D(5), D(5)) is LegStatus.FILLED
    assert broker_leg_status("new", D(0), D(5)) is LegStatus.OPEN
    assert broker_leg_status("partially_filled", D(2), D(5)) is LegStatus.OPEN
    assert broker_leg_status("canceled", D(2), D(5)) is LegStatus.PARTIALLY_FILLED
    assert broker_leg_status("canceled", D(0), D(5)) is LegStatus.CANCELLED
    assert broker_leg_status("rejected", D(0), D(5)) is LegStatus.FAILED


def test_buys_scale_down_in_proportion_and_whole_shares_go_most_underweight_first() -> None:
    buys = [
        leg(0, Side.BUY, "10", "100"),  # $1,000, fractional
        leg(1, Side.BUY, "3", "300", fractionable=False, drift_percent=D(-2)),  # $900
        leg(2, Side.BUY, "3", "300", fractionable=False, drift_percent=D(-6)),  # $900
    ]
    assert [q for _, q in size_buys(buys, D(5000), D(0))] == [D(10), D(3), D(3)]
    sized = dict((lg.index, q) for lg, q in size_buys(buys, D(1400), D(0)))
    # Scale 1400/2800 = 0.5: 5 fractional shares ($500); whole 1.5 -> 1 each ($600); the
    # $300 left buys one more share of the most underweight (S2, -6 points).
    assert sized == {0: D(5), 1: D(1), 2: D(2)}
    assert sum((q * lg.price_usd for lg, q in size_buys(buys, D(1400), D(0))), D(0)) <= 1400
    assert [q for _, q in size_buys(buys, D(0), D(0))] == [D(0), D(0), D(0)]


def test_limit_prices_backoff_and_outcomes() -> None:
    assert limit_price(D("100"), Side.BUY, D(10)) == D("100.10")
    assert limit_price(D("100"), Side.SELL, D(10)) == D("99.90")
    assert limit_price(D("0.5"), Side.BUY, D(10)) == D("0.5005")
    # Issue 11, item 8: buys round up and sells down to the tick, so below about $5 the
    # buffer no longer rounds away (half-up gave $2.00 for both).
    assert limit_price(D("2.00"), Side.BUY, D(10)) == D("2.01")
    assert limit_price(D("2.00"), Side.SELL, D(10)) == D("1.99")
    assert limit_price(D("0.99995"), Side.BUY, D(0)) == D("1.00")  # crosses $1: cents
    assert backoff_seconds(1, None) == 0.25 and backoff_seconds(3, None) == 1.0
    assert backoff_seconds(10, None) == 8.0 and backoff_seconds(2, 1.5) == 1.5
    filled = replace(leg(0, Side.BUY, "1", "1"), status=LegStatus.FILLED)
    failed = replace(leg(1, Side.BUY, "1", "1"), status=LegStatus.FAILED)
    assert outcome([filled, filled]) is PlanStatus.COMPLETED_SUCCESS
    assert outcome([filled, failed]) is PlanStatus.COMPLETED_ADJUSTED
    assert outcome([failed]) is PlanStatus.FAILED


# --- the engine -----------------------------------------------------------------------------


def test_a_proposed_plan_executes_sells_first_and_records_every_leg() -> None:
    ports, store, broker, plan_id = proposed()
    result = execute_plan(UID, plan_id, ports)
    assert result.status is PlanStatus.COMPLETED_SUCCESS
    assert [o.side for o in broker.orders] == sorted(
        (o.side for o in broker.orders), key=lambda s: s is Side.BUY
    )
    record = store.history[UID][plan_id]
    assert record["status"] == "completed_success" and record["lease_holder"] is None
    assert [lg["client_order_id"] for lg in record["legs"]] == [
        o.client_order_id for o in broker.orders
    ]
    assert all(lg["status"] == "filled" and lg["order_id"] for lg in record["legs"])
    assert UID not in store.leases  # released
    # Running it again (a retried call, a task delivered twice) changes nothing.
    again = execute_plan(UID, plan_id, ports)
    assert again.status is PlanStatus.COMPLETED_SUCCESS and len(broker.orders) == len(
        record["legs"]
    )


def test_market_closed_queues_the_plan_once_and_the_task_runs_it_at_the_open() -> None:
    ports, store, broker, plan_id = proposed()
    broker.market_open = False
    first = execute_plan(UID, plan_id, ports)
    second = execute_plan(UID, plan_id, ports)
    assert first.status is second.status is PlanStatus.QUEUED and broker.orders == []
    ((task_id, (function, data, run_at)),) = ports.tasks.tasks.items()
    assert function == TASK_FUNCTION and data == {"uid": UID, "plan_id": plan_id}
    assert plan_id in task_id and run_at == broker.next_open + timedelta(minutes=5)
    broker.market_open = True
    assert execute_plan(UID, plan_id, ports).status is PlanStatus.COMPLETED_SUCCESS
    assert store.history[UID][plan_id]["legs"][0]["status"] == "filled"


def test_crypto_trades_while_the_market_is_closed() -> None:
    ports, store, broker = make("1000")
    broker.prices_usd["BTC/USD"] = D(50000)
    broker.assets["BTC/USD"] = AssetInfo("BTC/USD", True, True, "crypto")
    broker.market_open = False
    ports.users.targets[UID] = [
        replace(ports.users.targets[UID][0], symbol="BTC/USD", target_percent=D(100))
    ]
    plan_id = propose_plan(UID, ports).plan_id
    assert execute_plan(UID, plan_id, ports).status is PlanStatus.COMPLETED_SUCCESS
    assert broker.orders[0].time_in_force == "gtc"


def test_one_executor_per_user_and_a_crashed_one_does_not_block_forever() -> None:
    ports, store, broker, plan_id = proposed()
    store.start_execution(UID, plan_id, "someone-else", ports.clock.now(), LEASE_S)
    with pytest.raises(ConcurrentExecution):
        execute_plan(UID, plan_id, ports)
    assert broker.orders == []
    ports.clock.sleep(LEASE_S + 1)  # the other executor died: its lease expires
    assert execute_plan(UID, plan_id, ports).status is PlanStatus.COMPLETED_SUCCESS


class Crash(BaseException):
    """The process dying (not an exception any handler would catch)."""


def test_dying_between_submit_and_record_then_resuming_never_doubles_an_order() -> None:
    ports, store, broker, plan_id = proposed()
    real = broker.submit_order
    sent: list[OrderIntent] = []

    def submit_then_die(intent: OrderIntent) -> OrderResult:
        answer = real(intent)
        sent.append(intent)
        if len(sent) == 2:
            raise Crash  # the broker has the order; the record does not know its answer
        return answer

    broker.submit_order = submit_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        execute_plan(UID, plan_id, ports)
    record = store.history[UID][plan_id]
    assert record["status"] == "executing"
    assert any(lg["status"] == "submitting" for lg in record["legs"])  # intents recorded first
    broker.submit_order = real  # type: ignore[method-assign]
    ports.clock.sleep(LEASE_S + 1)
    result = execute_plan(UID, plan_id, ports)
    assert result.status is PlanStatus.COMPLETED_SUCCESS
    ids = [o.client_order_id for o in broker.orders]
    assert len(ids) == len(set(ids)) == len(result.legs)  # each leg placed exactly once
    assert all(lg["order_id"] for lg in store.history[UID][plan_id]["legs"])


def test_the_kill_switch_flipped_between_legs_stops_the_rest() -> None:
    ports, store, broker, plan_id = proposed()
    real = broker.submit_order

    def flip_after(intent: OrderIntent) -> OrderResult:
        answer = real(intent)
        store.kill_switch = KillSwitch(trading_enabled=False, reason="incident")
        return answer

    broker.submit_order = flip_after  # type: ignore[method-assign]
    result = execute_plan(UID, plan_id, ports)
    assert len(broker.orders) == 1
    refused = [lg for lg in result.legs if lg.status is LegStatus.REFUSED]
    assert len(refused) == len(result.legs) - 1 and all(
        "incident" in (lg.error or "") for lg in refused
    )
    assert result.status is PlanStatus.COMPLETED_ADJUSTED


def test_buys_are_sized_to_the_cash_the_sells_really_left() -> None:
    ports, store, broker, plan_id = proposed("0")
    real = broker.submit_order

    def sells_fail(intent: OrderIntent) -> OrderResult:
        if intent.side is Side.SELL:
            from rebalancer.domain.errors import BrokerRejected

            raise BrokerRejected("asset is halted", status=422, broker_code=40010001)
        return real(intent)

    broker.submit_order = sells_fail  # type: ignore[method-assign]
    result = execute_plan(UID, plan_id, ports)
    buys = [lg for lg in result.legs if lg.side is Side.BUY]
    assert buys and all(lg.status is LegStatus.SKIPPED for lg in buys)
    assert all(lg.error == "not enough cash after the sells" for lg in buys)
    assert result.status is PlanStatus.FAILED and broker.cash_usd >= 0


def test_cancel_and_get_only_the_owners_plans() -> None:
    ports, store, broker, plan_id = proposed()
    with pytest.raises(NotFound):
        get_plan("someone-else", plan_id, ports)
    with pytest.raises(NotFound):
        execute_plan("someone-else", plan_id, ports)
    cancelled = cancel_plan(UID, plan_id, ports)
    assert cancelled["status"] == "cancelled" and broker.orders == []
    assert execute_plan(UID, plan_id, ports).status is PlanStatus.CANCELLED
    assert broker.orders == []


@given(
    price=st.decimals(D("0.0002"), D("100000"), places=4),
    buffer=st.integers(1, 500),
    side=st.sampled_from(Side),
)
def test_a_limit_keeps_its_buffer_on_the_brokers_tick(price: D, buffer: int, side: Side) -> None:
    limit = limit_price(price, side, D(buffer))
    raw = price * (1 + (1 if side is Side.BUY else -1) * D(buffer) / 10_000)
    tick = D("0.01") if limit >= 1 else D("0.0001")
    assert limit == limit.quantize(tick)  # on the tick the broker accepts
    if side is Side.BUY:
        assert raw <= limit < raw + tick and limit > price
    else:
        assert raw - tick < limit <= raw and limit < price
