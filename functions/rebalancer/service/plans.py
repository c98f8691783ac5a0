"""Use cases on stored plans: execute one, cancel one, read one (only the owner's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rebalancer.domain.errors import NotFound
from rebalancer.domain.execution import LegStatus, PlanStatus
from rebalancer.service.context import Ports, open_broker
from rebalancer.service.execution import LEASE_S, ExecutionResult, execute_plan, new_executor_id
from rebalancer.service.legs import legs_from_record, legs_record


def get_plan(uid: str, plan_id: str, ports: Ports) -> dict[str, Any]:
    """One of the user's plans.

    Raises:
        NotFound: No such plan for this user (another user's id is simply not found).
    """
    record = ports.store.get_history(uid, plan_id)
    if record is None:
        raise NotFound(f"plan {plan_id} not found")
    return record


def run_plan(uid: str, plan_id: str, ports: Ports) -> ExecutionResult:
    """Execute a proposed (or queued, or interrupted) plan; a finished one is returned as is."""
    return execute_plan(uid, plan_id, ports)


def cancel_plan(uid: str, plan_id: str, ports: Ports) -> dict[str, Any]:
    """Cancel a plan: a plan not yet run is cancelled; open orders of a run plan are cancelled.

    Raises:
        NotFound: No such plan for this user.
        ConcurrentExecution: An execution is running right now.
    """
    record = get_plan(uid, plan_id, ports)
    status = PlanStatus(str(record.get("status", "proposed")))
    if status.finished:
        return _cancel_open_orders(uid, plan_id, record, ports)
    executor = new_executor_id()
    now = ports.clock.now()
    ports.store.start_execution(uid, plan_id, executor, now, LEASE_S)
    legs = legs_from_record(record)
    if any(leg.order_id for leg in legs):
        broker = open_broker(uid, ports)
        for leg in legs:
            if leg.status is LegStatus.OPEN and leg.order_id:
                broker.cancel_order(leg.order_id)
    changes: dict[str, Any] = {"status": PlanStatus.CANCELLED.value, "cancelled_at": now}
    if legs:
        changes["legs"] = legs_record(
            replace(leg, status=LegStatus.CANCELLED) if not leg.status.finished else leg
            for leg in legs
        )
    ports.store.save_execution(uid, plan_id, executor, changes, now, LEASE_S, release=True)
    return get_plan(uid, plan_id, ports)


def _cancel_open_orders(
    uid: str, plan_id: str, record: dict[str, Any], ports: Ports
) -> dict[str, Any]:
    """A finished plan may leave orders working (the `keep` setting): cancel those."""
    legs = legs_from_record(record)
    open_legs = [leg for leg in legs if leg.status is LegStatus.OPEN and leg.order_id]
    if not open_legs:
        return record
    broker = open_broker(uid, ports)
    done = {}
    for leg in open_legs:
        broker.cancel_order(leg.order_id or "")
        order = broker.get_order(leg.order_id or "")
        status = LegStatus.PARTIALLY_FILLED if order.filled_qty > 0 else LegStatus.CANCELLED
        done[leg.index] = replace(leg, status=status, filled_qty=order.filled_qty)
    updated = [done.get(leg.index, leg) for leg in legs]
    entry = {**record, "legs": legs_record(updated), "updated_at": ports.clock.now()}
    ports.store.add_history(uid, plan_id, entry)
    return entry
