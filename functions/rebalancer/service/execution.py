"""The execution engine: every plan's orders go out through here, sells first, once each.

Guarantees:
- One executor per user at a time: a lease with an expiry, taken in a transaction.
- No order twice: each leg has a deterministic client order id; its intent is recorded
  before it is sent, and any leg whose fate is unknown is looked up at the broker first.
- Nothing lost: every leg ends with its status, broker id, fill and reason.
- The kill-switch is read before every leg.
- Market closed: the plan is queued and a task is scheduled for the next open.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from rebalancer.domain.errors import BrokerError, BrokerRateLimited, BrokerUnavailable
from rebalancer.domain.execution import (
    Leg,
    LegStatus,
    PlanStatus,
    backoff_seconds,
    broker_leg_status,
    limit_price,
    outcome,
    resized,
    size_buys,
    time_in_force,
)
from rebalancer.domain.models import ZERO, OrderIntent, OrderResult, OrderType, Side, TimeInForce
from rebalancer.service.context import Ports, open_broker
from rebalancer.service.legs import legs_from_plan, legs_from_record, legs_record
from rebalancer.service.ports import Broker
from rebalancer.service.records import dec
from rebalancer.service.trading import kill_switch_refusal

T = TypeVar("T")
LEASE_S = 120.0
QUEUE_DELAY = timedelta(minutes=5)
TASK_FUNCTION = "executePlanTask"  # a queue id: letters, digits and hyphens only
INSUFFICIENT = 40310000


@dataclass(frozen=True)
class ExecutionResult:
    """The plan as stored after this run, and its legs."""

    plan_id: str
    status: PlanStatus
    legs: tuple[Leg, ...]
    record: dict[str, Any]


class _Run:
    """One executor's pass over one plan."""

    def __init__(self, uid: str, plan_id: str, ports: Ports, broker: Broker, executor: str):
        self.uid, self.plan_id, self.ports, self.broker = uid, plan_id, ports, broker
        self.executor = executor
        self.started = ports.clock.now()
        user_settings = ports.store.get_settings(uid)  # read once per run
        self.settings = user_settings.execution
        self.costs = user_settings.costs
        self.legs: dict[int, Leg] = {}

    def save(self, changes: dict[str, Any] | None = None, *, release: bool = False) -> None:
        """Record the legs (and `changes`) while holding the lease."""
        body = {"legs": legs_record(self.legs.values()), **(changes or {})}
        self.ports.store.save_execution(
            self.uid,
            self.plan_id,
            self.executor,
            body,
            self.ports.clock.now(),
            LEASE_S,
            release=release,
        )

    def retrying(self, call: Callable[[], T]) -> T:
        """Retry 429 and 5xx with backoff (the rate limit's reset when it says), bounded."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except (BrokerRateLimited, BrokerUnavailable) as error:
                if attempt >= self.settings.max_attempts:
                    raise
                self.ports.clock.sleep(backoff_seconds(attempt, error.retry_after_s))

    def reconcile(self, leg: Leg) -> Leg:
        """Ask the broker what became of a leg whose intent was recorded."""
        found = (
            self.retrying(lambda: self.broker.get_order(leg.order_id or ""))
            if leg.order_id
            else self.retrying(lambda: self.broker.find_order(leg.client_order_id))
        )
        if found is None:
            return replace(leg, status=LegStatus.PENDING)  # never reached the broker
        return _with_order(leg, found)

    def send(self, leg: Leg) -> Leg:
        """Send one leg (looking it up first when a retry may have placed it already)."""
        intent = self.intent(leg)
        attempt = 0
        while True:
            attempt += 1
            try:
                return _with_order(leg, self.broker.submit_order(intent))
            except (BrokerRateLimited, BrokerUnavailable) as error:
                # The order may have been placed before the error: never send it blind.
                found = self.retrying(lambda: self.broker.find_order(leg.client_order_id))
                if found is not None:
                    return _with_order(leg, found)
                if attempt >= self.settings.max_attempts:
                    return replace(leg, status=LegStatus.FAILED, error=error.message)
                self.ports.clock.sleep(backoff_seconds(attempt, error.retry_after_s))
            except BrokerError as error:
                if error.status == 422 and "client_order_id" in error.message:
                    found = self.retrying(lambda: self.broker.find_order(leg.client_order_id))
                    if found is not None:
                        return _with_order(leg, found)
                # Insufficient buying power skips the leg; any other refusal fails it.
                skipped = error.broker_code == INSUFFICIENT
                status = LegStatus.SKIPPED if skipped else LegStatus.FAILED
                return replace(leg, status=status, error=error.message)

    def intent(self, leg: Leg) -> OrderIntent:
        """The order a leg sends, with the order type and time in force the rules give."""
        limit = None
        order_type = OrderType.MARKET
        if self.settings.order_type == "limit":
            order_type = OrderType.LIMIT
            limit = limit_price(leg.price_usd, leg.side, self.settings.limit_buffer_bps)
        return OrderIntent(
            symbol=leg.symbol,
            side=leg.side,
            qty=leg.order_qty,
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force(leg)),
            limit_price_usd=limit,
            client_order_id=leg.client_order_id,
        )

    def phase(self, side: Side) -> None:
        """Send every pending leg of one side, each behind a fresh kill-switch read."""
        pending = [leg for leg in self.legs.values() if leg.side is side and _is(leg, "pending")]
        if not pending:
            return
        for leg in pending:
            self.legs[leg.index] = replace(leg, status=LegStatus.SUBMITTING)
        self.save()  # the intents, before anything is sent
        for leg in pending:
            refusal = kill_switch_refusal(self.ports.store)
            if refusal is not None:
                self.refuse_rest(refusal)
                return
            self.legs[leg.index] = self.send(self.legs[leg.index])

    def refuse_rest(self, reason: str) -> None:
        """Mark every leg not yet sent as refused, with the reason."""
        for index, leg in self.legs.items():
            if leg.status in {LegStatus.PENDING, LegStatus.SUBMITTING} and leg.order_id is None:
                self.legs[index] = replace(leg, status=LegStatus.REFUSED, error=reason)

    def wait(self, side: Side) -> None:
        """Poll the side's open orders until they finish or the window closes."""
        waited = 0.0
        while True:
            self.refresh(self.open_legs(side))
            if not self.open_legs(side):
                return
            if waited >= self.settings.fill_wait_s:
                return
            self.ports.clock.sleep(self.settings.poll_s)
            waited += self.settings.poll_s

    def refresh(self, legs: list[Leg]) -> None:
        """Read the broker's state of open legs: one list request for many, else one each."""
        found: dict[str, OrderResult] = {}
        if len(legs) > 2:
            since = self.started - timedelta(minutes=1)
            found = {
                o.order_id or "": o
                for o in self.retrying(partial(self.broker.recent_orders, since))
            }
        for leg in legs:
            order = found.get(leg.order_id or "")
            if order is None:
                order = self.retrying(partial(self.broker.get_order, leg.order_id or ""))
            self.legs[leg.index] = _with_order(leg, order)

    def open_legs(self, side: Side | None = None) -> list[Leg]:
        """Legs the broker holds open (of one side, if given)."""
        return [
            leg
            for leg in self.legs.values()
            if leg.status is LegStatus.OPEN and (side is None or leg.side is side)
        ]

    def size_buys(self) -> None:
        """Resize the pending buys to the cash the sells really left, less the buffer."""
        buys = [leg for leg in self.legs.values() if leg.side is Side.BUY and _is(leg, "pending")]
        if not buys:
            return
        account = self.retrying(self.broker.get_account)
        costs = self.costs
        available = account.cash_usd - costs.buffer_usd(account.portfolio_value_usd)
        for leg, qty in size_buys(buys, available, costs.spread_bps):
            reason = "not enough cash after the sells" if qty <= 0 else None
            if qty > 0 and qty * leg.price_usd < costs.min_trade_usd:
                qty, reason = ZERO, "below the minimum trade once fitted to the cash"
            self.legs[leg.index] = resized(leg, qty, reason)

    def close_open(self) -> None:
        """At the end of the window: cancel what is still open, or leave it working."""
        if self.settings.unfilled_orders != "cancel":
            return
        for leg in self.open_legs():
            if leg.order_id:
                self.retrying(partial(self.broker.cancel_order, leg.order_id))
                order = self.retrying(partial(self.broker.get_order, leg.order_id))
                self.legs[leg.index] = _with_order(leg, order)
                if self.legs[leg.index].status is LegStatus.OPEN:
                    self.legs[leg.index] = replace(leg, status=LegStatus.CANCELLED)


