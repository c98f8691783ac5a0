"""One-shot demo, run under the emulators: seed, check drift (dry run), rebalance, show it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from devstack.broker import PaperBroker
from devstack.firebase import Stack
from devstack.seed import expect_ok, seed_demo

FUNCTIONS = {"link_broker", "set_targets", "check_rebalance_drift", "execute_trade", "propose_plan"}


def drift_table(result: dict[str, Any]) -> str:
    """The drift analysis as a text table."""
    lines = [
        f"{'symbol':<8}{'target %':>10}{'actual %':>10}{'drift':>9}{'relative':>10}  action",
    ]
    for row in result["drift_analysis"]:
        relative = row["relative_drift_percent"]
        lines.append(
            f"{row['symbol']:<8}{row['target_percent']:>10.2f}{row['actual_percent']:>10.2f}"
            f"{row['drift_percent']:>+9.2f}{'' if relative is None else f'{relative:+.2f}':>10}"
            f"  {row['action']}{' (critical)' if row['critical'] else ''}"
        )
    lines.append(
        f"portfolio ${result['portfolio_value']:,.2f}, cash ${result['cash']:,.2f}; "
        f"max drift {result['max_drift_percent']:.2f}, total drift "
        f"{result['total_drift_percent']:.2f}; needs rebalance: {result['needs_rebalance']}"
    )
    return "\n".join(lines)


def orders_table(result: dict[str, Any]) -> str:
    """The orders a rebalance placed (and the ones it did not)."""
    rows = [
        f"  {o['side']:<5}{o['symbol']:<6}{o['qty']:>14}  {o['status']:<10}{o['order_id'] or ''}"
        f"{'  ' + o['error'] if o.get('error') else ''}"
        for o in result["trades_executed"] + result["trades_not_executed"]
    ]
    return "\n".join(rows) or "  (none)"


def main() -> int:
    """Run the demo; returns the exit code."""
    report = Path(os.environ.get("DEMO_REPORT", "/dev/stdout"))
    with report.open("w") as out:
        return run(out)


def run(out: Any) -> int:
    """Seed, check, rebalance and check again, writing the story to `out`."""

    def say(*parts: Any) -> None:
        out.write(" ".join(str(p) for p in parts) + "\n")
        out.flush()

    stack = Stack.discover()
    stack.wait_for_functions(FUNCTIONS)
    broker = PaperBroker.start()
    try:
        demo = seed_demo(stack, broker, "demo@example.com")
        token = demo.user.id_token
        say(
            f"\nDemo user {demo.user.email} (uid {demo.user.uid}), paper account "
            f"{demo.account['account_number']}; targets SPY 40, QQQ 30, TLT 20, GLD 10.\n"
        )
        before = expect_ok(stack.call("check_rebalance_drift", {"dry_run": True}, token), "dry run")
        say("check_rebalance_drift({dry_run: true}):")
        say(drift_table(before))
        say(f"message: {before['message']}\n")
        say("propose_plan: the same rebalance by strategy (nothing is placed):")
        for strategy in ("full", "threshold", "band", "tax_aware"):
            plan = expect_ok(stack.call("propose_plan", {"strategy": strategy}, token), strategy)
            totals = plan["totals"]
            say(
                f"  {strategy:<10} {totals['orders']} orders, "
                f"turnover ${totals['turnover']:>9,.2f}, "
                f"estimated tax ${totals['estimated_tax']:>7,.2f}, max drift after "
                f"{plan['drift_after']['max_drift_percent']:.2f}"
            )
        say("")
        done = expect_ok(stack.call("check_rebalance_drift", {}, token), "rebalance")
        say("check_rebalance_drift({}): sells first, then buys")
        say(orders_table(done))
        say(
            f"message: {done['message']}; drift log {done['drift_log_id']}, "
            f"history users/{demo.user.uid}/rebalanceHistory/{done['plan_id']}\n"
        )
        after = expect_ok(stack.call("check_rebalance_drift", {"dry_run": True}, token), "after")
        say("after the rebalance:")
        say(drift_table(after))
        return 0
    finally:
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
