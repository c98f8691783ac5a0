"""The money path under the sequences real users and infrastructure produce (issue 10).

Each test is one scenario on the in-memory adapters; the same scenarios run end to end on
the paper broker in tests/e2e/test_money_path.py, and at random in
tests/unit/test_execution_machine.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from typing import Any

import pytest

from fakes import InMemoryBroker
from rebalancer.domain.errors import (
    BrokerUnavailable,
    ConcurrentExecution,
    PreconditionFailed,
)
from rebalancer.domain.execution import LegStatus, PlanStatus
from rebalancer.domain.models import OrderIntent, OrderResult, Side
from rebalancer.domain.risk import KillSwitch
from rebalancer.service.drift_check import check_drift
from rebalancer.service.executor import (
    CALLABLE_BUDGET_S,
    FRESH_S,
    LEASE_S,
    TASK_FUNCTION,
    execute_plan,
)
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.proposals import propose_plan
from rebalancer.service.stored_plans import cancel_plan, run_plan_task

from .test_services import UID, make

pytestmark = pytest.mark.unit


@dataclass
class RestingBroker(InMemoryBroker):
    """Orders rest open until `fill_all` (or a cancel); nothing fills by itself."""

    resting: dict[str, OrderIntent] = field(default_factory=dict)
    cancels: int = 0

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Accept the order and leave it open."""
        self._maybe_fail()
        if intent.client_order_id in self.placed:
            raise AssertionError(f"{intent.client_order_id} sent twice")
        self.orders.append(intent)
        result = OrderResult(
            symbol=intent.symbol,
            side=intent.side,
            qty=intent.qty,
            notional_usd=None,
            status="new",
            order_id=f"order-{len(self.orders)}",
            client_order_id=intent.client_order_id,
        )
        self.placed[intent.client_order_id or ""] = result
        self.resting[result.order_id or ""] = intent
        return result

    def fill_all(self) -> None:
        """Fill every resting order at its price."""
        for order_id, intent in list(self.resting.items()):
            qty = intent.qty or D(0)
            sign = 1 if intent.side is Side.BUY else -1
            self.qty[intent.symbol] = self.qty.get(intent.symbol, D(0)) + sign * qty
            self.cash_usd -= sign * qty * self.prices_usd[intent.symbol]
            self._set(order_id, status="filled", filled_qty=qty)
        self.resting.clear()

    def cancel_order(self, order_id: str) -> None:
        """Cancel a resting order."""
        self.cancels += 1
        if self.resting.pop(order_id, None) is not None:
            self._set(order_id, status="canceled")

    def _set(self, order_id: str, **changes: Any) -> None:
        for key, order in self.placed.items():
            if order.order_id == order_id:
                self.placed[key] = replace(order, **changes)


def resting(cash: str = "1000") -> tuple[Any, Any, RestingBroker]:
    ports, store, plain = make(cash, SPY="100", QQQ="50", TLT="100", GLD="40")
    broker = RestingBroker(plain.cash_usd, plain.prices_usd, dict(plain.qty), plain.assets)
    ports.connector.brokers["key"] = broker
    return ports, store, broker


def test_two_checks_while_the_market_is_closed_trade_once_at_the_open() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    broker.market_open = False
    first = check_drift(UID, ports, dry_run=False)
    second = check_drift(UID, ports, dry_run=False)
    assert first.plan_id and second.plan_id and broker.orders == []
    older = store.history[UID][first.plan_id]
    assert older["status"] == "cancelled" and older["superseded_by"] == second.plan_id
    broker.market_open = True
    ports.clock.sleep(FRESH_S + 1)  # the open: both tasks arrive
    for plan_id in (first.plan_id, second.plan_id):
        run_plan_task(UID, plan_id, ports)
    legs = store.history[UID][second.plan_id]["legs"]
    assert store.history[UID][second.plan_id]["status"] == "completed_success"
    assert len(broker.orders) == len(legs)  # one plan's orders, not two
    assert store.history[UID][first.plan_id]["status"] == "cancelled"


def test_a_proposal_executed_after_another_plan_ran_is_planned_again() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    stale = propose_plan(UID, ports).plan_id
    fresh = propose_plan(UID, ports).plan_id
    assert execute_plan(UID, fresh, ports).status is PlanStatus.COMPLETED_SUCCESS
    placed = len(broker.orders)
    result = execute_plan(UID, stale, ports)  # the account traded since it was made
    assert result.status is PlanStatus.CANCELLED and len(broker.orders) == placed
    assert "within its bands" in store.history[UID][stale]["cancel_reason"]


