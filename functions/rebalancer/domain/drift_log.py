"""What a drift check or a nightly run records, as the services hand it to the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rebalancer.domain.drift import DriftReport
from rebalancer.domain.plan_record import NewPlan
from rebalancer.domain.progress import GoalProgress
from rebalancer.domain.schedule import Decision


@dataclass(frozen=True)
class DriftLogEntry:
    """One drift measurement: by a user's check (`manual`) or by the nightly run."""

    log_id: str
    report: DriftReport
    created_at: datetime
    trigger: str
    dry_run: bool
    plan_id: str | None
    goal_progress: GoalProgress | None
    decision: Decision | None = None


@dataclass(frozen=True)
class DriftAlert:
    """What the client shows when a nightly plan awaits review (auto-execute off)."""

    night: date
    plan_id: str
    reason: str
    created_at: datetime
    max_drift_percent: Decimal
    orders: int
    estimated_tax_usd: Decimal

    @property
    def message(self) -> str:
        """The alert's text."""
        return f"{self.reason}: a plan of {self.orders} orders awaits your review"


@dataclass(frozen=True)
class NightRecord:
    """One user's night: its drift log and, when a run was due, its plan and alert."""

    night: date
    log: DriftLogEntry
    plan_id: str | None = None
    plan: NewPlan | None = None
    alert: DriftAlert | None = None
    last_auto_run_on: date | None = None


@dataclass(frozen=True)
class FanOutSummary:
    """What one nightly fan-out did."""

    users: int
    enqueued: int
    already_queued: int
    seconds: float
    finished_at: datetime
