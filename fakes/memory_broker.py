"""In-memory broker standing in for Alpaca: a shipped fake for unit tests and benchmarks.

Not deployed (this package lives outside `functions/`); the broker contract tests hold
it and the Alpaca adapter on the paper broker to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from rebalancer.domain.errors import (
    BrokerAuthFailed,
    BrokerError,
    BuyingPowerShort,
    DuplicateOrderId,
)
from rebalancer.domain.models import ZERO, AssetInfo, OrderIntent, OrderResult, Side
from rebalancer.domain.tax import Fill
from rebalancer.service.ports import (
    BrokerAccount,
    BrokerCredentials,
    BrokerPosition,
    MarketClock,
)


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