def test_a_plan_for_another_account_is_refused_after_a_relink() -> None:
    ports, store, first = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    second = InMemoryBroker(D(100000), dict(first.prices_usd), account_number="PA0000000002")
    ports.connector.brokers["key2"] = second
    link_broker(UID, BrokerCredentials("key2", "secret"), ports)
    with pytest.raises(PreconditionFailed, match="PA0000000001"):
        execute_plan(UID, plan_id, ports)
    assert second.orders == [] and first.orders == []
    assert store.history[UID][plan_id]["status"] == "failed"
    assert "lease_lost" not in store.history[UID][plan_id]  # it ended, it lost nothing
    assert UID not in store.leases  # nothing left live


def test_sells_are_cut_to_what_is_held_when_sent() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    spy = next(t for t in store.history[UID][plan_id]["trades"] if t["symbol"] == "SPY")
    broker.qty["SPY"] = D(1)  # sold elsewhere in between, within the freshness window
    result = execute_plan(UID, plan_id, ports)
    sold = [o for o in broker.orders if o.symbol == "SPY" and o.side is Side.SELL]
    assert sum((o.qty or D(0) for o in sold), D(0)) == 1 < D(spy["qty"])  # cut, not refused
    assert broker.qty["SPY"] >= 0 and result.status.finished


def test_a_stale_plan_is_planned_again_from_the_holdings_of_now() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    planned = {t["symbol"]: t["qty"] for t in store.history[UID][plan_id]["trades"]}
    broker.qty["SPY"] = D(110)
    ports.clock.sleep(FRESH_S + 1)
    execute_plan(UID, plan_id, ports)
    record = store.history[UID][plan_id]
    sent = {o.symbol: str(o.qty) for o in broker.orders}
    assert record["replans"] == 1 and sent["SPY"] != planned["SPY"]
    assert record["legs"][0]["client_order_id"].endswith("-100")


def test_an_executor_that_lost_its_lease_stops_before_its_next_send() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    real = broker.submit_order
    took_over: list[Any] = []

    def slow_first_send(intent: OrderIntent) -> OrderResult:
        answer = real(intent)
        if not took_over:
            ports.clock.sleep(LEASE_S + 1)  # this executor stalls past its lease...
            took_over.append(execute_plan(UID, plan_id, ports))  # ...and a resume takes over
        return answer

    broker.submit_order = slow_first_send  # type: ignore[method-assign]
    with pytest.raises(ConcurrentExecution, match="lost its lease"):
        execute_plan(UID, plan_id, ports)
    ids = [o.client_order_id for o in broker.orders]
    assert len(ids) == len(set(ids))  # the stalled executor sent nothing more
    record = store.history[UID][plan_id]
    assert record["status"] == "completed_success" and "lease_lost" in record
    assert took_over[0].status is PlanStatus.COMPLETED_SUCCESS


def test_another_plan_cannot_start_while_one_executes() -> None:
    ports, store, broker = resting()
    first = propose_plan(UID, ports).plan_id
    second = propose_plan(UID, ports).plan_id
    ports.users.update_settings(UID, {"fill_wait_seconds": 5}, ports.clock.now())
    store.start_execution(UID, first, "running-elsewhere", ports.clock.now(), LEASE_S)
    with pytest.raises(ConcurrentExecution, match=first):
        execute_plan(UID, second, ports)
    ports.clock.sleep(LEASE_S + 1)  # even after the lease expires: its orders may be out
    with pytest.raises(ConcurrentExecution, match=first):
        execute_plan(UID, second, ports)
    assert broker.orders == []


def test_a_run_out_of_budget_hands_off_to_a_task_that_finishes_it() -> None:
    ports, store, broker = resting()
    ports.users.update_settings(UID, {"fill_wait_seconds": 300}, ports.clock.now())
    plan_id = propose_plan(UID, ports).plan_id
    started = ports.clock.now()
    result = execute_plan(UID, plan_id, ports)
    assert result.status is PlanStatus.EXECUTING
    assert (ports.clock.now() - started).total_seconds() <= CALLABLE_BUDGET_S
    resumes = [t for t in ports.tasks.tasks if t.startswith(f"resume-{plan_id}")]
    watches = [t for t in ports.tasks.tasks if t.startswith(f"watch-{plan_id}")]
    assert resumes and watches
    assert all(ports.tasks.tasks[t][0] == TASK_FUNCTION for t in resumes)
    assert UID in store.leases and store.leases[UID]["holder"] is None  # still live
    sells = len(broker.orders)
    broker.fill_all()
    final = run_plan_task(UID, plan_id, ports)
    assert final is not None and final.status.finished
    assert store.history[UID][plan_id]["status"] in {"completed_success", "completed_adjusted"}
    assert len({o.client_order_id for o in broker.orders}) == len(broker.orders) >= sells


