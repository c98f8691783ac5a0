"""The execution engine under random interleavings and faults (hypothesis stateful test).

Two accounts, one user. Random sequences of checks, proposals, executions, cancels,
relinks, task deliveries (twice, late), crashes after a send, lease expiry, kill-switch
flips, price moves, fills and the market opening and closing. After every step:
- no client order id reaches a broker twice;
- every order goes to the account its plan was made for;
- no account ever holds negative cash or shares (never sold more than held, never spent
  cash that was not there: this broker refuses nothing, so the engine alone keeps it);
- nothing is sent while the kill-switch is off.
At the end, after the market opens and the tasks resume, no plan is queued or executing.
"""

from __future__ import annotations

import contextlib
import os
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
)

from rebalancer.adapters.in_memory import (
    FixedClock,
    InMemoryConnector,
    InMemoryStore,
    InMemoryTaskQueue,
    PlainVault,
)
from rebalancer.domain.errors import BrokerUnavailable, RebalancerError
from rebalancer.domain.risk import KillSwitch
from rebalancer.service.context import Ports
from rebalancer.service.drift_check import check_drift
from rebalancer.service.execution import LEASE_S
from rebalancer.service.linking import link_broker
from rebalancer.service.planning import propose_plan
from rebalancer.service.plans import cancel_plan, run_plan, run_plan_task
from rebalancer.service.ports import BrokerCredentials

from .audited_broker import AuditedBroker, Crash
from .test_services import TARGETS, UID

pytestmark = pytest.mark.unit

PRICES = {"SPY": D(500), "QQQ": D(400), "TLT": D(90), "GLD": D(200)}


EXPECTED = (RebalancerError, Crash)


