"""A broker fake for the engine's random and matrix tests: it refuses nothing but
duplicate order ids, remembers every order with the state of the world when it came, and
can rest orders, crash after accepting one, or fail requests on demand."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from typing import Any

from rebalancer.adapters.in_memory import InMemoryBroker
from rebalancer.domain.errors import BrokerRejected
from rebalancer.domain.models import OrderIntent, OrderResult, Side
from rebalancer.service.ports import BrokerAccount, BrokerPosition


class Crash(BaseException):
    """The function's process dying right after the broker accepted an order."""


@dataclass
class Sent:
    """One order as the broker received it, with what the world was like then."""

    account: str
    intent: OrderIntent
    trading_off: bool


@dataclass
class AuditedBroker(InMemoryBroker):
    """A broker that refuses nothing but duplicates, and remembers every order."""

    audit: list[Sent] = field(default_factory=list)
    world: dict[str, Any] = field(default_factory=dict)
    resting: dict[str, tuple[OrderIntent, D]] = field(default_factory=dict)

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Accept (fill now, or rest when the world says so), or refuse a duplicate id."""
        self._maybe_fail()
        if self.fail_submit:
            raise self.fail_submit.pop(0)
        self.audit.append(Sent(self.account_number, intent, self.world["trading_off"]))
        if intent.client_order_id in self.placed:
            raise BrokerRejected("client_order_id must be unique", status=422)
        price = self.prices_usd[intent.symbol]
        self.orders.append(intent)
        order_id = f"{self.account_number}-{len(self.orders)}"
        result = OrderResult(
            symbol=intent.symbol,
            side=intent.side,
            qty=intent.qty,
            notional_usd=None,
            status="new",
            order_id=order_id,
            client_order_id=intent.client_order_id,
        )
        self.placed[intent.client_order_id or ""] = result
        if self.world["rest"]:
            self.resting[order_id] = (intent, price)
        else:
            self.fill(order_id, intent, price)
        if self.world["crash"]:
            self.world["crash"] = False
            raise Crash
        return self.placed[intent.client_order_id or ""]

    def get_account(self) -> BrokerAccount:
        """As at Alpaca: buying power less what resting buys hold."""
        self._sync_holds()
        return super().get_account()

    def get_positions(self) -> list[BrokerPosition]:
        """As at Alpaca: `qty_available` less what resting sells hold."""
        self._sync_holds()
        return super().get_positions()

    def _sync_holds(self) -> None:
        buys = [(i, p) for i, p in self.resting.values() if i.side is Side.BUY]
        self.open_buys_usd = sum(((i.qty or D(0)) * p for i, p in buys), D(0))
        self.open_sells = {}
        for intent, _ in self.resting.values():
            if intent.side is Side.SELL:
                held = self.open_sells.get(intent.symbol, D(0))
                self.open_sells[intent.symbol] = held + (intent.qty or D(0))

    def fill(self, order_id: str, intent: OrderIntent, price: D) -> None:
        """Move cash and shares and mark the order filled."""
        qty = intent.qty or D(0)
        sign = 1 if intent.side is Side.BUY else -1
        self.qty[intent.symbol] = self.qty.get(intent.symbol, D(0)) + sign * qty
        self.cash_usd -= sign * qty * price
        key = intent.client_order_id or ""
        self.placed[key] = replace(
            self.placed[key], status="filled", filled_qty=qty, filled_avg_price_usd=price
        )
        self.resting.pop(order_id, None)

    def fill_resting(self) -> None:
        """Fill every resting order at the price it was sent at."""
        for order_id, (intent, price) in list(self.resting.items()):
            self.fill(order_id, intent, price)

    def cancel_order(self, order_id: str) -> None:
        """Cancel a resting order."""
        self._maybe_fail()
        if order_id in self.resting:
            intent, _ = self.resting.pop(order_id)
            key = intent.client_order_id or ""
            self.placed[key] = replace(self.placed[key], status="canceled")
