"""Use cases on stored plans: execute one, cancel one, read one (only the owner's)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rebalancer.domain.errors import NotFound
from rebalancer.domain.execution import Leg, LegStatus, PlanStatus, broker_leg_status
from rebalancer.domain.plan_record import PlanChanges
from rebalancer.service.context import Ports, linked_broker
from rebalancer.service.executor import (
    LEASE_S,
    TASK_BUDGET_S,
    ExecutionResult,
    execute_plan,
    new_executor_id,
)
from rebalancer.service.ports import Broker

# What a task may act on: a plan waiting for the open, or one a cut-off run left.
TASK_RUNNABLE = {PlanStatus.QUEUED, PlanStatus.EXECUTING}


def get_plan(uid: str, plan_id: str, ports: Ports) -> dict[str, Any]:
    """One of the user's plans.

    Raises:
        NotFound: No such plan for this user (another user's id is simply not found).
    """
    entry = ports.plans.get_entry(uid, plan_id)
    if entry is None:
        raise NotFound(f"plan {plan_id} not found")
    return entry


def run_plan(uid: str, plan_id: str, ports: Ports) -> ExecutionResult:
    """Execute a proposed (or queued, or interrupted) plan; a finished one is returned as is."""
    return execute_plan(uid, plan_id, ports)


def run_plan_task(uid: str, plan_id: str, ports: Ports) -> ExecutionResult | None:
    """A task's run: only a queued plan or an interrupted execution, never a proposal.

    The body of a task is not trusted: the plan must exist for that user and be in a
    state a task may act on; anything else is answered with None (nothing is run).
    """
    record = ports.plans.get_plan(uid, plan_id)
    if record is None or record.status not in TASK_RUNNABLE:
        return None
    return execute_plan(uid, plan_id, ports, budget_s=TASK_BUDGET_S)


def cancel_plan(uid: str, plan_id: str, ports: Ports) -> dict[str, Any]:
    """Cancel a plan: looked up at the broker first, never recorded as more than it is.

    A plan none of whose orders was sent is cancelled in one transaction. Otherwise each
    sent leg is looked up at the broker, open orders are cancelled and read back, and
    each leg is recorded as the broker has it (a filled order stays filled). Never runs
    the plan. When the broker cannot be reached nothing is recorded and the plan stays as
    it was (the lease is let go), so a retry of the cancel starts afresh.

    Raises:
        NotFound: No such plan for this user.
        ConcurrentExecution: An execution is running right now.
        BrokerError: The broker could not be asked; nothing was changed.
    """
    now = ports.clock.now()
    if ports.leases.cancel_unsent(uid, plan_id, now) is not None:
        return get_plan(uid, plan_id, ports)
    record = ports.plans.get_plan(uid, plan_id)
    if record is None:
        raise NotFound(f"plan {plan_id} not found")
    executor = new_executor_id()
    holds_lease = ports.leases.start_cancel(uid, plan_id, executor, now, LEASE_S)
    try:
        broker, link = linked_broker(uid, ports)
        made_for = record.account
        if made_for is not None and made_for.account_number != link.account_number:
            # Its orders are at an account no longer linked: never look them up (or
            # cancel anything) at the new one; say where they are.
            note = f"not looked up: the plan's orders are at account {made_for.account_number}"
            legs = [leg if leg.status.finished else replace(leg, error=note) for leg in record.legs]
        else:
            legs = [_cancelled_leg(broker, leg) for leg in record.legs]
    except BaseException:
        if holds_lease:
            ports.leases.save_execution(
                uid, plan_id, executor, PlanChanges(), ports.clock.now(), LEASE_S, release=True
            )
        raise
    changes = PlanChanges(legs=tuple(legs))
    if not record.status.finished:
        changes = changes.merged(
            PlanChanges(status=PlanStatus.CANCELLED, cancelled_at=ports.clock.now())
        )
    if holds_lease:
        ports.leases.save_execution(
            uid, plan_id, executor, changes, ports.clock.now(), LEASE_S, release=True
        )
    else:
        ports.plans.annotate_plan(uid, plan_id, changes.merged(PlanChanges(updated_at=now)))
    return get_plan(uid, plan_id, ports)


def _cancelled_leg(broker: Broker, leg: Leg) -> Leg:
    """A leg as the broker has it after cancelling what is still open."""
    if leg.status is LegStatus.PENDING:
        return replace(leg, status=LegStatus.CANCELLED, error="cancelled before it was sent")
    if leg.status.finished and leg.status is not LegStatus.CANCELLED:
        return leg
    order = broker.get_order(leg.order_id) if leg.order_id else None
    if order is None:
        order = broker.find_order(leg.client_order_id)
    if order is None:
        return replace(leg, status=LegStatus.CANCELLED, error="never reached the broker")
    qty = order.qty if order.qty is not None else leg.order_qty
    if broker_leg_status(order.status, order.filled_qty, qty) is LegStatus.OPEN:
        broker.cancel_order(order.order_id or "")
        order = broker.get_order(order.order_id or "")
    final = broker_leg_status(order.status, order.filled_qty, qty)
    if final is LegStatus.OPEN:  # the broker has not finished cancelling yet
        final = LegStatus.PARTIALLY_FILLED if order.filled_qty > 0 else LegStatus.CANCELLED
    return replace(
        leg,
        status=final,
        order_id=order.order_id,
        filled_qty=order.filled_qty,
        filled_avg_price_usd=order.filled_avg_price_usd,
    )