class EngineMachine(RuleBasedStateMachine):
    """One user, two accounts, and everything that can happen to a plan."""

    plans = Bundle("plans")

    def __init__(self) -> None:
        super().__init__()
        self.world: dict[str, Any] = {"rest": False, "crash": False, "trading_off": False}
        self.brokers = {
            name: AuditedBroker(
                D(2000),
                dict(PRICES),
                {"SPY": D(10), "QQQ": D(2), "TLT": D(10), "GLD": D(2)},
                account_number=number,
                world=self.world,
            )
            for name, number in (("keyA", "PA000000000A"), ("keyB", "PA000000000B"))
        }
        self.store = InMemoryStore()
        self.ports = Ports(
            self.store,
            InMemoryConnector(dict(self.brokers)),
            PlainVault(),
            FixedClock(),
            InMemoryTaskQueue(),
        )
        link_broker(UID, BrokerCredentials("keyA", "secret"), self.ports)
        self.store.targets[UID] = list(TARGETS)
        self.store.update_settings(UID, {"fill_wait_seconds": 3}, self.ports.clock.now())

    def _try(self, action: Any) -> None:
        with contextlib.suppress(*EXPECTED):
            action()

    # --- what users, admins, brokers and infrastructure do -------------------------------

    @rule(target=plans)
    def propose(self) -> str:
        """A user asks for a plan to review."""
        try:
            return propose_plan(UID, self.ports).plan_id
        except EXPECTED:
            return "no-such-plan"

    @rule()
    def check(self) -> None:
        """A user (or the nightly run) checks and rebalances."""
        self._try(lambda: check_drift(UID, self.ports, dry_run=False))

    @rule(plan=plans)
    def execute(self, plan: str) -> None:
        """A user clicks execute (maybe twice)."""
        self._try(lambda: run_plan(UID, plan, self.ports))

    @rule(plan=plans)
    def cancel(self, plan: str) -> None:
        """A user cancels."""
        self._try(lambda: cancel_plan(UID, plan, self.ports))

    @rule(plan=plans)
    def forged_task(self, plan: str) -> None:
        """A task body naming any plan, delivered to the task function."""
        self._try(lambda: run_plan_task(UID, plan, self.ports))

    @rule()
    def deliver_tasks(self) -> None:
        """Cloud Tasks delivers every task it has (again: deliveries repeat)."""
        for _, data, _ in list(self.ports.tasks.tasks.values()):
            self._try(lambda data=data: run_plan_task(data["uid"], data["plan_id"], self.ports))

    @rule(key=st.sampled_from(["keyA", "keyB"]))
    def relink(self, key: str) -> None:
        """The user links another account (or the same again)."""
        self._try(lambda: link_broker(UID, BrokerCredentials(key, "secret"), self.ports))

    @rule()
    def crash_after_next_send(self) -> None:
        """The next order reaches the broker and then the process dies."""
        self.world["crash"] = True

    @rule()
    def time_passes(self) -> None:
        """Long enough for any lease to expire and any plan to go stale."""
        self.ports.clock.sleep(LEASE_S + 1)

    @rule(off=st.booleans())
    def kill_switch(self, off: bool) -> None:
        """An admin flips the kill-switch."""
        self.world["trading_off"] = off
        self.store.kill_switch = KillSwitch(trading_enabled=not off, reason="incident")

    @rule(symbol=st.sampled_from(sorted(PRICES)), factor=st.sampled_from(["0.8", "1.25"]))
    def price_moves(self, symbol: str, factor: str) -> None:
        """A price moves in both accounts."""
        for broker in self.brokers.values():
            broker.prices_usd[symbol] = (broker.prices_usd[symbol] * D(factor)).quantize(D("0.01"))

    @rule(rest=st.booleans())
    def orders_rest(self, rest: bool) -> None:
        """Orders start (or stop) resting open instead of filling at once."""
        self.world["rest"] = rest

    @rule()
    def fills_arrive(self) -> None:
        """Resting orders fill."""
        for broker in self.brokers.values():
            broker.fill_resting()

    @rule(is_open=st.booleans())
    def market(self, is_open: bool) -> None:
        """The market opens or closes."""
        for broker in self.brokers.values():
            broker.market_open = is_open

    @rule()
    def broker_hiccup(self) -> None:
        """The next order request fails with a 503 (it may or may not have been placed)."""
        for broker in self.brokers.values():
            broker.fail_submit.append(BrokerUnavailable("broker error 503", status=503))

    # --- the invariants ------------------------------------------------------------------

    @invariant()
    def no_order_twice(self) -> None:
        """No client order id reaches any broker twice."""
        ids = [s.intent.client_order_id for b in self.brokers.values() for s in b.audit]
        assert len(ids) == len(set(ids)), ids

    @invariant()
    def orders_go_to_their_plans_account(self) -> None:
        """Every order lands on the account its plan was made for."""
        history = self.store.history.get(UID, {})
        for broker in self.brokers.values():
            for sent in broker.audit:
                coid = sent.intent.client_order_id or ""
                plan_id = coid.split("-")[1]
                account = (history[plan_id].get("account") or {}).get("account_number")
                assert account == sent.account, (coid, account, sent.account)

    @invariant()
    def never_short_of_cash_or_shares(self) -> None:
        """Never sold more than held, never spent cash that was not there."""
        for broker in self.brokers.values():
            assert broker.cash_usd >= 0, broker.cash_usd
            assert all(q >= 0 for q in broker.qty.values()), broker.qty

    @invariant()
    def nothing_sent_while_trading_is_off(self) -> None:
        """The kill-switch stops every order."""
        assert not any(s.trading_off for b in self.brokers.values() for s in b.audit)

    def teardown(self) -> None:
        """With the market open and trading on, tasks and fills finish every plan."""
        self.world.update(rest=False, crash=False, trading_off=False)
        self.store.kill_switch = KillSwitch(trading_enabled=True)
        for broker in self.brokers.values():
            broker.market_open = True
            broker.fail_submit.clear()
            broker.fill_resting()
        for _ in range(4):
            self.ports.clock.sleep(LEASE_S + 1)
            self.deliver_tasks()
            for broker in self.brokers.values():
                broker.fill_resting()
        live = {
            plan_id: plan["status"]
            for plan_id, plan in self.store.history.get(UID, {}).items()
            if plan.get("status") in {"queued", "executing"}
        }
        assert live == {}, live
        self.no_order_twice()
        self.orders_go_to_their_plans_account()
        self.never_short_of_cash_or_shares()


EngineMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("MACHINE_EXAMPLES", "400")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_engine_under_random_interleavings = EngineMachine.TestCase
