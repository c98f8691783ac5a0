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

import os
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
)

from rebalancer.domain.errors import BrokerUnavailable
from rebalancer.service.drift_check import check_drift
from rebalancer.service.executor import LEASE_S
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.proposals import propose_plan
from rebalancer.service.stored_plans import cancel_plan, run_plan, run_plan_task

from .engine_world import PRICES, World
from .test_services import UID

pytestmark = pytest.mark.unit

MUST_BE_ZERO = ("twice", "wrong account", "while off", "short")


class EngineMachine(RuleBasedStateMachine):
    """One user, two accounts, and everything that can happen to a plan."""

    plans = Bundle("plans")

    def __init__(self) -> None:
        super().__init__()
        self.w = World.new(D(2000), {"SPY": D(10), "QQQ": D(2), "TLT": D(10), "GLD": D(2)})

    # --- what users, admins, brokers and infrastructure do -------------------------------

    @rule(target=plans)
    def propose(self) -> str:
        """A user asks for a plan to review."""
        proposal = self.w.attempt(lambda: propose_plan(UID, self.w.ports))
        return proposal.plan_id if proposal is not None else "no-such-plan"

    @rule()
    def check(self) -> None:
        """A user (or the nightly run) checks and rebalances."""
        self.w.attempt(lambda: check_drift(UID, self.w.ports, dry_run=False))

    @rule(plan=plans)
    def execute(self, plan: str) -> None:
        """A user clicks execute (maybe twice)."""
        self.w.attempt(lambda: run_plan(UID, plan, self.w.ports))

    @rule(plan=plans)
    def cancel(self, plan: str) -> None:
        """A user cancels."""
        self.w.attempt(lambda: cancel_plan(UID, plan, self.w.ports))

    @rule(plan=plans)
    def forged_task(self, plan: str) -> None:
        """A task body naming any plan, delivered to the task function."""
        self.w.attempt(lambda: run_plan_task(UID, plan, self.w.ports))

    @rule()
    def deliver_tasks(self) -> None:
        """Cloud Tasks delivers every task it has (again: deliveries repeat)."""
        self.w.deliver_tasks()

    @rule(key=st.sampled_from(["keyA", "keyB"]))
    def relink(self, key: str) -> None:
        """The user links another account (or the same again)."""
        self.w.attempt(lambda: link_broker(UID, BrokerCredentials(key, "secret"), self.w.ports))

    @rule()
    def crash_after_next_send(self) -> None:
        """The next order reaches the broker and then the process dies."""
        self.w.flags["crash"] = True

    @rule()
    def time_passes(self) -> None:
        """Long enough for any lease to expire and any plan to go stale."""
        self.w.ports.clock.sleep(LEASE_S + 1)

    @rule(off=st.booleans())
    def kill_switch(self, off: bool) -> None:
        """An admin flips the kill-switch."""
        self.w.kill(off)

    @rule(symbol=st.sampled_from(sorted(PRICES)), factor=st.sampled_from(["0.8", "1.25"]))
    def price_moves(self, symbol: str, factor: str) -> None:
        """A price moves in both accounts."""
        for broker in self.w.brokers.values():
            broker.prices_usd[symbol] = (broker.prices_usd[symbol] * D(factor)).quantize(D("0.01"))

    @rule(rest=st.booleans())
    def orders_rest(self, rest: bool) -> None:
        """Orders start (or stop) resting open instead of filling at once."""
        self.w.flags["rest"] = rest

    @rule()
    def fills_arrive(self) -> None:
        """Resting orders fill."""
        for broker in self.w.brokers.values():
            broker.fill_resting()

    @rule(is_open=st.booleans())
    def market(self, is_open: bool) -> None:
        """The market opens or closes."""
        for broker in self.w.brokers.values():
            broker.market_open = is_open

    @rule()
    def broker_hiccup(self) -> None:
        """The next order request fails with a 503 (it may or may not have been placed)."""
        for broker in self.w.brokers.values():
            broker.fail_submit.append(BrokerUnavailable("broker error 503", status=503))

    # --- the invariants ------------------------------------------------------------------

    @invariant()
    def nothing_went_wrong(self) -> None:
        """No order twice or astray, nothing sent while off, no account short."""
        counts = self.w.counts()
        assert {k: counts[k] for k in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), counts

    def teardown(self) -> None:
        """With the market open and trading on, tasks and fills finish every plan."""
        self.w.finish_the_day()
        counts = self.w.counts()
        assert {k: counts[k] for k in (*MUST_BE_ZERO, "stuck")} == dict.fromkeys(
            (*MUST_BE_ZERO, "stuck"), 0
        ), counts


EngineMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("MACHINE_EXAMPLES", "400")),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_engine_under_random_interleavings = EngineMachine.TestCase