def _is(leg: Leg, status: str) -> bool:
    return leg.status.value == status


def _with_order(leg: Leg, order: OrderResult) -> Leg:
    qty = order.qty if order.qty is not None else leg.order_qty
    return replace(
        leg,
        qty=qty,
        status=broker_leg_status(order.status, order.filled_qty, qty),
        order_id=order.order_id,
        filled_qty=order.filled_qty,
        filled_avg_price_usd=order.filled_avg_price_usd,
        error=order.error,
    )


def new_executor_id() -> str:
    """An id for one execution attempt (it names the lease holder)."""
    return "x-" + secrets.token_hex(8)


def execute_plan(uid: str, plan_id: str, ports: Ports) -> ExecutionResult:
    """Run (or resume) a plan: sells, their fills, buys sized to the cash, their fills.

    Raises:
        NotFound: No such plan for this user.
        ConcurrentExecution: Another execution holds the user's lease.
        NoBrokerLinked: The user has no broker.
    """
    executor = new_executor_id()
    record = ports.store.start_execution(uid, plan_id, executor, ports.clock.now(), LEASE_S)
    if PlanStatus(record["status"]).finished:
        return ExecutionResult(
            plan_id, PlanStatus(record["status"]), legs_from_record(record), record
        )
    broker = open_broker(uid, ports)
    run = _Run(uid, plan_id, ports, broker, executor)
    legs = legs_from_record(record) or legs_from_plan(record, plan_id)
    run.legs = {leg.index: leg for leg in legs}
    try:
        return _drive(run, record)
    except BaseException:
        # Keep what is known; the lease expires and a later run resumes from the record.
        run.save()
        raise


