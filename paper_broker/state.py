"""The broker's state: accounts with their lots, orders and activities; assets and prices."""

from __future__ import annotations

import bisect
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from paper_broker.assets import Asset, default_assets, find_asset
from paper_broker.clock import SimClock
from paper_broker.history import DEFAULT_SEED

# Prices "have always been" their default, so bars exist for every past session.
HISTORY_START = datetime(1970, 1, 1, tzinfo=UTC)
OPEN_STATUSES = frozenset({"new", "accepted", "partially_filled", "pending_new"})


@dataclass
class PricePoint:
    """A price set at an instant; the history bars are built from."""

    at: datetime
    price: Decimal


@dataclass
class Lot:
    """A tax lot: shares bought together, relieved first in, first out."""

    id: str
    symbol: str
    qty: Decimal
    cost_per_share: Decimal
    acquired_at: datetime


@dataclass
class Activity:
    """A FILL account activity."""

    id: str
    account_id: str
    order_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    order_status: str
    transaction_time: datetime
    seq: int


@dataclass
class Order:
    """An order and its fill progress."""

    id: str
    account_id: str
    client_order_id: str
    symbol: str
    asset_id: str
    asset_class: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    extended_hours: bool
    status: str
    submitted_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    seq: int
    # The last instant fills were looked for; the next look starts from here.
    checked_at: datetime
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    # Cash moved by the fills, which is what a notional order spends down.
    filled_value: Decimal = Decimal(0)
    fill_ratio: Decimal | None = None
    filled_at: datetime | None = None
    expired_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill or be canceled."""
        return self.status in OPEN_STATUSES


@dataclass
class Account:
    """A trading account: credentials, cash, lots, orders and activities."""

    id: str
    account_number: str
    api_key_id: str
    secret_key: str
    oauth_token: str
    cash: Decimal
    created_at: datetime
    lots: list[Lot] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    # Diagnostics only; never saved with the state.
    counters: dict[str, int] = field(default_factory=dict, metadata={"persist": False})

    def order(self, order_id: str) -> Order | None:
        """Return one of this account's orders by id."""
        return next((o for o in self.orders if o.id == order_id), None)

    def lots_of(self, symbol: str) -> list[Lot]:
        """Return the lots of a symbol, oldest first."""
        return sorted((lot for lot in self.lots if lot.symbol == symbol), key=_lot_key)

    def position_qty(self, symbol: str) -> Decimal:
        """Return the shares held of a symbol."""
        return sum((lot.qty for lot in self.lots if lot.symbol == symbol), Decimal(0))

    def symbols_held(self) -> list[str]:
        """Return the symbols with a position, sorted."""
        return sorted({lot.symbol for lot in self.lots if lot.qty > 0})


def _same(expected: str, given: str) -> bool:
    """Compare secrets in constant time (as bytes, so any header text is safe)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def _lot_key(lot: Lot) -> datetime:
    """Sort key for FIFO: acquisition time (stable sort keeps insertion order on ties)."""
    return lot.acquired_at


@dataclass
class BrokerState:
    """Everything the broker knows; guarded by the broker's lock."""

    accounts: dict[str, Account] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=default_assets)
    history: dict[str, list[PricePoint]] = field(default_factory=dict)
    seq: int = 0
    # Seeds the synthetic daily history before the recorded prices (``history``).
    history_seed: int = DEFAULT_SEED
    clock: SimClock = field(default_factory=SimClock, metadata={"persist": False})

    def next_seq(self) -> int:
        """Return a new sequence number, to order events that share an instant."""
        self.seq += 1
        return self.seq

    def asset(self, key: str) -> Asset | None:
        """Find an asset by symbol or id."""
        return find_asset(self.assets, key)

    def account_by_keys(self, key_id: str, secret: str) -> Account | None:
        """Return the account an API key pair belongs to."""
        for account in self.accounts.values():
            if account.api_key_id == key_id and _same(account.secret_key, secret):
                return account
        return None

    def account_by_token(self, token: str) -> Account | None:
        """Return the account an OAuth token belongs to."""
        for account in self.accounts.values():
            if _same(account.oauth_token, token):
                return account
        return None

    def prices_of(self, symbol: str) -> list[PricePoint]:
        """Return a symbol's price history, seeding it with the price known at start."""
        if symbol not in self.history:
            self.history[symbol] = [PricePoint(HISTORY_START, self.assets[symbol].price)]
        return self.history[symbol]

    def set_price(self, symbol: str, price: Decimal, at: datetime) -> None:
        """Set an asset's price and record it in the history (kept sorted by time)."""
        points = self.prices_of(symbol)
        index = bisect.bisect_right(points, at, key=lambda p: p.at)
        points.insert(index, PricePoint(at, price))
        self.assets[symbol].price = price

    def price_at(self, symbol: str, moment: datetime) -> Decimal:
        """Return the last price set at or before an instant."""
        points = self.prices_of(symbol)
        index = bisect.bisect_right(points, moment, key=lambda p: p.at)
        return points[max(index - 1, 0)].price
