"""A real crash between placing an order and recording it, then the run resumed.

Real parts: the Firestore adapter on the emulator and the Alpaca adapter (alpaca-py) on
the paper broker. The "process" dies right after the broker accepted the second order.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.broker import PaperBroker
from devstack.seed import DEMO_CASH_USD, DEMO_LOTS
from fakes import InMemoryTaskQueue, PlainVault
from rebalancer.adapters.alpaca_broker import AlpacaConnector
from rebalancer.adapters.firestore_store import FirestoreStore
from rebalancer.domain.execution import PlanStatus
from rebalancer.domain.models import OrderIntent, OrderResult, Target
from rebalancer.service.context import Ports
from rebalancer.service.executor import LEASE_S, execute_plan
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.proposals import propose_plan

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """The process dying: nothing catches it."""


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class CrashingConnector(AlpacaConnector):
    """Alpaca adapter whose brokers die right after the broker accepts order number `after`."""

    def __init__(self, url: str, after: int) -> None:
        super().__init__(url)
        self.after = after
        self.placed = 0

    def connect(self, credentials: BrokerCredentials) -> Any:
        broker = super().connect(credentials)
        real = broker.submit_order

        def submit(intent: OrderIntent) -> OrderResult:
            answer = real(intent)
            self.placed += 1
            if self.placed == self.after:
                raise Crash
            return answer

        broker.submit_order = submit  # type: ignore[method-assign]
        return broker


def test_a_crash_after_the_broker_took_an_order_then_resume(db: Any, paper: PaperBroker) -> None:
    from decimal import Decimal as D

    uid = "resume-" + secrets.token_hex(6)
    account = paper.new_account(DEMO_CASH_USD)
    paper.seed_lots(account["id"], DEMO_LOTS)
    store = FirestoreStore(db)
    clock = Clock(datetime.now(UTC))
    crashing = CrashingConnector(paper.url, after=2)
    ports = Ports.over(store, crashing, PlainVault(), clock, InMemoryTaskQueue())
    link_broker(uid, BrokerCredentials(account["api_key_id"], account["secret_key"]), ports)
    targets = [
        Target("SPY", D(40)),
        Target("QQQ", D(30)),
        Target("TLT", D(20)),
        Target("GLD", D(10)),
    ]
    store.replace_targets(uid, targets, clock.now())
    plan_id = propose_plan(uid, ports).plan_id

    with pytest.raises(Crash):
        execute_plan(uid, plan_id, ports)
    record = store.get_entry(uid, plan_id) or {}
    assert record["status"] == "executing"
    unknown = [leg for leg in record["legs"] if leg["status"] == "submitting"]
    assert unknown and unknown[0]["order_id"] is None  # placed, but the answer was lost

    # A new process, after the dead one's lease expired: resume, with no crash this time.
    clock.at += timedelta(seconds=LEASE_S + 1)
    resumed = Ports.over(
        store, AlpacaConnector(paper.url), PlainVault(), clock, InMemoryTaskQueue()
    )
    result = execute_plan(uid, plan_id, resumed)
    assert result.status is PlanStatus.COMPLETED_SUCCESS

    from alpaca.trading.client import TradingClient
    from alpaca.trading.requests import GetOrdersRequest

    trading = TradingClient(account["api_key_id"], account["secret_key"], url_override=paper.url)
    orders = trading.get_orders(GetOrdersRequest(status="all"))
    ids = Counter(o.client_order_id for o in orders)
    assert len(orders) == 3 and set(ids.values()) == {1}  # no order twice
    final = store.get_entry(uid, plan_id) or {}
    assert final["status"] == "completed_success"
    assert {leg["client_order_id"]: leg["order_id"] for leg in final["legs"]} == {
        o.client_order_id: str(o.id) for o in orders
    }
    counts = paper.counters(account["id"])
    assert counts["POST /v2/orders"] == 3
    assert counts["GET /v2/orders:by_client_order_id"] >= 1  # the lost answer was looked up
