"""The execution lease: one live plan per account, one executor at a time, and fencing.

The user's lease document (`users/{uid}/leases/execution`) names the account's live plan
(`plan_id`: queued or executing) and, while an executor runs it, that executor
(`holder`) until `expires_at`. Pure decisions shared by every Store adapter; the
adapters run them in one transaction with the writes they ask for.

- A run of another plan supersedes a queued live plan (nothing of it was sent), and is
  refused while the live plan executes (its orders may be at the broker).
- Every record an executor makes checks that the lease still names it (the fencing
  token): an executor whose lease expired and was taken stops before its next send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rebalancer.domain.errors import ConcurrentExecution, NotFound, PreconditionFailed
from rebalancer.domain.execution import PlanStatus, can_move

Doc = Mapping[str, Any]
_SENT = {"submitting", "open", "filled", "partially_filled", "cancelled", "failed"}


@dataclass(frozen=True)
class LeaseWrites:
    """What taking the lease writes: the plan's changes, the lease, another plan's changes."""

    plan: dict[str, Any]
    lease: dict[str, Any]
    superseded: dict[str, Any] | None = None


# A lease decision over (plan, lease, the plan the lease names, write): it returns the plan.
LiveDecision = Callable[
    [Doc | None, Doc | None, Doc | None, Callable[[LeaseWrites], object]], dict[str, Any]
]


def begin_execution(
    plan: Doc | None,
    lease: Doc | None,
    live: Doc | None,
    plan_id: str,
    executor: str,
    now: datetime,
    lease_s: float,
    write: Callable[[LeaseWrites], object],
) -> dict[str, Any]:
    """Decide whether `executor` may run the plan, and write the lease if so.

    Args:
        plan: The plan document, or None.
        lease: The user's lease document, or None.
        live: The plan the lease names when that is another plan, or None.
        plan_id: The plan to run.
        executor: The id of this execution attempt.
        now: The current time.
        lease_s: How long the lease lasts unless renewed.
        write: Called once with the writes to make in the same transaction.

    Returns:
        The plan with its new status (or untouched when already finished).

    Raises:
        NotFound: No such plan.
        PreconditionFailed: The entry is not a plan that can run (e.g. a manual trade).
        ConcurrentExecution: Another executor holds the lease, or another plan of the
            account is executing.
    """
    status = _runnable_status(plan, plan_id)
    if plan is None or status.finished:
        return dict(plan or {})
    if not plan.get("trades") and not plan.get("legs") and status is PlanStatus.PROPOSED:
        raise PreconditionFailed(f"plan {plan_id} has no trades to execute")
    superseded = _check_live(lease, live, plan_id, executor, now)
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
    lease_doc = {"plan_id": plan_id, "holder": executor, "expires_at": until}
    write(LeaseWrites(changes, lease_doc, superseded))
    return {**plan, **changes}


def begin_queue(
    plan: Doc | None,
    lease: Doc | None,
    live: Doc | None,
    plan_id: str,
    now: datetime,
    changes: Mapping[str, Any],
    write: Callable[[LeaseWrites], object],
) -> dict[str, Any]:
    """Queue a proposed plan for the open, under the same one-live-plan rule as a run.

    The plan goes straight from `proposed` to `queued`, never `executing` for a moment
    (a check at that moment would be refused), and becomes the account's live plan.

    Returns:
        The plan as stored (untouched unless it was proposed).

    Raises:
        NotFound: No such plan.
        ConcurrentExecution: Another plan of the account is executing.
    """
    status = _runnable_status(plan, plan_id)
    if plan is None or status is not PlanStatus.PROPOSED:
        return dict(plan or {})
    superseded = _check_live(lease, live, plan_id, "", now)
    queued = {**changes, "status": PlanStatus.QUEUED.value, "updated_at": now}
    pointer = {"plan_id": plan_id, "holder": None, "expires_at": None}
    write(LeaseWrites(queued, pointer, superseded))
    return {**plan, **queued}


def cancel_unsent(
    plan: Doc | None, lease: Doc | None, plan_id: str, now: datetime
) -> tuple[dict[str, Any], bool] | None:
    """Cancel a plan none of whose orders was sent, as one compare-and-set.

    An executor starting the plan reads its status in its own transaction, so once this
    write lands the plan never runs; if an executor got there first, this refuses.

    Returns:
        The plan's changes and whether to delete the lease (it named this plan), or None
        when orders of the plan may be at the broker (then they must be looked up).

    Raises:
        NotFound: No such plan.
        ConcurrentExecution: An executor holds the plan's lease right now.
    """
    status = _runnable_status(plan, plan_id)
    assert plan is not None
    named = lease is not None and lease.get("plan_id") == plan_id
    if named and lease is not None and _held(lease, "", now):
        raise ConcurrentExecution(f"plan {plan_id} is executing right now; try again")
    sent = any(
        leg.get("status") != "pending" or leg.get("order_id") for leg in plan.get("legs") or []
    )
    if status.finished or sent or status is PlanStatus.EXECUTING:
        return None
    changes = {"status": PlanStatus.CANCELLED.value, "cancelled_at": now, "updated_at": now}
    return changes, named


def begin_cancel(
    plan: Doc | None, lease: Doc | None, plan_id: str, executor: str, now: datetime, lease_s: float
) -> dict[str, Any] | None:
    """The lease to write so that `executor` may cancel a plan whose orders were sent.

    Returns:
        The lease document to write, or None when the plan is finished (no executor runs
        it again, so its open orders are cancelled without the lease).

    Raises:
        NotFound: No such plan.
        ConcurrentExecution: An executor holds the plan's lease right now.
    """
    status = _runnable_status(plan, plan_id)
    if status.finished:
        return None
    if lease is not None and lease.get("plan_id") == plan_id and _held(lease, executor, now):
        raise ConcurrentExecution(f"plan {plan_id} is executing right now; try again")
    return {"plan_id": plan_id, "holder": executor, "expires_at": now + timedelta(seconds=lease_s)}


def fence(lease: Doc | None, plan_id: str, executor: str) -> None:
    """Raise unless the lease still names this executor for this plan (the fencing check).

    Raises:
        ConcurrentExecution: The lease expired and another run took it, or it was released.
    """
    if lease is None or lease.get("plan_id") != plan_id or lease.get("holder") != executor:
        raise ConcurrentExecution("this execution lost its lease to another run")


def released_lease(plan_id: str, status: PlanStatus) -> dict[str, Any] | None:
    """The lease document after a release: the live-plan pointer, or none once finished."""
    if status.finished or status is PlanStatus.PROPOSED:
        return None
    return {"plan_id": plan_id, "holder": None, "expires_at": None}


def _runnable_status(plan: Doc | None, plan_id: str) -> PlanStatus:
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    try:
        return PlanStatus(str(plan.get("status")))
    except ValueError:
        raise PreconditionFailed(f"plan {plan_id} cannot be executed") from None


def _check_live(
    lease: Doc | None, live: Doc | None, plan_id: str, executor: str, now: datetime
) -> dict[str, Any] | None:
    """Apply the one-live-plan rule; returns the changes that supersede another plan."""
    if lease is None:
        return None
    if lease.get("plan_id") == plan_id:
        if _held(lease, executor, now):
            raise ConcurrentExecution("another execution is running for this account; try again")
        return None
    other = str(lease.get("plan_id"))
    try:
        other_status = PlanStatus(str((live or {}).get("status")))
    except ValueError:
        return None  # a pointer to nothing: take over
    if other_status is PlanStatus.EXECUTING:
        raise ConcurrentExecution(
            f"plan {other} is executing for this account; wait for it or cancel it"
        )
    if other_status is PlanStatus.QUEUED:
        return {
            "status": PlanStatus.CANCELLED.value,
            "cancelled_at": now,
            "updated_at": now,
            "cancel_reason": f"superseded by plan {plan_id}",
            "superseded_by": plan_id,
        }
    return None


def _held(lease: Doc, executor: str, now: datetime) -> bool:
    """Whether someone else holds the lease and it has not expired."""
    holder = lease.get("holder")
    return bool(holder) and holder != executor and _expires(lease) > now


def _expires(lease: Doc) -> datetime:
    value = lease.get("expires_at")
    return value if isinstance(value, datetime) else datetime.min.replace(tzinfo=UTC)
