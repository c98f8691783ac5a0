"""The execution lease: one executor per user at a time, and a crashed one does not block.

Pure decisions shared by every Store adapter; the adapters run them in a transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from rebalancer.domain.errors import ConcurrentExecution, NotFound, PreconditionFailed
from rebalancer.domain.execution import PlanStatus, can_move


def begin_execution(
    plan: Mapping[str, Any] | None,
    lease: Mapping[str, Any] | None,
    plan_id: str,
    executor: str,
    now: datetime,
    lease_s: float,
    write: Callable[[dict[str, Any], dict[str, Any]], object],
) -> dict[str, Any]:
    """Decide whether `executor` may run the plan, and write the lease if so.

    Returns:
        The plan with its new status (or untouched when already finished).

    Raises:
        NotFound: No such plan.
        PreconditionFailed: The entry is not a plan that can run (e.g. a manual trade).
        ConcurrentExecution: Another executor's lease has not expired.
    """
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    try:
        status = PlanStatus(str(plan.get("status")))
    except ValueError:
        raise PreconditionFailed(f"plan {plan_id} cannot be executed") from None
    if status.finished:
        return dict(plan)
    if not plan.get("trades") and not plan.get("legs") and status is PlanStatus.PROPOSED:
        raise PreconditionFailed(f"plan {plan_id} has no trades to execute")
    held = lease is not None and _expires(lease) > now and lease.get("holder") != executor
    if held:
        raise ConcurrentExecution("another execution is running for this account; try again")
    if not can_move(status, PlanStatus.EXECUTING):
        raise PreconditionFailed(f"plan {plan_id} is {status.value}")
    until = now + timedelta(seconds=lease_s)
    changes = {
        "status": PlanStatus.EXECUTING.value,
        "lease_holder": executor,
        "lease_expires_at": until,
        "updated_at": now,
        "started_at": plan.get("started_at") or now,
    }
    write(changes, {"plan_id": plan_id, "holder": executor, "expires_at": until})
    return {**plan, **changes}


def holder_check(plan: Mapping[str, Any], executor: str) -> None:
    """Raise when `executor` no longer holds the plan's lease (another run took over)."""
    if plan.get("lease_holder") != executor:
        raise ConcurrentExecution("this execution lost its lease to another run")


def _expires(lease: Mapping[str, Any]) -> datetime:
    value = lease.get("expires_at")
    return value if isinstance(value, datetime) else datetime.min.replace(tzinfo=UTC)
