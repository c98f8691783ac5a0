"""Every store port on google-cloud-firestore (the emulator locally, Firestore deployed)."""

from __future__ import annotations

import random
import secrets
import string
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rebalancer.adapters import documents
from rebalancer.domain.allocation_rules import (
    MAX_TARGETS,
    allocation_doc_id,
    check_allocation,
    check_document_count,
    target_from_document,
)
from rebalancer.domain.drift_log import DriftLogEntry, FanOutSummary, NightRecord
from rebalancer.domain.execution import PlanStatus
from rebalancer.domain.limits import admit
from rebalancer.domain.models import Target
from rebalancer.domain.plan_record import ExecutionLease, NewPlan, PlanChanges, PlanRecord
from rebalancer.domain.risk import KillSwitch
from rebalancer.domain.settings import UserSettings, settings_from_document
from rebalancer.domain.simulation_record import StoredSimulation
from rebalancer.domain.trade_record import ManualTrade, RecordedTrade
from rebalancer.service import leases
from rebalancer.service.leases import LeaseWrites, LiveDecision
from rebalancer.service.ports import BrokerLink

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentReference, Transaction

ID_ALPHABET = string.ascii_letters + string.digits


class FirestoreStore:
    """Reads and writes the documents of DESIGN.md section 3."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _user_settings(self, uid: str) -> DocumentReference:
        return self.client.collection("userSettings").document(uid)

    def _user(self, uid: str) -> DocumentReference:
        return self.client.collection("users").document(uid)

    def get_targets(self, uid: str) -> list[Target]:
        """The user's allocation documents, largest target first, checked by the rules.

        At most 50 documents are read (the query stops at 51 to tell there are more).

        Raises:
            InvalidAllocation: If there are more than 50 documents, or one breaks a rule
                of `rebalancer.domain.allocation_rules` (named by its path).
        """
        collection = f"userSettings/{uid}/allocation"
        docs = list(self.client.collection(collection).limit(MAX_TARGETS + 1).stream())
        check_document_count(collection, len(docs))
        allocation = {
            f"{collection}/{doc.id}": target_from_document(
                f"{collection}/{doc.id}", doc.id, doc.to_dict() or {}
            )
            for doc in docs
        }
        targets = check_allocation(allocation)
        return sorted(targets, key=lambda t: (-t.target_percent, t.symbol))

    def replace_targets(self, uid: str, targets: list[Target], now: datetime) -> None:
        """Replace the allocation in one transaction, keeping `created_at` of kept symbols."""
        from google.cloud import firestore

        allocation = self._user_settings(uid).collection("allocation")

        @firestore.transactional
        def replace(transaction: Transaction) -> None:
            # A transaction reads queries, not collections: project to the one field kept.
            query = allocation.select(["created_at"])
            existing = {doc.id: doc.to_dict() or {} for doc in transaction.get(query)}
            wanted = {allocation_doc_id(t.symbol) for t in targets}
            for doc_id in existing.keys() - wanted:
                transaction.delete(allocation.document(doc_id))
            for target in targets:
                doc_id = allocation_doc_id(target.symbol)
                created = existing.get(doc_id, {}).get("created_at", now)
                doc: dict[str, Any] = {
                    "symbol": target.symbol,
                    "target_percent": float(target.target_percent),
                    "enabled": target.enabled,
                    "created_at": created,
                    "updated_at": now,
                }
                if target.threshold_percent is not None:
                    doc["threshold_percent"] = float(target.threshold_percent)
                if target.substitutes:
                    doc["substitutes"] = list(target.substitutes)
                transaction.set(allocation.document(doc_id), doc)

        replace(self.client.transaction())

    def get_settings(self, uid: str) -> UserSettings:
        """The user's preferences; missing or unreadable fields take their defaults."""
        return settings_from_document(self._user_settings(uid).get().to_dict() or {})

    def update_settings(self, uid: str, changes: Mapping[str, Any], now: datetime) -> None:
        """Merge validated preference fields into `userSettings/{uid}`."""
        self._user_settings(uid).set({**changes, "updated_at": now}, merge=True)

    def read_kill_switch(self) -> KillSwitch:
        """`systemStatus/risk_management`; a missing document means trading is enabled."""
        snapshot = self.client.collection("systemStatus").document("risk_management").get()
        if not snapshot.exists:
            return KillSwitch()
        data = snapshot.to_dict() or {}
        # Anything but an explicit boolean true (or false, for the drawdown flag) is unsafe.
        by, at = data.get("updated_by"), data.get("updated_at")
        return KillSwitch(
            trading_enabled=data.get("trading_enabled", True) is True,
            drawdown_recovery_mode=data.get("drawdown_recovery_mode", False) is not False,
            reason=str(data["reason"]) if data.get("reason") else None,
            updated_by=str(by) if by else None,
            updated_at=at if isinstance(at, datetime) else None,
        )

    def set_trading(self, enabled: bool, reason: str, by: str, at: datetime) -> None:
        """Turn trading on or off in `systemStatus/risk_management` (the drawdown flag stays)."""
        ref = self.client.collection("systemStatus").document("risk_management")
        change = {"trading_enabled": enabled, "reason": reason, "updated_by": by, "updated_at": at}
        ref.set(change, merge=True)

    def get_broker_link(self, uid: str) -> BrokerLink | None:
        """The user's broker connection, if any."""
        data = self.client.collection("brokerConnections").document(uid).get().to_dict()
        if not data or not data.get("sealed_credentials"):
            return None
        return BrokerLink(
            sealed_credentials=str(data["sealed_credentials"]),
            paper=bool(data.get("paper", True)),
            account_number=str(data.get("account_number", "")),
            auth_type=str(data.get("auth_type", "api_key")),
        )

    def save_broker_link(self, uid: str, link: BrokerLink, now: datetime) -> None:
        """Store the connection (server-only collection)."""
        self.client.collection("brokerConnections").document(uid).set(
            {
                "sealed_credentials": link.sealed_credentials,
                "paper": link.paper,
                "account_number": link.account_number,
                "auth_type": link.auth_type,
                "linked_at": now,
            }
        )

    def delete_broker_link(self, uid: str) -> bool:
        """Remove the connection; False when there was none."""
        ref = self.client.collection("brokerConnections").document(uid)
        existed = ref.get().exists
        ref.delete()
        return bool(existed)

    def new_id(self) -> str:
        """A 20-character id like Firestore's own."""
        return "".join(secrets.choice(ID_ALPHABET) for _ in range(20))

    def _history(self, uid: str) -> Any:
        return self._user(uid).collection("rebalanceHistory")

    def record_check(self, uid: str, log: DriftLogEntry, plan: NewPlan | None) -> None:
        """Write the drift log and, when given, its plan in one batch."""
        batch = self.client.batch()
        log_ref = self._user(uid).collection("driftLogs").document(log.log_id)
        batch.set(log_ref, documents.drift_log_document(log))
        if plan is not None and log.plan_id is not None:
            batch.set(self._history(uid).document(log.plan_id), documents.new_plan_document(plan))
        batch.commit()

    def add_plan(self, uid: str, plan_id: str, plan: NewPlan) -> None:
        """Store a plan as `proposed`."""
        self._history(uid).document(plan_id).set(documents.new_plan_document(plan))

    def get_entry(self, uid: str, entry_id: str) -> dict[str, Any] | None:
        """One rebalance-history entry as stored, or None."""
        snapshot = self._history(uid).document(entry_id).get()
        return snapshot.to_dict() if snapshot.exists else None

    def get_plan(self, uid: str, plan_id: str) -> PlanRecord | None:
        """One of the user's plans, or None."""
        return documents.plan_from_document(plan_id, self.get_entry(uid, plan_id))

    def get_trade(self, uid: str, trade_id: str) -> RecordedTrade | None:
        """A manual trade's entry, or None."""
        return documents.trade_from_document(self.get_entry(uid, trade_id))

    def start_execution(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> PlanRecord:
        """Take the user's execution lease and mark the plan executing, in one transaction."""
        return self._with_live_plan(uid, plan_id, leases.execution(plan_id, executor, now, lease_s))

    def _with_live_plan(self, uid: str, plan_id: str, decide: LiveDecision) -> PlanRecord:
        """Run a lease decision in one transaction and make the writes it asks for.

        It reads the plan, the lease and the plan the lease names (when another one).
        """
        from google.cloud import firestore

        history = self._history(uid)
        plan_ref = history.document(plan_id)
        lease_ref = self._lease(uid)

        @firestore.transactional
        def run(transaction: Transaction) -> PlanRecord:
            plan = plan_ref.get(transaction=transaction)
            lease = _lease_of(lease_ref.get(transaction=transaction))
            live = None
            if lease is not None and lease.plan_id != plan_id:
                live_doc = history.document(lease.plan_id).get(transaction=transaction).to_dict()
                live = documents.plan_from_document(lease.plan_id, live_doc)

            def write(writes: LeaseWrites) -> None:
                transaction.set(plan_ref, documents.plan_changes_document(writes.plan), merge=True)
                transaction.set(lease_ref, documents.lease_document(writes.lease))
                if writes.superseded is not None and lease is not None:
                    transaction.set(
                        history.document(lease.plan_id),
                        documents.plan_changes_document(writes.superseded),
                        merge=True,
                    )

            found = documents.runnable_plan(plan_id, plan.to_dict() if plan.exists else None)
            return decide(found, lease, live, write)

        result: PlanRecord = run(self.client.transaction())
        return result

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
        """Write execution progress while holding the lease (renewed, or released)."""
        from google.cloud import firestore

        plan_ref = self._history(uid).document(plan_id)
        lease_ref = self._lease(uid)

        @firestore.transactional
        def save(transaction: Transaction) -> None:
            plan = plan_ref.get(transaction=transaction).to_dict() or {}
            lease = lease_ref.get(transaction=transaction)
            leases.fence(
                _lease_of(lease),
                plan_id,
                executor,
            )
            until = None if release else now + timedelta(seconds=lease_s)
            transaction.set(
                plan_ref,
                {
                    **documents.plan_changes_document(changes),
                    "lease_holder": None if release else executor,
                    "lease_expires_at": until,
                    "updated_at": now,
                },
                merge=True,
            )
            if release:
                status = changes.status or PlanStatus(str(plan.get("status")))
                pointer = leases.released_lease(plan_id, status)
                if pointer is None:
                    transaction.delete(lease_ref)
                else:
                    transaction.set(lease_ref, documents.lease_document(pointer))
            else:
                lease_doc = documents.lease_document(ExecutionLease(plan_id, executor, until))
                transaction.set(lease_ref, lease_doc)

        save(self.client.transaction())

    def queue_plan(self, uid: str, plan_id: str, now: datetime, changes: PlanChanges) -> PlanRecord:
        """Queue a proposed plan for the open in one transaction."""
        return self._with_live_plan(uid, plan_id, leases.queueing(plan_id, now, changes))

    def cancel_unsent(self, uid: str, plan_id: str, now: datetime) -> PlanRecord | None:
        """Cancel a plan none of whose orders was sent, in one transaction."""
        from google.cloud import firestore

        plan_ref = self._history(uid).document(plan_id)
        lease_ref = self._lease(uid)

        @firestore.transactional
        def cancel(transaction: Transaction) -> PlanRecord | None:
            plan = plan_ref.get(transaction=transaction)
            lease = lease_ref.get(transaction=transaction)
            plan_doc = plan.to_dict() if plan.exists else None
            decided = leases.cancel_unsent(
                documents.runnable_plan(plan_id, plan_doc),
                _lease_of(lease),
                plan_id,
                now,
            )
            if decided is None:
                return None
            changes, drop_lease = decided
            written = documents.plan_changes_document(changes)
            transaction.set(plan_ref, written, merge=True)
            if drop_lease:
                transaction.delete(lease_ref)
            return documents.plan_from_document(plan_id, {**(plan_doc or {}), **written})

        result: PlanRecord | None = cancel(self.client.transaction())
        return result

    def start_cancel(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> bool:
        """Take the lease to cancel a plan whose orders were sent."""
        from google.cloud import firestore

        plan_ref = self._history(uid).document(plan_id)
        lease_ref = self._lease(uid)

        @firestore.transactional
        def start(transaction: Transaction) -> bool:
            plan = plan_ref.get(transaction=transaction)
            lease = lease_ref.get(transaction=transaction)
            taken = leases.begin_cancel(
                documents.runnable_plan(plan_id, plan.to_dict() if plan.exists else None),
                _lease_of(lease),
                plan_id,
                executor,
                now,
                lease_s,
            )
            if taken is None:
                return False
            transaction.set(lease_ref, documents.lease_document(taken))
            transaction.set(plan_ref, {"lease_holder": executor}, merge=True)
            return True

        result: bool = start(self.client.transaction())
        return result

    def annotate_plan(self, uid: str, plan_id: str, changes: PlanChanges) -> None:
        """Merge changes into a plan without the lease."""
        ref = self._history(uid).document(plan_id)
        ref.set(documents.plan_changes_document(changes), merge=True)

    def _lease(self, uid: str) -> Any:
        return self._user(uid).collection("leases").document("execution")

    def record_fan_out(self, night: date, summary: FanOutSummary) -> None:
        """Keep what a nightly fan-out did in `nightlyRuns/{night}`."""
        runs = self.client.collection("nightlyRuns")
        runs.document(night.isoformat()).set(documents.fan_out_document(summary))

    def nightly_users(self, page_size: int) -> Iterator[list[str]]:
        """The uids whose rebalancing is on, one query page at a time, by document id."""
        from google.cloud.firestore_v1.base_query import FieldFilter
        from google.cloud.firestore_v1.field_path import FieldPath

        query = (
            self.client.collection("userSettings")
            .where(filter=FieldFilter("rebalancing_enabled", "==", True))
            .order_by(FieldPath.document_id())
            .limit(page_size)
        )
        last = None
        while True:
            page = list((query.start_after(last) if last is not None else query).stream())
            if not page:
                return
            yield [doc.id for doc in page if (doc.to_dict() or {}).get("paused") is not True]
            if len(page) < page_size:
                return
            last = page[-1]

    def record_night(self, uid: str, night: NightRecord) -> None:
        """Write a night's documents in one batch, each merged."""
        batch = self.client.batch()
        for path, document in documents.night_documents(uid, night).items():
            batch.set(self.client.document(path), document, merge=True)
        batch.commit()

    def save_trade(self, uid: str, trade_id: str, trade: ManualTrade) -> None:
        """Write a trade's entry in a transaction unless the stored one records a placed order."""
        from google.cloud import firestore

        ref = self._history(uid).document(trade_id)
        entry = documents.manual_trade_document(trade)

        @firestore.transactional
        def save(transaction: Transaction) -> None:
            snapshot = ref.get(transaction=transaction)
            stored = (snapshot.to_dict() or {}) if snapshot.exists else {}
            if not documents.holds_order(stored):
                transaction.set(ref, entry)

        save(self.client.transaction())

    def save_simulation(self, uid: str, simulation_id: str, run: StoredSimulation) -> None:
        """Keep one simulation in `users/{uid}/simulations/{id}`."""
        ref = self._user(uid).collection("simulations").document(simulation_id)
        ref.set(documents.simulation_document(run))

    def count_attempt(
        self, uid: str, action: str, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count an attempt in `users/{uid}/limits/{action}` (clients read it, never write it)."""
        from google.api_core.exceptions import Aborted
        from google.cloud import firestore

        ref = self._user(uid).collection("limits").document(action)

        @firestore.transactional
        def count(transaction: Transaction) -> datetime | None:
            snapshot = ref.get(transaction=transaction)
            stored = (snapshot.to_dict() or {}).get("attempts") if snapshot.exists else None
            previous = [t for t in stored if isinstance(t, datetime)] if stored else []
            admission = admit(previous, now, limit, window)
            if admission.allowed:
                transaction.set(
                    ref, {"attempts": list(admission.attempts), "limit": limit, "updated_at": now}
                )
            return admission.retry_at

        # A burst of attempts contends on one document: the client retries at once, so
        # after its tries run out (a lock timeout under load) wait a little, jittered, and
        # start again a few times before giving up.
        for round_ in range(4):
            try:
                result: datetime | None = count(self.client.transaction(max_attempts=10))
                return result
            except (ValueError, Aborted):
                if round_ == 3:
                    raise
                time.sleep(0.2 * (round_ + 1) + random.random() * 0.2)
        raise AssertionError("unreachable")


def _lease_of(snapshot: Any) -> ExecutionLease | None:
    """The lease in a snapshot of `users/{uid}/leases/execution`, or None."""
    return documents.lease_from_document(snapshot.to_dict() if snapshot.exists else None)
