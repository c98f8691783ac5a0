"""In-memory broker standing in for Alpaca: a shipped fake for unit tests and benchmarks.

Not deployed (this package lives outside `functions/`); the broker contract tests
(`tests/contract/test_broker_contract.py`) hold it and the Alpaca adapter on the paper
broker to the same behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from paper_broker.market_calendar import holidays as nyse_holidays
from rebalancer.domain.errors import (
    BrokerAuthFailed,
    BrokerError,
    BrokerRejected,
    BuyingPowerShort,
    DuplicateOrderId,
)
from rebalancer.domain.models import ZERO, AssetInfo, OrderIntent, OrderResult, OrderType, Side
from rebalancer.domain.tax import Fill
from rebalancer.service.ports import (
    BrokerAccount,
    BrokerCredentials,
    BrokerPosition,
    Clock,
    MarketClock,
)

NEW_YORK = ZoneInfo("America/New_York")
CENT = Decimal("0.01")
QTY_STEP = Decimal("1e-9")
INVALID, FORBIDDEN, NOT_FOUND = 40010001, 40310000, 40410000  # Alpaca's error codes


def _cents(amount: Decimal) -> Decimal:
    """Money as Alpaca reports it: rounded to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _floor_qty(qty: Decimal) -> Decimal:
    """A notional order's quantity: rounded down to 9 decimals, as Alpaca fills it."""
    return qty.quantize(QTY_STEP, rounding=ROUND_DOWN)


