"""Ports: what the services need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rebalancer.domain.drift_log import DriftLogEntry, FanOutSummary, NightRecord
    from rebalancer.domain.models import AssetInfo, OrderIntent, OrderResult, Target
    from rebalancer.domain.plan_record import NewPlan, PlanChanges, PlanRecord
    from rebalancer.domain.risk import KillSwitch
    from rebalancer.domain.settings import UserSettings
    from rebalancer.domain.simulation_record import StoredSimulation
    from rebalancer.domain.tax import Fill
    from rebalancer.domain.trade_record import ManualTrade, RecordedTrade


@dataclass(frozen=True)
class BrokerCredentials:
    """Credentials of one brokerage account; never logged, never returned to a client."""

    api_key_id: str | None = None
    secret_key: str | None = None
    oauth_token: str | None = None
    paper: bool = True

    def __repr__(self) -> str:
        kind = "oauth" if self.oauth_token else "api_key"
        return f"BrokerCredentials(kind={kind}, paper={self.paper})"


@dataclass(frozen=True)
class BrokerAccount:
    """The account figures the services use."""

    account_number: str
    status: str
    cash_usd: Decimal
    portfolio_value_usd: Decimal
    buying_power_usd: Decimal


@dataclass(frozen=True)
class BrokerPosition:
    """One open position as the broker reports it."""

    symbol: str
    qty: Decimal
    price_usd: Decimal
    market_value_usd: Decimal
    cost_basis_usd: Decimal
    qty_available: Decimal | None = None

    @property
    def available(self) -> Decimal:
        """Shares not held by open sell orders (all of them when the broker does not say)."""
        return self.qty if self.qty_available is None else self.qty_available


@dataclass(frozen=True)
class MarketClock:
    """Whether the market is open, and when it next opens."""

    is_open: bool
    next_open: datetime


@dataclass(frozen=True)
class BrokerLink:
    """A user's stored broker connection; `sealed_credentials` is encrypted."""

    sealed_credentials: str
    paper: bool
    account_number: str
    auth_type: str


class Broker(Protocol):
    """One brokerage account."""

    def get_account(self) -> BrokerAccount:
        """Cash, value and status of the account."""

    def get_positions(self) -> list[BrokerPosition]:
        """Every open position."""

    def get_assets(self, symbols: Iterable[str]) -> dict[str, AssetInfo]:
        """Asset information for the symbols the broker knows (unknown ones are left out)."""

    def get_latest_prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Latest trade price per symbol (unknown ones are left out)."""

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Place one order; raises a `BrokerError` when the broker refuses it."""

    def get_fills(self) -> list[Fill]:
        """Every FILL activity of the account (where tax lots come from)."""

    def get_clock(self) -> MarketClock:
        """The market clock."""

    def get_order(self, order_id: str) -> OrderResult:
        """One order by the broker's id."""

    def trading_days(self, start: date, end: date) -> set[date]:
        """The market's trading days from `start` to `end`, inclusive."""

    def recent_orders(self, since: datetime) -> list[OrderResult]:
        """Orders submitted after `since`, any status (up to the broker's page of 500)."""

    def find_order(self, client_order_id: str) -> OrderResult | None:
        """The order with this client order id, or None when the broker has none."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an open order (a finished one is left as it is)."""

    def get_daily_closes(
        self, symbols: Iterable[str], start: date, end: date
    ) -> dict[str, list[tuple[date, Decimal]]]:
        """Daily closing prices per symbol from `start` to `end`, oldest first.

        Unknown symbols are left out.
        """


class BrokerConnector(Protocol):
    """Makes a `Broker` for a set of credentials."""

    def connect(self, credentials: BrokerCredentials) -> Broker:
        """A broker client for these credentials (no request is made)."""


class Vault(Protocol):
    """Encrypts broker credentials at rest."""

    def seal(self, credentials: BrokerCredentials) -> str:
        """Encrypt credentials into an opaque token."""

    def open(self, sealed: str) -> BrokerCredentials:
        """Decrypt a token made by `seal`."""


