"""The execution lease: one live plan per account, one executor at a time, and fencing.

The user's lease document (`users/{uid}/leases/execution`) names the account's live plan
(`plan_id`: queued or executing) and, while an executor runs it, that executor
(`holder`) until `expires_at`. Pure decisions on the typed records, shared by every
store adapter; the adapters run them in one transaction with the writes they ask for.

- A run of another plan supersedes a queued live plan (nothing of it was sent), and is
  refused while the live plan executes (its orders may be at the broker).
- Every record an executor makes checks that the lease still names it (the fencing
  token): an executor whose lease expired and was taken stops before its next send.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rebalancer.domain.errors import ConcurrentExecution, NotFound, PreconditionFailed
from rebalancer.domain.execution import PlanStatus, can_move
from rebalancer.domain.plan_record import ExecutionLease, LeaseHold, PlanChanges, PlanRecord


@dataclass(frozen=True)
class LeaseWrites:
    """What taking the lease writes: the plan's changes, the lease, another plan's changes."""

    plan: PlanChanges
    lease: ExecutionLease
    superseded: PlanChanges | None = None


# A lease decision over (plan, lease, the plan the lease names, write): it returns the plan.
LiveDecision = Callable[
    [PlanRecord | None, ExecutionLease | None, PlanRecord | None, Callable[[LeaseWrites], object]],
    PlanRecord,
]


def begin_execution(
    plan: PlanRecord | None,
    lease: ExecutionLease | None,
    live: PlanRecord | None,
    plan_id: str,
    executor: str,
    now: datetime,
    lease_s: float,
    write: Callable[[LeaseWrites], object],
) -> PlanRecord:
    """Decide whether `executor` may run the plan, and write the lease if so.

    Args:
        plan: The plan, or None.
        lease: The user's lease, or None.
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
        PreconditionFailed: The plan has nothing to execute, or cannot move to executing.
        ConcurrentExecution: Another executor holds the lease, or another plan of the
            account is executing.
    """
    plan = _existing(plan, plan_id)
    if plan.status.finished:
        return plan
    if not plan.legs and plan.status is PlanStatus.PROPOSED:
        raise PreconditionFailed(f"plan {plan_id} has no trades to execute")
    superseded = _check_live(lease, live, plan_id, executor, now)
    if not can_move(plan.status, PlanStatus.EXECUTING):
        raise PreconditionFailed(f"plan {plan_id} is {plan.status.value}")
    hold = LeaseHold(executor, now + timedelta(seconds=lease_s))
    started = plan.started_at or now
    changes = PlanChanges(
        status=PlanStatus.EXECUTING, lease=hold, started_at=started, updated_at=now
    )
    write(LeaseWrites(changes, ExecutionLease(plan_id, hold.holder, hold.expires_at), superseded))
    return replace(plan, status=PlanStatus.EXECUTING, lease=hold, started_at=started)


def begin_queue(
    plan: PlanRecord | None,
    lease: ExecutionLease | None,
    live: PlanRecord | None,
    plan_id: str,
    now: datetime,
    changes: PlanChanges,
    write: Callable[[LeaseWrites], object],
) -> PlanRecord:
    """Queue a proposed plan for the open, under the same one-live-plan rule as a run.

    The plan goes straight from `proposed` to `queued`, never `executing` for a moment
    (a check at that moment would be refused), and becomes the account's live plan.

    Returns:
        The plan as stored (untouched unless it was proposed).

    Raises:
        NotFound: No such plan.
        ConcurrentExecution: Another plan of the account is executing.
    """
    plan = _existing(plan, plan_id)
    if plan.status is not PlanStatus.PROPOSED:
        return plan
    superseded = _check_live(lease, live, plan_id, "", now)
    queued = changes.merged(PlanChanges(status=PlanStatus.QUEUED, updated_at=now))
    write(LeaseWrites(queued, ExecutionLease(plan_id), superseded))
    return replace(plan, status=PlanStatus.QUEUED, legs=queued.legs or plan.legs)


def execution(plan_id: str, executor: str, now: datetime, lease_s: float) -> LiveDecision:
    """`begin_execution` for this plan and executor, as the decision an adapter runs."""
    return lambda plan, lease, live, write: begin_execution(
        plan, lease, live, plan_id, executor, now, lease_s, write
    )


def queueing(plan_id: str, now: datetime, changes: PlanChanges) -> LiveDecision:
    """`begin_queue` for this plan, as the decision an adapter runs."""
    return lambda plan, lease, live, write: begin_queue(
        plan, lease, live, plan_id, now, changes, write
    )


def cancel_unsent(
    plan: PlanRecord | None, lease: ExecutionLease | None, plan_id: str, now: datetime
) -> tuple[PlanChanges, bool] | None:
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
    plan = _existing(plan, plan_id)
    named = lease is not None and lease.plan_id == plan_id
    if named and lease is not None and _held(lease, "", now):
        raise ConcurrentExecution(f"plan {plan_id} is executing right now; try again")
    if plan.status.finished or plan.sent or plan.status is PlanStatus.EXECUTING:
        return None
    changes = PlanChanges(status=PlanStatus.CANCELLED, cancelled_at=now, updated_at=now)
    return changes, named


def begin_cancel(
    plan: PlanRecord | None,
    lease: ExecutionLease | None,
    plan_id: str,
    executor: str,
    now: datetime,
    lease_s: float,
) -> ExecutionLease | None:
    """The lease to write so that `executor` may cancel a plan whose orders were sent.

    Returns:
        The lease to write, or None when the plan is finished (no executor runs it
        again, so its open orders are cancelled without the lease).

    Raises:
        NotFound: No such plan.
        ConcurrentExecution: An executor holds the plan's lease right now.
    """
    if _existing(plan, plan_id).status.finished:
        return None
    if lease is not None and lease.plan_id == plan_id and _held(lease, executor, now):
        raise ConcurrentExecution(f"plan {plan_id} is executing right now; try again")
    return ExecutionLease(plan_id, executor, now + timedelta(seconds=lease_s))


def fence(lease: ExecutionLease | None, plan_id: str, executor: str) -> None:
    """Raise unless the lease still names this executor for this plan (the fencing check).

    Raises:
        ConcurrentExecution: The lease expired and another run took it, or it was released.
    """
    if lease is None or lease.plan_id != plan_id or lease.holder != executor:
        raise ConcurrentExecution("this execution lost its lease to another run")


def released_lease(plan_id: str, status: PlanStatus) -> ExecutionLease | None:
    """The lease after a release: the live-plan pointer, or none once finished."""
    if status.finished or status is PlanStatus.PROPOSED:
        return None
    return ExecutionLease(plan_id)


def _existing(plan: PlanRecord | None, plan_id: str) -> PlanRecord:
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    return plan


def _check_live(
    lease: ExecutionLease | None,
    live: PlanRecord | None,
    plan_id: str,
    executor: str,
    now: datetime,
) -> PlanChanges | None:
    """Apply the one-live-plan rule; returns the changes that supersede another plan."""
    if lease is None:
        return None
    if lease.plan_id == plan_id:
        if _held(lease, executor, now):
            raise ConcurrentExecution("another execution is running for this account; try again")
        return None
    if live is None:
        return None  # a pointer to nothing: take over
    if live.status is PlanStatus.EXECUTING:
        raise ConcurrentExecution(
            f"plan {lease.plan_id} is executing for this account; wait for it or cancel it"
        )
    if live.status is PlanStatus.QUEUED:
        return PlanChanges(
            status=PlanStatus.CANCELLED,
            cancelled_at=now,
            updated_at=now,
            cancel_reason=f"superseded by plan {plan_id}",
            superseded_by=plan_id,
        )
    return None


def _held(lease: ExecutionLease, executor: str, now: datetime) -> bool:
    """Whether someone else holds the lease and it has not expired."""
    holder, expires = lease.holder, lease.expires_at
    return bool(holder) and holder != executor and expires is not None and expires > now
