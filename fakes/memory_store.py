"""In-memory Store standing in for Firestore: a shipped fake for unit tests and benchmarks.

Not deployed (this package lives outside `functions/`); it runs the same lease decisions
(`service/leases.py`) as the Firestore adapter, and the store contract tests hold both to
the same behaviour.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from rebalancer.adapters import documents
from rebalancer.domain.allocation_rules import (
    allocation_doc_id,
    check_allocation,
    check_document_count,
)
from rebalancer.domain.drift_log import DriftLogEntry, FanOutSummary, NightRecord
from rebalancer.domain.execution import PlanStatus
from rebalancer.domain.limits import admit
from rebalancer.domain.models import Target
from rebalancer.domain.plan_record import ExecutionLease, NewPlan, PlanChanges, PlanRecord
from rebalancer.domain.risk import KillSwitch
from rebalancer.domain.settings import UserSettings, settings_from_document, settings_to_document
from rebalancer.domain.simulation_record import StoredSimulation
from rebalancer.domain.trade_record import ManualTrade, RecordedTrade
from rebalancer.service import leases
from rebalancer.service.leases import LeaseWrites, LiveDecision
from rebalancer.service.ports import BrokerLink


@dataclass
class InMemoryStore:
    """Dicts standing in for Firestore; `kill_switch=None` simulates an unreadable document."""

    targets: dict[str, list[Target]] = field(default_factory=dict)
    settings: dict[str, UserSettings] = field(default_factory=dict)
    links: dict[str, BrokerLink] = field(default_factory=dict)
    kill_switch: KillSwitch | None = field(default_factory=KillSwitch)
    drift_logs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    history: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    kill_switch_reads: int = 0
    leases: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    limits: dict[tuple[str, str], tuple[datetime, ...]] = field(default_factory=dict)
    saves: int = 0
    _ids: Iterable[int] = field(default_factory=itertools.count)

    def get_targets(self, uid: str) -> list[Target]:
        """The user's targets, checked by the allocation rules as the Firestore adapter does."""
        collection = f"userSettings/{uid}/allocation"
        targets = self.targets.get(uid, [])
        check_document_count(collection, len(targets))
        check_allocation({f"{collection}/{allocation_doc_id(t.symbol)}": t for t in targets})
        return sorted(targets, key=lambda t: (-t.target_percent, t.symbol))

    def replace_targets(self, uid: str, targets: list[Target], now: datetime) -> None:
        """Replace the user's targets."""
        self.targets[uid] = list(targets)

    def get_settings(self, uid: str) -> UserSettings:
        """The user's settings or the defaults."""
        return self.settings.get(uid, UserSettings())

    def update_settings(self, uid: str, changes: Mapping[str, Any], now: datetime) -> None:
        """Merge fields as Firestore would and re-read them."""
        self._merge_settings(uid, {**changes, "updated_at": now})

    def _merge_settings(self, uid: str, changes: Mapping[str, Any]) -> None:
        merged = {**settings_to_document(self.get_settings(uid)), **changes}
        self.settings[uid] = settings_from_document(merged)

    def read_kill_switch(self) -> KillSwitch:
        """The switch; raises when set to None (an unreadable document)."""
        self.kill_switch_reads += 1
        if self.kill_switch is None:
            raise ConnectionError("kill-switch unreadable")
        return self.kill_switch

    def set_trading(self, enabled: bool, reason: str, by: str, at: datetime) -> None:
        """Flip the switch as the Firestore adapter does (the drawdown flag stays)."""
        switch = self.kill_switch or KillSwitch()
        self.kill_switch = replace(
            switch, trading_enabled=enabled, reason=reason, updated_by=by, updated_at=at
        )

    def get_broker_link(self, uid: str) -> BrokerLink | None:
        """The user's link."""
        return self.links.get(uid)

    def save_broker_link(self, uid: str, link: BrokerLink, now: datetime) -> None:
        """Store the user's link."""
        self.links[uid] = link

    def delete_broker_link(self, uid: str) -> bool:
        """Forget the user's link."""
        return self.links.pop(uid, None) is not None

    def new_id(self) -> str:
        """Sequential ids, readable in test failures."""
        return f"id{next(iter(self._ids)):04d}"

    def record_check(self, uid: str, log: DriftLogEntry, plan: NewPlan | None) -> None:
        """Store the drift log and, when given, its plan."""
        self.drift_logs.setdefault(uid, {})[log.log_id] = documents.drift_log_document(log)
        if plan is not None and log.plan_id is not None:
            self.add_plan(uid, log.plan_id, plan)

    def add_plan(self, uid: str, plan_id: str, plan: NewPlan) -> None:
        """Store a plan as `proposed`."""
        self.history.setdefault(uid, {})[plan_id] = documents.new_plan_document(plan)

    def get_entry(self, uid: str, entry_id: str) -> dict[str, Any] | None:
        """One history entry as stored, or None."""
        entry = self.history.get(uid, {}).get(entry_id)
        return dict(entry) if entry is not None else None

    def get_plan(self, uid: str, plan_id: str) -> PlanRecord | None:
        """One of the user's plans, or None."""
        return documents.plan_from_document(plan_id, self.get_entry(uid, plan_id))

    def get_trade(self, uid: str, trade_id: str) -> RecordedTrade | None:
        """A manual trade's entry, or None."""
        return documents.trade_from_document(self.get_entry(uid, trade_id))

    def _lease(self, uid: str) -> ExecutionLease | None:
        return documents.lease_from_document(self.leases.get(uid))

    def start_execution(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> PlanRecord:
        """Take the lease as the Firestore adapter does (one step stands for a transaction)."""
        return self._with_live_plan(uid, plan_id, leases.execution(plan_id, executor, now, lease_s))

    def _with_live_plan(self, uid: str, plan_id: str, decide: LiveDecision) -> PlanRecord:
        plans = self.history.setdefault(uid, {})
        lease = self._lease(uid)
        live = None
        if lease is not None and lease.plan_id != plan_id:
            live = documents.plan_from_document(lease.plan_id, plans.get(lease.plan_id))

        def write(writes: LeaseWrites) -> None:
            self._merge(uid, plan_id, documents.plan_changes_document(writes.plan))
            self.leases[uid] = documents.lease_document(writes.lease)
            if writes.superseded is not None and lease is not None:
                superseded = documents.plan_changes_document(writes.superseded)
                self._merge(uid, lease.plan_id, superseded)

        return decide(documents.runnable_plan(plan_id, plans.get(plan_id)), lease, live, write)

    def _merge(self, uid: str, plan_id: str, fields: Mapping[str, Any]) -> None:
        plans = self.history.setdefault(uid, {})
        plans[plan_id] = {**plans.get(plan_id, {}), **fields}

    def save_execution(
        self,
        uid: str,
        plan_id: str,
        executor: str,
        changes: PlanChanges,
        now: datetime,
        lease_s: float,
        *,
        release: bool = False,
    ) -> None:
        """Write progress while holding the lease (fenced on the lease document)."""
        plan = self.history[uid][plan_id]
        leases.fence(self._lease(uid), plan_id, executor)
        until = None if release else now + timedelta(seconds=lease_s)
        holder = None if release else executor
        self._merge(
            uid,
            plan_id,
            {
                **documents.plan_changes_document(changes),
                "lease_holder": holder,
                "lease_expires_at": until,
                "updated_at": now,
            },
        )
        self.saves += 1
        if release:
            status = changes.status or PlanStatus(str(plan.get("status")))
            pointer = leases.released_lease(plan_id, status)
            if pointer is None:
                self.leases.pop(uid, None)
            else:
                self.leases[uid] = documents.lease_document(pointer)
        else:
            self.leases[uid] = documents.lease_document(ExecutionLease(plan_id, executor, until))

    def queue_plan(self, uid: str, plan_id: str, now: datetime, changes: PlanChanges) -> PlanRecord:
        """Queue a proposed plan for the open (one step, as a transaction)."""
        return self._with_live_plan(uid, plan_id, leases.queueing(plan_id, now, changes))

    def cancel_unsent(self, uid: str, plan_id: str, now: datetime) -> PlanRecord | None:
        """Cancel a plan none of whose orders was sent (one step, as a transaction)."""
        plan = documents.runnable_plan(plan_id, self.get_entry(uid, plan_id))
        decided = leases.cancel_unsent(plan, self._lease(uid), plan_id, now)
        if decided is None:
            return None
        changes, drop_lease = decided
        self._merge(uid, plan_id, documents.plan_changes_document(changes))
        if drop_lease:
            self.leases.pop(uid, None)
        return self.get_plan(uid, plan_id)

    def start_cancel(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> bool:
        """Take the lease to cancel a plan whose orders were sent."""
        plan = documents.runnable_plan(plan_id, self.get_entry(uid, plan_id))
        lease = leases.begin_cancel(plan, self._lease(uid), plan_id, executor, now, lease_s)
        if lease is None:
            return False
        self.leases[uid] = documents.lease_document(lease)
        self._merge(uid, plan_id, {"lease_holder": executor})
        return True

    def annotate_plan(self, uid: str, plan_id: str, changes: PlanChanges) -> None:
        """Merge changes into a plan without the lease."""
        self._merge(uid, plan_id, documents.plan_changes_document(changes))

    def record_fan_out(self, night: date, summary: FanOutSummary) -> None:
        """Keep the fan-out summary."""
        self.documents[f"nightlyRuns/{night.isoformat()}"] = documents.fan_out_document(summary)

    def nightly_users(self, page_size: int) -> Iterator[list[str]]:
        """Users whose settings turn rebalancing on (and are not paused), in pages."""
        uids = sorted(u for u, s in self.settings.items() if s.nightly)
        for start in range(0, len(uids), page_size):
            yield uids[start : start + page_size]

    def record_night(self, uid: str, night: NightRecord) -> None:
        """Keep the night's documents (by path); settings fields are merged in."""
        for path, document in documents.night_documents(uid, night).items():
            if path == f"userSettings/{uid}":
                self._merge_settings(uid, document)
            elif "/rebalanceHistory/" in path:
                self.history.setdefault(uid, {})[path.rsplit("/", 1)[1]] = dict(document)
            else:
                self.documents[path] = {**self.documents.get(path, {}), **document}

    def save_trade(self, uid: str, trade_id: str, trade: ManualTrade) -> None:
        """Store a trade's entry unless the stored one records a placed order."""
        entries = self.history.setdefault(uid, {})
        stored = entries.get(trade_id)
        if stored is None or not documents.holds_order(stored):
            entries[trade_id] = documents.manual_trade_document(trade)

    def save_simulation(self, uid: str, simulation_id: str, run: StoredSimulation) -> None:
        """Keep the simulation's document by path."""
        path = f"users/{uid}/simulations/{simulation_id}"
        self.documents[path] = documents.simulation_document(run)

    def count_attempt(
        self, uid: str, action: str, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count an attempt in `limits` as the Firestore adapter does."""
        admission = admit(self.limits.get((uid, action), ()), now, limit, window)
        if admission.allowed:
            self.limits[(uid, action)] = admission.attempts
        return admission.retry_at