@dataclass
class InMemoryBroker:
    """An Alpaca account in memory, behaving as the Alpaca adapter on the paper broker does.

    An order is answered as accepted (`new` while the market is open, `accepted` while it
    is closed; crypto always trades) and, when it can, fills at once at the current price:
    like Alpaca, the fill shows when the order is read again. A market order sent while
    the market is closed, or a limit order that does not cross, stays open, holding buying
    power (buys) or shares (sells), until a later request finds that it can fill (the
    market opened, the price crossed) or it is cancelled. `fail_next` raises once on the
    next request, `fail_submit` on the next order.

    `open_buys_usd` and `open_sells` stand for cash and shares that orders placed
    elsewhere hold (a test sets them): they come off buying power and `qty_available`,
    as at Alpaca. Positions seeded through `qty` without `fills` have a zero cost basis
    (shares transferred in); the basis is otherwise that of the fills, first in first out.
    With a `clock`, orders are stamped with its time (`recent_orders` filters on it) and
    fills dated by its New York date; without one, fills are dated `today` and every
    order counts as recent. Trading days are NYSE's, less `holidays` too.
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
    clock: Clock | None = None
    open_orders: dict[str, OrderIntent] = field(default_factory=dict)
    submitted_at: dict[str, datetime] = field(default_factory=dict)
    daily_closes: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    # Reading the account

    def get_account(self) -> BrokerAccount:
        """Cash, value, and buying power: cash less what open buy orders hold."""
        self._maybe_fail()
        self._fill_what_can()
        value = self.cash_usd + sum((q * self.prices_usd[s] for s, q in self.qty.items()), ZERO)
        held = self.open_buys_usd + sum(
            (self._buy_hold(i) for i in self.open_orders.values() if i.side is Side.BUY), ZERO
        )
        power = max(self.cash_usd - held, ZERO)
        return BrokerAccount(self.account_number, "ACTIVE", self.cash_usd, value, power)

    def get_positions(self) -> list[BrokerPosition]:
        """Positions valued at the current prices, by symbol."""
        self._maybe_fail()
        self._fill_what_can()
        basis = self._cost_basis()
        return [
            BrokerPosition(
                s,
                q,
                self.prices_usd[s],
                q * self.prices_usd[s],
                basis.get(s, ZERO),
                max(q - self._sell_held(s), ZERO),
            )
            for s, q in sorted(self.qty.items())
            if q
        ]

    def get_fills(self) -> list[Fill]:
        """Every fill so far, oldest first (seed lots by appending buy fills)."""
        self._maybe_fail()
        self._fill_what_can()
        return list(self.fills)

    def get_assets(self, symbols: Iterable[str]) -> dict[str, AssetInfo]:
        """Known assets; symbols with a price default to tradable and fractionable."""
        known = self._known_assets()
        return {s: known[s] for s in symbols if s in known}

    def get_latest_prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Prices of known symbols."""
        return {s: self.prices_usd[s] for s in symbols if s in self.prices_usd}

    def get_daily_closes(
        self, symbols: Iterable[str], start: date, end: date
    ) -> dict[str, list[tuple[date, Decimal]]]:
        """The `daily_closes` a test set, from `start` to `end` and oldest first.

        Crypto pairs and symbols without closes in the range are left out, as on Alpaca.
        """
        self._maybe_fail()
        picked = {
            symbol: sorted(
                (day, close)
                for day, close in self.daily_closes.get(symbol, [])
                if start <= day <= end
            )
            for symbol in set(symbols)
            if "/" not in symbol
        }
        return {symbol: closes for symbol, closes in picked.items() if closes}

    def get_clock(self) -> MarketClock:
        """Open or closed, as set."""
        return MarketClock(self.market_open, self.next_open)

    def trading_days(self, start: date, end: date) -> set[date]:
        """Weekdays that are not NYSE holidays, less `holidays`."""
        days = {start + timedelta(days=k) for k in range((end - start).days + 1)}
        return {
            d
            for d in days
            if d.weekday() < 5 and d not in self.holidays and d not in nyse_holidays(d.year)
        }

    # Orders

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Accept an order (or refuse it as Alpaca would) and fill it when it can."""
        self._maybe_fail()
        if self.fail_submit:
            raise self.fail_submit.pop(0)
        self._fill_what_can()
        asset = self._tradable_asset(intent)
        if intent.client_order_id and intent.client_order_id in self.placed:
            raise DuplicateOrderId(
                "client_order_id must be unique", status=422, broker_code=INVALID
            )
        self._check_funds(intent)
        self.orders.append(intent)
        order_id = f"order-{len(self.orders)}"
        client_order_id = intent.client_order_id or str(uuid.uuid4())
        trading = self.market_open or asset.asset_class == "crypto"
        result = OrderResult(
            symbol=intent.symbol,
            side=intent.side,
            qty=intent.qty,
            notional_usd=intent.notional_usd,
            status="new" if trading else "accepted",
            order_id=order_id,
            client_order_id=client_order_id,
        )
        self.placed[client_order_id] = result
        if self.clock is not None:
            self.submitted_at[order_id] = self.clock.now()
        self.open_orders[order_id] = replace(intent, client_order_id=client_order_id)
        self._fill_what_can()
        return result  # as accepted: a fill shows when the order is read again

    def get_order(self, order_id: str) -> OrderResult:
        """An order placed here, by id; an unknown id is a 404."""
        self._maybe_fail()
        self._fill_what_can()
        for order in self.placed.values():
            if order.order_id == order_id:
                return order
        raise BrokerRejected("order not found", status=404, broker_code=NOT_FOUND)

    def recent_orders(self, since: datetime) -> list[OrderResult]:
        """Orders submitted after `since`, newest first (all of them when there is no clock)."""
        self._maybe_fail()
        self._fill_what_can()
        found = [
            o
            for o in self.placed.values()
            if (at := self.submitted_at.get(o.order_id or "")) is None or at > since
        ]
        return found[::-1]

    def find_order(self, client_order_id: str) -> OrderResult | None:
        """An order placed here, by client order id."""
        self._maybe_fail()
        self._fill_what_can()
        return self.placed.get(client_order_id)

    def cancel_order(self, order_id: str) -> None:
        """Cancel an open order; a finished or unknown one is left as it is."""
        self._maybe_fail()
        self._fill_what_can()
        intent = self.open_orders.pop(order_id, None)
        if intent is not None:
            self._update(intent, status="canceled")

    # The rules

    def _known_assets(self) -> dict[str, AssetInfo]:
        return {s: AssetInfo(s, True, True) for s in self.prices_usd} | self.assets

    def _tradable_asset(self, intent: OrderIntent) -> AssetInfo:
        """The asset an order is for, refused (422) as Alpaca does when it cannot trade."""
        asset = self._known_assets().get(intent.symbol)
        if asset is None or intent.symbol not in self.prices_usd:
            raise BrokerRejected(
                f'asset "{intent.symbol}" not found', status=422, broker_code=INVALID
            )
        if not asset.tradable:
            raise BrokerRejected(
                f"asset {intent.symbol} is not tradable", status=422, broker_code=INVALID
            )
        fractional = intent.notional_usd is not None or (
            intent.qty is not None and intent.qty != intent.qty.to_integral_value()
        )
        if fractional and not asset.fractionable:
            raise BrokerRejected(
                f"asset {intent.symbol} is not fractionable", status=422, broker_code=INVALID
            )
        return asset

    def _check_funds(self, intent: OrderIntent) -> None:
        """Refuse (403) a buy beyond buying power or a sell beyond the shares available."""
        if intent.side is Side.BUY:
            held = self.open_buys_usd + sum(
                (self._buy_hold(i) for i in self.open_orders.values() if i.side is Side.BUY),
                ZERO,
            )
            if self._buy_hold(intent) > max(self.cash_usd - held, ZERO):
                raise BuyingPowerShort(
                    "insufficient buying power", status=403, broker_code=FORBIDDEN
                )
            return
        wanted = self._sell_hold(intent)
        available = max(self.qty.get(intent.symbol, ZERO) - self._sell_held(intent.symbol), ZERO)
        if wanted > available:
            raise BuyingPowerShort(
                f"insufficient qty available for order (requested: {wanted}, "
                f"available: {available})",
                status=403,
                broker_code=FORBIDDEN,
            )

    def _buy_hold(self, intent: OrderIntent) -> Decimal:
        """The cash an open buy holds: its notional, or its shares at its limit (or price)."""
        if intent.notional_usd is not None:
            return intent.notional_usd
        limited = intent.order_type is OrderType.LIMIT and intent.limit_price_usd is not None
        price = intent.limit_price_usd if limited else self.prices_usd[intent.symbol]
        return (intent.qty or ZERO) * (price or ZERO)

    def _sell_hold(self, intent: OrderIntent) -> Decimal:
        """The shares an open sell holds."""
        if intent.qty is not None:
            return intent.qty
        return _floor_qty((intent.notional_usd or ZERO) / self.prices_usd[intent.symbol])

    def _sell_held(self, symbol: str) -> Decimal:
        open_sells = (
            self._sell_hold(i)
            for i in self.open_orders.values()
            if i.side is Side.SELL and i.symbol == symbol
        )
        return self.open_sells.get(symbol, ZERO) + sum(open_sells, ZERO)

    def _fill_what_can(self) -> None:
        """Fill the open orders that can fill now, oldest first (as Alpaca, lazily)."""
        for order_id, intent in list(self.open_orders.items()):
            asset = self._known_assets().get(intent.symbol)
            crypto = asset is not None and asset.asset_class == "crypto"
            if not (self.market_open or crypto):
                continue
            price = self.prices_usd[intent.symbol]
            limit = intent.limit_price_usd if intent.order_type is OrderType.LIMIT else None
            if limit is not None and (price > limit if intent.side is Side.BUY else price < limit):
                self._update(intent, status="new")
                continue
            del self.open_orders[order_id]
            self._fill(intent, price)

    def _fill(self, intent: OrderIntent, price: Decimal) -> None:
        """Fill in full at `price`: cash moves by the value to the cent; a fill is recorded."""
        qty = intent.qty
        if qty is None:
            qty = _floor_qty((intent.notional_usd or ZERO) / price)
        held = self.qty.get(intent.symbol, ZERO)
        if intent.side is Side.SELL:
            qty = min(qty, held)
        value = _cents(qty * price)
        if qty <= ZERO or (intent.side is Side.BUY and value > self.cash_usd):
            self._update(intent, status="rejected")  # a cash account never goes negative
            return
        sign = 1 if intent.side is Side.BUY else -1
        self.qty[intent.symbol] = held + sign * qty
        self.cash_usd -= sign * value
        on = self.clock.now().astimezone(NEW_YORK).date() if self.clock else self.today
        self.fills.append(Fill(intent.symbol, intent.side, qty, price, on, len(self.fills)))
        self._update(intent, status="filled", filled_qty=qty, filled_avg_price_usd=price)

    def _update(self, intent: OrderIntent, **changes: Any) -> None:
        key = intent.client_order_id or ""
        if key in self.placed:
            self.placed[key] = replace(self.placed[key], **changes)

    def _cost_basis(self) -> dict[str, Decimal]:
        """Cost basis per symbol: the fills' lots, first in first out, cut to what is held."""
        lots: dict[str, list[list[Decimal]]] = {}
        for fill in self.fills:
            book = lots.setdefault(fill.symbol, [])
            if fill.side is Side.BUY:
                book.append([fill.qty, fill.price_usd])
            else:
                _relieve(book, fill.qty)
        basis: dict[str, Decimal] = {}
        for symbol, book in lots.items():
            have = sum((lot[0] for lot in book), ZERO)
            _relieve(book, have - self.qty.get(symbol, ZERO))  # shares gone without a fill
            basis[symbol] = sum((q * p for q, p in book), ZERO)
        return basis


def _relieve(book: list[list[Decimal]], qty: Decimal) -> None:
    """Take `qty` shares out of the oldest lots first."""
    left = qty
    for lot in book:
        if left <= ZERO:
            break
        taken = min(lot[0], left)
        lot[0] -= taken
        left -= taken
    book[:] = [lot for lot in book if lot[0] > ZERO]


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
