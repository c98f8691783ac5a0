"""A stored plan as the services see it, and the changes they make to it (no document shapes).

The Firestore document (`users/{uid}/rebalanceHistory/{planId}`) is the adapters' business;
the services read a `PlanRecord` and write a `NewPlan` or `PlanChanges`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from rebalancer.domain.execution import Leg, LegStatus, PlanStatus, client_order_id
from rebalancer.domain.models import ZERO
from rebalancer.domain.plan import Plan
from rebalancer.domain.settings import Strategy


@dataclass(frozen=True)
class AccountRef:
    """The brokerage account a plan was made for: it executes there only."""

    account_number: str
    paper: bool


@dataclass(frozen=True)
class LeaseHold:
    """Which executor runs the plan, until when (unless it renews)."""

    holder: str
    expires_at: datetime


@dataclass(frozen=True)
class ExecutionLease:
    """The user's lease: the account's live plan and, while one runs it, its executor."""

    plan_id: str
    holder: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PlanRecord:
    """A stored plan: its status, account, legs and what the engine needs to run it.

    `legs` are the legs as last recorded, or, before the first run, the pending legs of
    the plan's trades. `document` is the stored document itself, for answers to clients
    (the services never read it).
    """

    plan_id: str
    status: PlanStatus
    legs: tuple[Leg, ...]
    account: AccountRef | None
    reason: str
    strategy: Strategy
    cash_to_invest_usd: Decimal = ZERO
    cash_to_raise_usd: Decimal = ZERO
    created_at: datetime | None = None
    replanned_at: datetime | None = None
    replans: int = 0
    started_at: datetime | None = None
    lease: LeaseHold | None = None
    fill_windows: Mapping[str, datetime] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        """True when an order of the plan may be at the broker (its fate must be looked up)."""
        return any(leg.order_id or leg.status is not LegStatus.PENDING for leg in self.legs)

    @property
    def made_at(self) -> datetime | None:
        """When the trades were last planned (the re-plan's time, else the proposal's)."""
        return self.replanned_at or self.created_at


@dataclass(frozen=True)
class NewPlan:
    """A plan to store as `proposed`, made for `account`."""

    plan: Plan
    reason: str
    created_at: datetime
    account: AccountRef
    cash_to_invest_usd: Decimal = ZERO
    cash_to_raise_usd: Decimal = ZERO
    drift_log_id: str | None = None


@dataclass(frozen=True)
class Replanned:
    """A stale plan planned again from the account as it is now."""

    plan: Plan
    account: AccountRef
    replans: int
    at: datetime


@dataclass(frozen=True)
class LeaseLost:
    """An executor stopped because another run took the plan's lease."""

    executor: str
    at: datetime
    message: str


@dataclass(frozen=True)
class PlanChanges:
    """What a run, a queue or a cancel changes in a plan (None: unchanged)."""

    status: PlanStatus | None = None
    legs: tuple[Leg, ...] | None = None
    record_orders: bool = False  # also list the legs as the plan's orders (at its end)
    fill_windows: Mapping[str, datetime] | None = None
    queued_until: datetime | None = None
    queued_task: str | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    handed_off_at: datetime | None = None
    error: str | None = None
    replanned: Replanned | None = None
    lease_lost: LeaseLost | None = None
    lease: LeaseHold | None = None
    started_at: datetime | None = None
    superseded_by: str | None = None
    updated_at: datetime | None = None

    def merged(self, later: PlanChanges) -> PlanChanges:
        """These changes, then `later`'s (a field `later` sets wins)."""
        fields = {k: v for k, v in later.__dict__.items() if v is not None and v is not False}
        return PlanChanges(**{**self.__dict__, **fields})


def planned_legs(plan: Plan, plan_id: str, first_index: int = 0) -> tuple[Leg, ...]:
    """The pending legs of a plan's trades, each with its deterministic client order id.

    Args:
        plan: The plan.
        plan_id: The stored plan's id (the client order ids derive from it).
        first_index: The first leg's index: a re-planned plan numbers its legs afresh, so
            that its order ids are new.

    Returns:
        One pending leg per trade, in the plan's order (sells first).
    """
    return tuple(
        Leg(
            index=index,
            symbol=trade.symbol,
            side=trade.side,
            planned_qty=trade.qty,
            price_usd=trade.price_usd,
            fractionable=trade.fractionable,
            crypto=trade.crypto,
            drift_percent=trade.drift_percent,
            client_order_id=client_order_id(plan_id, index),
        )
        for index, trade in enumerate(plan.trades, start=first_index)
    )
