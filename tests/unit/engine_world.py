"""One user with two accounts on in-memory adapters, for the engine's random and matrix
tests: a broker fake that refuses nothing but duplicate order ids and remembers every
order with the state of the world when it came (it can rest orders, crash after accepting
one, or fail requests on demand), and the counts that must stay zero."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from typing import Any

from fakes import (
    FixedClock,
    InMemoryBroker,
    InMemoryConnector,
    InMemoryStore,
    InMemoryTaskQueue,
    PlainVault,
)
from rebalancer.domain.errors import DuplicateOrderId, RebalancerError
from rebalancer.domain.models import OrderIntent, OrderResult, Side
from rebalancer.domain.risk import KillSwitch
from rebalancer.service.context import Ports
from rebalancer.service.executor import LEASE_S
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerAccount, BrokerCredentials, BrokerPosition
from rebalancer.service.stored_plans import run_plan_task

from .test_services import TARGETS, UID

PRICES = {"SPY": D(500), "QQQ": D(400), "TLT": D(90), "GLD": D(200)}


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
            raise DuplicateOrderId("client_order_id must be unique", status=422)
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


EXPECTED = (RebalancerError, Crash)


@dataclass
class World:
    """One user with two paper accounts, on in-memory adapters."""

    ports: Ports
    store: InMemoryStore
    brokers: dict[str, AuditedBroker]
    flags: dict[str, Any]

    @classmethod
    def new(cls, cash_usd: D, qty: dict[str, D]) -> World:
        """Both accounts hold `cash_usd` and `qty`; the user is linked to the first."""
        flags: dict[str, Any] = {"rest": False, "crash": False, "trading_off": False}
        brokers = {
            key: AuditedBroker(
                cash_usd, dict(PRICES), dict(qty), account_number=number, world=flags
            )
            for key, number in (("keyA", "PA000000000A"), ("keyB", "PA000000000B"))
        }
        store = InMemoryStore()
        ports = Ports.over(
            store,
            InMemoryConnector(dict(brokers)),
            PlainVault(),
            FixedClock(),
            InMemoryTaskQueue(),
        )
        link_broker(UID, BrokerCredentials("keyA", "secret"), ports)
        store.targets[UID] = list(TARGETS)
        store.update_settings(UID, {"fill_wait_seconds": 3}, ports.clock.now())
        return cls(ports, store, brokers, flags)

    def attempt(self, action: Callable[[], Any]) -> Any:
        """Run a user's or a task's action; refusals and crashes are part of the game."""
        with contextlib.suppress(*EXPECTED):
            return action()
        return None

    def deliver_tasks(self) -> None:
        """Cloud Tasks delivers every task it holds (again)."""
        for _, data, _ in list(self.ports.tasks.tasks.values()):
            self.attempt(lambda d=data: run_plan_task(d["uid"], d["plan_id"], self.ports))

    def kill(self, off: bool) -> None:
        """An admin flips the kill-switch."""
        self.flags["trading_off"] = off
        self.store.kill_switch = KillSwitch(trading_enabled=not off, reason="incident")

    def finish_the_day(self) -> None:
        """Market open, trading on, no faults: tasks and fills end every plan."""
        self.flags.update(rest=False, crash=False)
        self.kill(False)
        for broker in self.brokers.values():
            broker.market_open = True
            broker.fail_submit.clear()
            broker.fail_next.clear()
            broker.fill_resting()
        for _ in range(4):
            self.ports.clock.sleep(LEASE_S + 1)
            self.deliver_tasks()
            for broker in self.brokers.values():
                broker.fill_resting()

    def counts(self) -> dict[str, int]:
        """What must be zero."""
        sent = [s for b in self.brokers.values() for s in b.audit]
        ids = [s.intent.client_order_id for s in sent]
        history = self.store.history.get(UID, {})

        def plan_account(coid: str) -> str | None:
            plan = history.get(coid.split("-")[1], {})
            return (plan.get("account") or {}).get("account_number")

        return {
            "twice": len(ids) - len(set(ids)),
            "wrong account": sum(
                1 for s in sent if plan_account(s.intent.client_order_id or "") != s.account
            ),
            "while off": sum(1 for s in sent if s.trading_off),
            "short": sum(
                1
                for b in self.brokers.values()
                if b.cash_usd < 0 or any(q < 0 for q in b.qty.values())
            ),
            "stuck": sum(1 for p in history.values() if p.get("status") in {"queued", "executing"}),
            "orders": len(sent),
        }
