"""`rebalancer check`: the drift table with a bar per asset; a dry run that never trades."""

from __future__ import annotations

import argparse
from typing import Any

from rebalancer_cli.failures import Exit
from rebalancer_cli.output import BOLD, RED, Column, Out, drift_bar, money, number, signed, table
from rebalancer_cli.wiring import Target, ports


def run(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Measure the user's drift (`check_drift(dry_run=True)`: a drift log, no orders)."""
    from rebalancer.entrypoints import responses as shapes
    from rebalancer.service.drift_check import check_drift

    result = check_drift(args.uid, ports(target), dry_run=True)
    answer = shapes.drift_check(result)
    if out.json:
        out.document({"uid": args.uid, **answer})
    else:
        print_drift(answer, out)
    return Exit.OK


COLUMNS = [
    Column("symbol"),
    Column("target %", right=True),
    Column("actual %", right=True),
    Column("drift", right=True),
    Column("relative", right=True),
    Column("band", right=True),
    Column("action"),
    Column("critical"),
    Column("drift (- under | over +)"),
]


def print_drift(answer: dict[str, Any], out: Out) -> None:
    """The drift table, then the totals and the verdict."""
    rows = answer["drift_analysis"]
    scale = max(
        [abs(r["drift_percent"] or 0) for r in rows] + [r["threshold_percent"] or 0 for r in rows]
    )
    scale = max(scale, 1.0)
    cells = []
    for r in rows:
        action = r["action"]
        breach = r["needs_rebalance"]
        cells.append(
            [
                r["symbol"],
                number(r["target_percent"]),
                number(r["actual_percent"]),
                signed(r["drift_percent"]),
                signed(r["relative_drift_percent"]),
                f"±{number(r['threshold_percent'])}",
                out.paint(action, BOLD) if breach else action,
                out.paint("CRITICAL", RED) if r["critical"] else "",
                drift_bar(r["drift_percent"] or 0, r["threshold_percent"] or 0, scale, out),
            ]
        )
    table(COLUMNS, cells, out)
    out.line(
        f"portfolio {money(answer['portfolio_value'])}, cash {money(answer['cash'])} "
        f"({number(answer['cash_percent'])} %); max drift {number(answer['max_drift_percent'])}, "
        f"mean {number(answer['mean_drift_percent'])}, "
        f"total {number(answer['total_drift_percent'])}"
    )
    verdict = "yes" if answer["needs_rebalance"] else "no"
    if answer["critical"]:
        verdict += " (critical)"
    log = answer["drift_log_id"]
    out.line(f"needs rebalance: {verdict}   (dry run, no orders; drift log {log})")
