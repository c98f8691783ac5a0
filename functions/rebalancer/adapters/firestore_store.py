"""The Store port on google-cloud-firestore (the emulator locally, Firestore deployed)."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rebalancer.domain.models import Target
from rebalancer.domain.risk import KillSwitch
from rebalancer.domain.settings import UserSettings, settings_from_document, stored_decimal
from rebalancer.service.leases import begin_execution, holder_check
from rebalancer.service.ports import BrokerLink

if TYPE_CHECKING:
    from google.cloud.firestore import Client, DocumentReference, Transaction

ID_ALPHABET = string.ascii_letters + string.digits


def allocation_doc_id(symbol: str) -> str:
    """Document ids cannot hold '/', so crypto pairs such as BTC/USD are stored as BTC-USD."""
    return symbol.replace("/", "-")


class FirestoreStore:
    """Reads and writes the documents of DESIGN.md section 3."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _user_settings(self, uid: str) -> DocumentReference:
        return self.client.collection("userSettings").document(uid)

    def _user(self, uid: str) -> DocumentReference:
        return self.client.collection("users").document(uid)

    def get_targets(self, uid: str) -> list[Target]:
        """The user's allocation documents, largest target first."""
        docs = self._user_settings(uid).collection("allocation").stream()
        targets = [_target(doc.id, doc.to_dict() or {}) for doc in docs]
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
        return KillSwitch(
            trading_enabled=data.get("trading_enabled", True) is True,
            drawdown_recovery_mode=data.get("drawdown_recovery_mode", False) is not False,
            reason=str(data["reason"]) if data.get("reason") else None,
        )

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

    def record_check(
        self,
        uid: str,
        drift_log_id: str,
        drift_log: Mapping[str, Any],
        history_id: str | None,
        history: Mapping[str, Any] | None,
    ) -> None:
        """Write the drift log and the history entry in one batch."""
        batch = self.client.batch()
        batch.set(self._user(uid).collection("driftLogs").document(drift_log_id), dict(drift_log))
        if history_id is not None and history is not None:
            ref = self._user(uid).collection("rebalanceHistory").document(history_id)
            batch.set(ref, dict(history))
        batch.commit()

    def add_history(self, uid: str, history_id: str, entry: Mapping[str, Any]) -> None:
        """Write one rebalance-history entry."""
        self._user(uid).collection("rebalanceHistory").document(history_id).set(dict(entry))

    def start_execution(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> dict[str, Any]:
        """Take the user's execution lease and mark the plan executing, in one transaction."""
        from google.cloud import firestore

        plan_ref = self._user(uid).collection("rebalanceHistory").document(plan_id)
        lease_ref = self._user(uid).collection("leases").document("execution")

        @firestore.transactional
        def start(transaction: Transaction) -> dict[str, Any]:
            plan = plan_ref.get(transaction=transaction)
            lease = lease_ref.get(transaction=transaction)

            def write(plan_doc: dict[str, Any], lease_doc: dict[str, Any]) -> None:
                transaction.set(plan_ref, plan_doc, merge=True)
                transaction.set(lease_ref, lease_doc)

            return begin_execution(
                plan.to_dict() if plan.exists else None,
                lease.to_dict() if lease.exists else None,
                plan_id,
                executor,
                now,
                lease_s,
                write,
            )

        result: dict[str, Any] = start(self.client.transaction())
        return result

    def save_execution(
        self,
        uid: str,
        plan_id: str,
        executor: str,
        changes: Mapping[str, Any],
        now: datetime,
        lease_s: float,
        *,
        release: bool = False,
    ) -> None:
        """Write execution progress while holding the lease (renewed, or released)."""
        from google.cloud import firestore

        plan_ref = self._user(uid).collection("rebalanceHistory").document(plan_id)
        lease_ref = self._user(uid).collection("leases").document("execution")

        @firestore.transactional
        def save(transaction: Transaction) -> None:
            plan = plan_ref.get(transaction=transaction).to_dict() or {}
            holder_check(plan, executor)
            until = None if release else now + timedelta(seconds=lease_s)
            transaction.set(
                plan_ref,
                {
                    **changes,
                    "lease_holder": None if release else executor,
                    "lease_expires_at": until,
                    "updated_at": now,
                },
                merge=True,
            )
            if release:
                transaction.delete(lease_ref)
            else:
                transaction.set(
                    lease_ref, {"plan_id": plan_id, "holder": executor, "expires_at": until}
                )

        save(self.client.transaction())

    def record_fan_out(self, night: date, summary: Mapping[str, Any]) -> None:
        """Keep what a nightly fan-out did in `nightlyRuns/{night}`."""
        self.client.collection("nightlyRuns").document(night.isoformat()).set(dict(summary))

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

    def record_night(self, uid: str, writes: Mapping[str, Mapping[str, Any]]) -> None:
        """Write a night's documents in one batch, each merged."""
        allowed = (f"users/{uid}/", f"userSettings/{uid}")
        batch = self.client.batch()
        for path, document in writes.items():
            if not path.startswith(allowed):
                raise ValueError(f"{path} is not this user's document")
            batch.set(self.client.document(path), dict(document), merge=True)
        batch.commit()

    def get_history(self, uid: str, history_id: str) -> dict[str, Any] | None:
        """One rebalance-history entry, or None."""
        snapshot = self._user(uid).collection("rebalanceHistory").document(history_id).get()
        return snapshot.to_dict() if snapshot.exists else None


def _target(symbol: str, data: Mapping[str, Any]) -> Target:
    threshold = data.get("threshold_percent")
    substitutes = data.get("substitutes")
    return Target(
        symbol=str(data.get("symbol", symbol)),
        target_percent=stored_decimal(data.get("target_percent"), Decimal(0)),
        threshold_percent=None if threshold is None else stored_decimal(threshold, Decimal(5)),
        enabled=data.get("enabled", True) is not False,
        substitutes=tuple(str(x) for x in substitutes) if isinstance(substitutes, list) else (),
    )