class UserStore(Protocol):
    """A user's own documents: targets, preferences, broker link and abuse counters."""

    def get_targets(self, uid: str) -> list[Target]:
        """The user's allocation documents (at most 50), checked by `allocation_rules`.

        Raises:
            InvalidAllocation: If a document breaks a rule, or there are more than 50.
        """

    def replace_targets(self, uid: str, targets: list[Target], now: datetime) -> None:
        """Replace the whole allocation atomically."""

    def get_settings(self, uid: str) -> UserSettings:
        """The user's rebalancing preferences (defaults when absent)."""

    def update_settings(self, uid: str, changes: Mapping[str, Any], now: datetime) -> None:
        """Merge validated preference fields into the user's settings."""

    def get_broker_link(self, uid: str) -> BrokerLink | None:
        """The user's broker connection, if any."""

    def save_broker_link(self, uid: str, link: BrokerLink, now: datetime) -> None:
        """Store the user's broker connection."""

    def delete_broker_link(self, uid: str) -> bool:
        """Remove the connection; False when there was none."""

    def count_attempt(
        self, uid: str, action: str, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count one attempt of `action` in a transaction (server-only document).

        Returns None when it is counted, or, when `limit` attempts were already made in
        the `window` before `now`, when to retry (nothing is counted then).
        """


class SystemStatusStore(Protocol):
    """What admins set for everyone."""

    def read_kill_switch(self) -> KillSwitch:
        """The kill-switch; raises when it cannot be read."""

    def set_trading(self, enabled: bool, reason: str, by: str, at: datetime) -> None:
        """Turn trading on or off for everyone (admins only: the operator CLI), saying why."""


class PlanStore(Protocol):
    """A user's rebalance history: plans and manual trades."""

    def new_id(self) -> str:
        """A fresh document id."""

    def add_plan(self, uid: str, plan_id: str, plan: NewPlan) -> None:
        """Store a plan as `proposed`."""

    def get_plan(self, uid: str, plan_id: str) -> PlanRecord | None:
        """One of the user's plans, or None (a manual trade's entry is not a plan)."""

    def get_entry(self, uid: str, entry_id: str) -> dict[str, Any] | None:
        """One history entry as stored (a plan or a manual trade), for answers to clients."""

    def get_trade(self, uid: str, trade_id: str) -> RecordedTrade | None:
        """A manual trade's entry, or None."""

    def save_trade(self, uid: str, trade_id: str, trade: ManualTrade) -> None:
        """Record a manual trade in a transaction.

        An entry that already records a placed order is kept: a late refusal or failure of
        a concurrent retry never hides an order that reached the broker.
        """

    def annotate_plan(self, uid: str, plan_id: str, changes: PlanChanges) -> None:
        """Merge changes into a plan without the lease (notes that never race a run)."""


class LeaseStore(Protocol):
    """The execution lease: one live plan per account, one executor, fenced writes."""

    def start_execution(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> PlanRecord:
        """Take the user's execution lease and mark the plan executing, in one transaction.

        Applies `leases.begin_execution`: a queued live plan of the account is superseded
        (cancelled) in the same transaction. Returns the plan as stored; a finished plan
        is returned untouched.

        Raises:
            NotFound: No such plan for this user.
            ConcurrentExecution: Another executor holds an unexpired lease, or another
                plan of the account is executing.
        """

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
        """Write execution progress while holding the lease (renewed, or released).

        Checks in the same transaction that the lease still names this executor (the
        fencing check). A release leaves the live-plan pointer while the plan is queued
        or executing (`leases.released_lease`).

        Raises:
            ConcurrentExecution: The lease was lost to another executor.
        """

    def queue_plan(self, uid: str, plan_id: str, now: datetime, changes: PlanChanges) -> PlanRecord:
        """Queue a proposed plan for the open in one transaction (`leases.begin_queue`).

        Raises:
            NotFound: No such plan for this user.
            ConcurrentExecution: Another plan of the account is executing.
        """

    def cancel_unsent(self, uid: str, plan_id: str, now: datetime) -> PlanRecord | None:
        """Cancel a plan none of whose orders was sent, in one transaction.

        Returns the plan as stored, or None when its orders must be looked up first
        (`leases.cancel_unsent`).

        Raises:
            NotFound: No such plan for this user.
            ConcurrentExecution: An executor holds the plan's lease.
        """

    def start_cancel(
        self, uid: str, plan_id: str, executor: str, now: datetime, lease_s: float
    ) -> bool:
        """Take the lease to cancel a plan whose orders were sent (`leases.begin_cancel`).

        Returns whether the lease was taken (False for a finished plan: none is needed).

        Raises:
            NotFound: No such plan for this user.
            ConcurrentExecution: An executor holds the plan's lease.
        """


class DriftLogStore(Protocol):
    """A user's drift logs, each with the plan it made (if any)."""

    def record_check(self, uid: str, log: DriftLogEntry, plan: NewPlan | None) -> None:
        """Write a drift log and, when given, its plan (`log.plan_id`) in one batch."""


class NightlyStore(Protocol):
    """The nightly run: who takes part, what each night did."""

    def nightly_users(self, page_size: int) -> Iterator[list[str]]:
        """The uids whose rebalancing is on, a page at a time (never one giant read)."""

    def record_fan_out(self, night: date, summary: FanOutSummary) -> None:
        """Keep what a nightly fan-out did (admins read it)."""

    def record_night(self, uid: str, night: NightRecord) -> None:
        """Write one user's night in one batch: its drift log, plan, alert and last run."""


class SimulationStore(Protocol):
    """A user's what-if simulations."""

    def save_simulation(self, uid: str, simulation_id: str, run: StoredSimulation) -> None:
        """Keep one simulation run."""


class Store(
    UserStore,
    SystemStatusStore,
    PlanStore,
    LeaseStore,
    DriftLogStore,
    NightlyStore,
    SimulationStore,
    Protocol,
):
    """Every store port at once (what one Firestore adapter, or one fake, provides)."""


class Clock(Protocol):
    """The time, as an argument."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def sleep(self, seconds: float) -> None:
        """Wait (the engine's only way to wait, so that tests need not)."""


class TaskQueue(Protocol):
    """Cloud Tasks, seen from the services."""

    def enqueue(
        self, function: str, data: Mapping[str, Any], task_id: str, run_at: datetime
    ) -> bool:
        """Schedule `function(data)` at `run_at`; False when that task id already exists."""