def _drive(run: _Run, record: dict[str, Any]) -> ExecutionResult:
    ports = run.ports
    clock = run.retrying(run.broker.get_clock)
    if not clock.is_open and not all(leg.crypto for leg in run.legs.values()):
        return _queue(run, record, clock.next_open)
    for index, leg in list(run.legs.items()):
        if leg.status in {LegStatus.SUBMITTING, LegStatus.OPEN}:
            run.legs[index] = run.reconcile(leg)
    run.phase(Side.SELL)
    run.wait(Side.SELL)
    run.save()
    run.size_buys()
    run.phase(Side.BUY)
    run.wait(Side.BUY)
    run.close_open()
    status = outcome(list(run.legs.values()))
    now = ports.clock.now()
    run.save({"status": status.value, "completed_at": now, "orders": _orders(run)}, release=True)
    stored = ports.store.get_history(run.uid, run.plan_id) or {}
    return ExecutionResult(run.plan_id, status, tuple(run.legs.values()), stored)


def _queue(run: _Run, record: dict[str, Any], next_open: Any) -> ExecutionResult:
    """Market closed: no orders; queue the plan and schedule its run after the open."""
    run_at = next_open + QUEUE_DELAY
    task_id = f"plan-{run.plan_id}-{run_at:%Y%m%d%H%M}"
    run.ports.tasks.enqueue(
        TASK_FUNCTION, {"uid": run.uid, "plan_id": run.plan_id}, task_id, run_at
    )
    run.save({"status": PlanStatus.QUEUED.value, "queued_until": run_at}, release=True)
    stored = run.ports.store.get_history(run.uid, run.plan_id) or record
    return ExecutionResult(run.plan_id, PlanStatus.QUEUED, tuple(run.legs.values()), stored)


def _orders(run: _Run) -> list[dict[str, Any]]:
    """The legs as the history's `orders` list (the shape every reader already knows)."""
    return [
        {
            "symbol": leg.symbol,
            "side": str(leg.side),
            "qty": dec(leg.order_qty),
            "status": leg.status.value,
            "order_id": leg.order_id,
            "client_order_id": leg.client_order_id,
            "filled_qty": dec(leg.filled_qty),
            "filled_avg_price": dec(leg.filled_avg_price_usd),
            "error": leg.error,
        }
        for leg in sorted(run.legs.values(), key=lambda leg: leg.index)
    ]
