"""In-memory Store, Broker, Vault and Clock for unit tests and offline runs of the CLI."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rebalancer.domain.allocation_rules import (
    allocation_doc_id,
    check_allocation,
    check_document_count,
)
from rebalancer.domain.errors import (
    BrokerAuthFailed,
    BrokerError,
    BuyingPowerShort,
    DuplicateOrderId,
)
from rebalancer.domain.execution import PlanStatus
from rebalancer.domain.limits import admit
from rebalancer.domain.models import ZERO, AssetInfo, OrderIntent, OrderResult, Side, Target
from rebalancer.domain.risk import KillSwitch
from rebalancer.domain.settings import UserSettings, settings_from_document, settings_to_document
from rebalancer.domain.tax import Fill
from rebalancer.service import leases
from rebalancer.service.leases import LeaseWrites, LiveDecision
from rebalancer.service.ports import (
    BrokerAccount,
    BrokerCredentials,
    BrokerLink,
    BrokerPosition,
    MarketClock,
)
from rebalancer.service.records import holds_order


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
        return list(targets)

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

    def record_check(
        self,
        uid: str,
        drift_log_id: str,
        drift_log: Mapping[str, Any],
        history_id: str | None,
        history: Mapping[str, Any] | None,
    ) -> None:
        """Store the drift log and history entry."""
        self.drift_logs.setdefault(uid, {})[drift_log_id] = dict(drift_log)
        if history_id is not None and history is not None:
            self.history.setdefault(uid, {})[history_id] = dict(history)

    def add_history(self, uid: str, history_id: str, entry: Mapping[str, Any]) -> None:
        """Store a history entry."""
        self.history.setdefault(uid, {})[history_id] = dict(entry)

    def start_execution(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> dict[str, Any]:
        """Take the lease as the Firestore adapter does (a dict stands in for the document)."""
        return self._with_live_plan(
            uid,
            plan_id,
            lambda plan, lease, live, write: leases.begin_execution(
                plan, lease, live, plan_id, executor, now, lease_s, write
            ),
        )

    def _with_live_plan(self, uid: str, plan_id: str, decide: LiveDecision) -> dict[str, Any]:
        plans = self.history.setdefault(uid, {})
        lease = self.leases.get(uid)
        live_id = (lease or {}).get("plan_id")
        live = plans.get(str(live_id)) if live_id and live_id != plan_id else None

        def write(writes: LeaseWrites) -> None:
            plans[plan_id] = {**plans[plan_id], **writes.plan}
            self.leases[uid] = writes.lease
            if writes.superseded is not None:
                plans[str(live_id)] = {**plans[str(live_id)], **writes.superseded}

        return decide(plans.get(plan_id), lease, live, write)

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
        """Write progress while holding the lease (fenced on the lease document)."""
        plan = self.history[uid][plan_id]
        leases.fence(self.leases.get(uid), plan_id, executor)
        until = None if release else now + timedelta(seconds=lease_s)
        holder = None if release else executor
        self.history[uid][plan_id] = {
            **plan,
            **changes,
            "lease_holder": holder,
            "lease_expires_at": until,
            "updated_at": now,
        }
        self.saves += 1
        if release:
            status = PlanStatus(str(changes.get("status", plan.get("status"))))
            pointer = leases.released_lease(plan_id, status)
            if pointer is None:
                self.leases.pop(uid, None)
            else:
                self.leases[uid] = pointer
        else:
            self.leases[uid] = {"plan_id": plan_id, "holder": executor, "expires_at": until}

    def queue_plan(
        self, uid: str, plan_id: str, now: datetime, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Queue a proposed plan for the open (one step, as a transaction)."""
        return self._with_live_plan(
            uid,
            plan_id,
            lambda plan, lease, live, write: leases.begin_queue(
                plan, lease, live, plan_id, now, changes, write
            ),
        )

    def cancel_unsent(self, uid: str, plan_id: str, now: datetime) -> dict[str, Any] | None:
        """Cancel a plan none of whose orders was sent (one step, as a transaction)."""
        plan = self.history.get(uid, {}).get(plan_id)
        decided = leases.cancel_unsent(plan, self.leases.get(uid), plan_id, now)
        if decided is None or plan is None:
            return None
        changes, drop_lease = decided
        self.history[uid][plan_id] = {**plan, **changes}
        if drop_lease:
            self.leases.pop(uid, None)
        return dict(self.history[uid][plan_id])

    def start_cancel(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> bool:
        """Take the lease to cancel a plan whose orders were sent."""
        plan = self.history.get(uid, {}).get(plan_id)
        lease = leases.begin_cancel(plan, self.leases.get(uid), plan_id, executor, now, lease_s)
        if lease is None or plan is None:
            return False
        self.leases[uid] = lease
        self.history[uid][plan_id] = {**plan, "lease_holder": executor}
        return True

    def annotate_plan(self, uid: str, plan_id: str, changes: Mapping[str, Any]) -> None:
        """Merge fields into a plan without the lease."""
        plan = self.history.get(uid, {}).get(plan_id, {})
        self.history.setdefault(uid, {})[plan_id] = {**plan, **changes}

    def record_fan_out(self, night: date, summary: Mapping[str, Any]) -> None:
        """Keep the fan-out summary."""
        self.documents[f"nightlyRuns/{night.isoformat()}"] = dict(summary)

    def nightly_users(self, page_size: int) -> Iterator[list[str]]:
        """Users whose settings turn rebalancing on (and are not paused), in pages."""
        uids = sorted(u for u, s in self.settings.items() if s.nightly)
        for start in range(0, len(uids), page_size):
            yield uids[start : start + page_size]

    def record_night(self, uid: str, writes: Mapping[str, Mapping[str, Any]]) -> None:
        """Keep the night's documents (by path); settings fields are merged in."""
        for path, document in writes.items():
            if path == f"userSettings/{uid}":
                self._merge_settings(uid, document)
            elif "/rebalanceHistory/" in path:
                self.history.setdefault(uid, {})[path.rsplit("/", 1)[1]] = dict(document)
            else:
                self.documents[path] = {**self.documents.get(path, {}), **document}

    def get_history(self, uid: str, history_id: str) -> dict[str, Any] | None:
        """One history entry, or None."""
        entry = self.history.get(uid, {}).get(history_id)
        return dict(entry) if entry is not None else None

    def save_trade(self, uid: str, history_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Store a trade's entry unless the stored one records a placed order."""
        entries = self.history.setdefault(uid, {})
        stored = entries.get(history_id)
        if stored is None or not holds_order(stored):
            entries[history_id] = stored = dict(entry)
        return dict(stored)

    def count_attempt(
        self, uid: str, action: str, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count an attempt in `limits` as the Firestore adapter does."""
        admission = admit(self.limits.get((uid, action), ()), now, limit, window)
        if admission.allowed:
            self.limits[(uid, action)] = admission.attempts
        return admission.retry_at


@dataclass
class InMemoryBroker:
    """An account that fills every order at once at its price; `fail_next` raises once.

    `open_buys_usd` and `open_sells` stand for cash and shares that open orders hold (a
    test sets them): they come off buying power and `qty_available`, as at Alpaca.
    """

    cash_usd: Decimal
    prices_usd: dict[str, Decimal]
    qty: dict[str, Decimal] = field(default_factory=dict)
    assets: dict[str, AssetInfo] = field(default_factory=dict)
    orders: list[OrderIntent] = field(default_factory=list)
    fail_next: list[BrokerError] = field(default_factory=list)
    fail_submit: list[BrokerError] = field(default_factory=list)
    account_number: str = "PA0000000001"
    fills: list[Fill] = field(default_factory=list)
    today: date = date(2026, 11, 20)
    market_open: bool = True
    next_open: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 14, 30, tzinfo=UTC))
    placed: dict[str, OrderResult] = field(default_factory=dict)
    holidays: set[date] = field(default_factory=set)
    open_buys_usd: Decimal = ZERO
    open_sells: dict[str, Decimal] = field(default_factory=dict)

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def get_account(self) -> BrokerAccount:
        """Cash, value, and buying power: cash less what open buy orders hold."""
        self._maybe_fail()
        value = self.cash_usd + sum((q * self.prices_usd[s] for s, q in self.qty.items()), ZERO)
        power = max(self.cash_usd - self.open_buys_usd, ZERO)
        return BrokerAccount(self.account_number, "ACTIVE", self.cash_usd, value, power)

    def get_positions(self) -> list[BrokerPosition]:
        """Positions valued at the current prices."""
        self._maybe_fail()
        return [
            BrokerPosition(
                s,
                q,
                self.prices_usd[s],
                q * self.prices_usd[s],
                ZERO,
                max(q - self.open_sells.get(s, ZERO), ZERO),
            )
            for s, q in sorted(self.qty.items())
            if q
        ]

    def get_fills(self) -> list[Fill]:
        """Every fill so far (seed lots by appending buy fills)."""
        self._maybe_fail()
        return list(self.fills)

    def get_assets(self, symbols: Iterable[str]) -> dict[str, AssetInfo]:
        """Known assets; symbols with a price default to tradable and fractionable."""
        known = {s: AssetInfo(s, True, True) for s in self.prices_usd} | self.assets
        return {s: known[s] for s in symbols if s in known}

    def get_latest_prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Prices of known symbols."""
        return {s: self.prices_usd[s] for s in symbols if s in self.prices_usd}

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Fill at once, or raise the queued failure, or refuse what cash cannot cover."""
        self._maybe_fail()
        if self.fail_submit:
            raise self.fail_submit.pop(0)
        if intent.client_order_id in self.placed:  # as Alpaca: before funds
            raise DuplicateOrderId("client_order_id must be unique", status=422)
        price = self.prices_usd[intent.symbol]
        qty = intent.qty if intent.qty is not None else (intent.notional_usd or ZERO) / price
        held = self.qty.get(intent.symbol, ZERO)
        if intent.side is Side.BUY and qty * price > self.cash_usd - self.open_buys_usd:
            raise BuyingPowerShort("insufficient buying power", status=403)
        if intent.side is Side.SELL and qty > held - self.open_sells.get(intent.symbol, ZERO):
            raise BuyingPowerShort("insufficient qty available", status=403)
        sign = 1 if intent.side is Side.BUY else -1
        self.qty[intent.symbol] = held + sign * qty
        self.cash_usd -= sign * qty * price
        self.orders.append(intent)
        self.fills.append(Fill(intent.symbol, intent.side, qty, price, self.today, len(self.fills)))
        result = OrderResult(
            symbol=intent.symbol,
            side=intent.side,
            qty=intent.qty,
            notional_usd=intent.notional_usd,
            status="filled",
            order_id=f"order-{len(self.orders)}",
            client_order_id=intent.client_order_id,
            filled_qty=qty,
            filled_avg_price_usd=price,
        )
        if intent.client_order_id:
            self.placed[intent.client_order_id] = result
        return result

    def get_clock(self) -> MarketClock:
        """Open or closed, as set."""
        return MarketClock(self.market_open, self.next_open)

    def get_order(self, order_id: str) -> OrderResult:
        """An order placed here, by id."""
        self._maybe_fail()
        return next(o for o in self.placed.values() if o.order_id == order_id)

    def trading_days(self, start: date, end: date) -> set[date]:
        """Weekdays, less `holidays`."""
        days = {start + timedelta(days=k) for k in range((end - start).days + 1)}
        return {d for d in days if d.weekday() < 5 and d not in self.holidays}

    def recent_orders(self, since: datetime) -> list[OrderResult]:
        """Every order placed here."""
        self._maybe_fail()
        return list(self.placed.values())

    def find_order(self, client_order_id: str) -> OrderResult | None:
        """An order placed here, by client order id."""
        self._maybe_fail()
        return self.placed.get(client_order_id)

    def cancel_order(self, order_id: str) -> None:
        """Orders here fill at once: nothing is left to cancel."""


@dataclass
class InMemoryConnector:
    """Hands out brokers by API key id; unknown keys are refused like a 401."""

    brokers: dict[str, InMemoryBroker] = field(default_factory=dict)

    def connect(self, credentials: BrokerCredentials) -> InMemoryBroker:
        """The broker registered for these credentials."""
        key = credentials.api_key_id or credentials.oauth_token or ""
        if key not in self.brokers:
            return _RefusingBroker()  # type: ignore[return-value]
        return self.brokers[key]


class _RefusingBroker:
    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise BrokerAuthFailed("request is not authorized", status=401)

        return refuse


class PlainVault:
    """A reversible encoding standing in for encryption; for unit tests only."""

    def seal(self, credentials: BrokerCredentials) -> str:
        """Encode credentials."""
        return base64.b64encode(json.dumps(credentials.__dict__).encode()).decode()

    def open(self, sealed: str) -> BrokerCredentials:
        """Decode credentials."""
        return BrokerCredentials(**json.loads(base64.b64decode(sealed)))


@dataclass
class FixedClock:
    """A clock that says what it is told."""

    at: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    slept: float = 0.0

    def now(self) -> datetime:
        """The set time."""
        return self.at

    def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.at += timedelta(seconds=seconds)
        self.slept += seconds


@dataclass
class InMemoryTaskQueue:
    """Records enqueued tasks; a task id is accepted once, as Cloud Tasks does."""

    tasks: dict[str, tuple[str, dict[str, Any], datetime]] = field(default_factory=dict)

    def enqueue(
        self, function: str, data: Mapping[str, Any], task_id: str, run_at: datetime
    ) -> bool:
        """Keep the task; False when its id was seen before."""
        if task_id in self.tasks:
            return False
        self.tasks[task_id] = (function, dict(data), run_at)
        return True