def test_unfilled_orders_are_cancelled_when_the_task_ends_the_run() -> None:
    ports, store, broker = resting()
    ports.users.update_settings(UID, {"fill_wait_seconds": 2}, ports.clock.now())
    plan_id = propose_plan(UID, ports).plan_id
    result = execute_plan(UID, plan_id, ports)
    assert result.status is PlanStatus.COMPLETED_ADJUSTED or result.status is PlanStatus.FAILED
    assert broker.resting == {} and broker.cancels >= 1
    assert all(lg.status is not LegStatus.OPEN for lg in result.legs)


def test_a_task_never_runs_a_proposal_awaiting_review() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    assert run_plan_task(UID, plan_id, ports) is None
    assert run_plan_task("someone-else", plan_id, ports) is None
    assert run_plan_task(UID, "no-such-plan", ports) is None
    assert broker.orders == [] and store.history[UID][plan_id]["status"] == "proposed"


def test_cancel_looks_legs_up_and_never_records_a_fill_as_cancelled() -> None:
    ports, store, broker = resting()
    ports.users.update_settings(
        UID, {"fill_wait_seconds": 1, "unfilled_orders": "keep"}, ports.clock.now()
    )
    plan_id = propose_plan(UID, ports).plan_id
    execute_plan(UID, plan_id, ports)  # sells rest open, kept
    first_order = broker.orders[0]
    order_id = broker.placed[first_order.client_order_id or ""].order_id or ""
    broker.resting.pop(order_id)
    broker._set(order_id, status="filled", filled_qty=first_order.qty)  # filled meanwhile
    cancelled = cancel_plan(UID, plan_id, ports)
    legs = {lg["client_order_id"]: lg for lg in cancelled["legs"]}
    assert legs[first_order.client_order_id]["status"] == "filled"
    assert all(lg["status"] != "open" for lg in cancelled["legs"]) and broker.resting == {}


def test_cancel_with_the_broker_down_changes_nothing_and_never_executes() -> None:
    ports, store, broker = resting()
    ports.users.update_settings(UID, {"fill_wait_seconds": 300}, ports.clock.now())
    plan_id = propose_plan(UID, ports).plan_id
    execute_plan(UID, plan_id, ports)  # handed off: executing, orders open
    before = dict(store.history[UID][plan_id])
    sent = len(broker.orders)
    broker.fail_next.append(BrokerUnavailable("broker error 503", status=503))
    with pytest.raises(BrokerUnavailable):
        cancel_plan(UID, plan_id, ports)
    after = store.history[UID][plan_id]
    assert after["status"] == before["status"] and after["legs"] == before["legs"]
    assert len(broker.orders) == sent and store.leases[UID]["holder"] is None
    cancelled = cancel_plan(UID, plan_id, ports)
    assert cancelled["status"] == "cancelled" and broker.resting == {}
    assert len(broker.orders) == sent  # cancelling never sent anything


def test_the_kill_switch_is_read_again_before_a_retry() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    plan_id = propose_plan(UID, ports).plan_id
    real_find = broker.find_order

    def find_then_flip(client_order_id: str) -> OrderResult | None:
        store.kill_switch = KillSwitch(trading_enabled=False, reason="incident")
        return real_find(client_order_id)

    broker.find_order = find_then_flip  # type: ignore[method-assign]
    broker.fail_submit.append(BrokerUnavailable("broker error 502", status=502))
    result = execute_plan(UID, plan_id, ports)
    assert broker.orders == []
    assert all(lg.status is LegStatus.REFUSED for lg in result.legs)


def test_buys_fit_the_buying_power_that_open_orders_leave() -> None:
    ports, store, broker = make("5000", SPY="1", QQQ="1", TLT="1", GLD="1")
    broker.open_buys_usd = D(4000)  # an open order elsewhere holds most of the cash
    plan_id = propose_plan(UID, ports).plan_id
    execute_plan(UID, plan_id, ports)
    spent = sum(
        (
            (o.qty or D(0)) * broker.prices_usd[o.symbol]
            for o in broker.orders
            if o.side is Side.BUY
        ),
        D(0),
    )
    assert 0 < spent <= 1000


def test_a_plan_queued_while_closed_is_never_executing_for_a_moment() -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    broker.market_open = False
    plan_id = propose_plan(UID, ports).plan_id

    def no_lease(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a closed market needs no execution lease")

    store.start_execution = no_lease  # type: ignore[method-assign]
    assert execute_plan(UID, plan_id, ports).status is PlanStatus.QUEUED
    assert run_plan_task(UID, plan_id, ports) is not None  # the task, delivered early
    assert store.history[UID][plan_id]["status"] == "queued" and broker.orders == []
    assert store.leases[UID] == {"plan_id": plan_id, "holder": None, "expires_at": None}
