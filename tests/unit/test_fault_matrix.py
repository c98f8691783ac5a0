"""The fault matrix: every money-path scenario of issue 10 under every broker fault.

Each cell runs one scenario with one fault on the in-memory adapters, then lets the day
finish (market open, trading on, tasks delivered again, fills arriving) and counts what
must stay zero: orders sent twice, orders on another account than their plan's, oversold
or overdrawn accounts, plans left queued or executing. `scripts/fault-matrix` prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from rebalancer.domain.errors import BrokerRateLimited, BrokerUnavailable
from rebalancer.domain.models import Side
from rebalancer.service.drift_check import check_drift
from rebalancer.service.executor import FRESH_S, LEASE_S
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.proposals import propose_plan
from rebalancer.service.stored_plans import cancel_plan, run_plan, run_plan_task

from .engine_world import World
from .test_services import UID

pytestmark = pytest.mark.unit


def _two_checks_while_closed(w: World) -> None:
    for broker in w.brokers.values():
        broker.market_open = False
    w.attempt(lambda: check_drift(UID, w.ports, dry_run=False))
    w.attempt(lambda: check_drift(UID, w.ports, dry_run=False))
    for broker in w.brokers.values():
        broker.market_open = True
    w.ports.clock.sleep(FRESH_S + 1)
    w.deliver_tasks()


def _relink_between_propose_and_execute(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    link_broker(UID, BrokerCredentials("keyB", "secret"), w.ports)
    w.attempt(lambda: run_plan(UID, plan, w.ports))


def _relink_while_executing(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    w.flags["rest"] = True
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    link_broker(UID, BrokerCredentials("keyB", "secret"), w.ports)
    w.ports.clock.sleep(LEASE_S + 1)
    w.deliver_tasks()
    w.attempt(lambda: cancel_plan(UID, plan, w.ports))


def _stale_quantities(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    w.brokers["keyA"].qty["SPY"] = D(2)  # sold elsewhere after the plan was made
    w.attempt(lambda: run_plan(UID, plan, w.ports))


def _proposal_after_another_plan_ran(w: World) -> None:
    stale = propose_plan(UID, w.ports).plan_id
    w.attempt(lambda: check_drift(UID, w.ports, dry_run=False))
    w.attempt(lambda: run_plan(UID, stale, w.ports))


def _lease_expires_mid_run(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    broker = w.brokers["keyA"]
    real = broker.submit_order

    def stall_then_resume(intent: Any) -> Any:
        answer = real(intent)
        if intent.side is Side.SELL and not w.flags.get("stalled"):
            w.flags["stalled"] = True
            w.ports.clock.sleep(LEASE_S + 1)
            w.deliver_tasks()  # the watch task takes over
            w.attempt(lambda: run_plan(UID, plan, w.ports))
        return answer

    broker.submit_order = stall_then_resume  # type: ignore[method-assign]
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    broker.submit_order = real  # type: ignore[method-assign]


def _cut_off_by_the_budget(w: World) -> None:
    w.store.update_settings(UID, {"fill_wait_seconds": 300}, w.ports.clock.now())
    plan = propose_plan(UID, w.ports).plan_id
    w.flags["rest"] = True
    w.attempt(lambda: run_plan(UID, plan, w.ports))


def _cancel_mid_run(w: World) -> None:
    w.store.update_settings(UID, {"fill_wait_seconds": 300}, w.ports.clock.now())
    plan = propose_plan(UID, w.ports).plan_id
    w.flags["rest"] = True
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    w.attempt(lambda: cancel_plan(UID, plan, w.ports))


def _double_click_and_task_twice(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    w.deliver_tasks()
    w.deliver_tasks()


def _forged_task_for_a_proposal(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    w.attempt(lambda: run_plan_task(UID, plan, w.ports))
    w.attempt(lambda: run_plan_task("someone-else", plan, w.ports))


def _kill_switch_mid_run(w: World) -> None:
    plan = propose_plan(UID, w.ports).plan_id
    broker = w.brokers["keyA"]
    real = broker.submit_order

    def flip(intent: Any) -> Any:
        answer = real(intent)
        w.kill(True)
        return answer

    broker.submit_order = flip  # type: ignore[method-assign]
    w.attempt(lambda: run_plan(UID, plan, w.ports))
    broker.submit_order = real  # type: ignore[method-assign]


SCENARIOS: dict[str, Callable[[World], None]] = {
    "two checks while closed": _two_checks_while_closed,
    "relink, then execute": _relink_between_propose_and_execute,
    "relink while executing": _relink_while_executing,
    "stale quantities": _stale_quantities,
    "proposal after a run": _proposal_after_another_plan_ran,
    "lease expires mid-run": _lease_expires_mid_run,
    "cut off by the budget": _cut_off_by_the_budget,
    "cancel mid-run": _cancel_mid_run,
    "two clicks, task twice": _double_click_and_task_twice,
    "forged task": _forged_task_for_a_proposal,
    "kill-switch mid-run": _kill_switch_mid_run,
}


def _no_fault(w: World) -> None:
    return


def _http_503(w: World) -> None:
    for broker in w.brokers.values():
        broker.fail_submit.extend([BrokerUnavailable("broker error 503", status=503)] * 2)


def _answer_lost(w: World) -> None:
    w.flags["crash"] = True  # the broker takes the order, the function dies


def _rate_limited(w: World) -> None:
    for broker in w.brokers.values():
        broker.fail_submit.extend(
            [BrokerRateLimited("rate limited", status=429, retry_after_s=1)] * 3
        )


def _orders_rest(w: World) -> None:
    w.flags["rest"] = True


FAULTS: dict[str, Callable[[World], None]] = {
    "none": _no_fault,
    "503": _http_503,
    "answer lost": _answer_lost,
    "429 burst": _rate_limited,
    "orders rest": _orders_rest,
}


def run_cell(scenario: str, fault: str) -> dict[str, int]:
    """One scenario under one fault, then the rest of the day; the counts."""
    world = World.new(D(1000), {"SPY": D(100), "QQQ": D(50), "TLT": D(100), "GLD": D(40)})
    FAULTS[fault](world)
    world.attempt(lambda: SCENARIOS[scenario](world))
    world.finish_the_day()
    return world.counts()


def matrix() -> list[str]:
    """The matrix as text: per cell, orders sent and any nonzero count."""
    width = max(len(s) for s in SCENARIOS)
    lines = [f"{'scenario':<{width}}  " + "  ".join(f"{f:>12}" for f in FAULTS)]
    for scenario in SCENARIOS:
        cells = []
        for fault in FAULTS:
            counts = run_cell(scenario, fault)
            bad = [f"{k} {v}" for k, v in counts.items() if k != "orders" and v]
            cells.append(f"{('; '.join(bad) or str(counts['orders']) + ' ok'):>12}")
        lines.append(f"{scenario:<{width}}  " + "  ".join(cells))
    return lines


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_no_order_twice_or_astray_and_nothing_stuck(scenario: str, fault: str) -> None:
    counts = run_cell(scenario, fault)
    assert {k: v for k, v in counts.items() if k != "orders"} == {
        "twice": 0,
        "wrong account": 0,
        "while off": 0,
        "short": 0,
        "stuck": 0,
    }, counts


if __name__ == "__main__":
    print("\n".join(matrix()))
