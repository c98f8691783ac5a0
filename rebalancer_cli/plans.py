"""`rebalancer generate` (propose a plan, store it as proposed) and `rebalancer execute`."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from rebalancer_cli.failures import CliError, Exit
from rebalancer_cli.output import (
    Column,
    Out,
    csv_text,
    jsonable,
    money,
    number,
    qty,
    table,
)
from rebalancer_cli.wiring import Target, ports

BASKET_FIELDS = ["plan_id", "symbol", "side", "qty", "estimated_value", "estimated_tax"]


def generate(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Propose a plan with `propose_plan` (stored as proposed; nothing is placed)."""
    from rebalancer.domain.settings import Strategy
    from rebalancer.entrypoints import responses as shapes
    from rebalancer.service.proposals import propose_plan

    proposal = propose_plan(
        args.uid, ports(target), Strategy(args.strategy), args.invest, args.raise_usd
    )
    answer = shapes.proposal(proposal)
    basket = basket_rows(answer)
    if args.basket is not None:
        write_basket(args.basket, answer["plan_id"], basket)
    if out.json:
        out.document({"uid": args.uid, **answer})
    elif args.format == "json":
        plan = {"plan_id": answer["plan_id"], "strategy": answer["strategy"]}
        out.document({**plan, "basket": basket})
    elif args.format == "csv":
        out.stream.write(csv_text(BASKET_FIELDS, [[r[f] for f in BASKET_FIELDS] for r in basket]))
    else:
        print_plan(answer, args.uid, out)
    return Exit.OK


def basket_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The orders of a proposal, for scripts: plan id, symbol, side, qty, value, tax."""
    return [
        {
            "plan_id": answer["plan_id"],
            "symbol": t["symbol"],
            "side": t["side"],
            "qty": t["qty"],
            "estimated_value": t["estimated_value"],
            "estimated_tax": t["estimated_tax"],
        }
        for t in answer["trades"]
    ]


def write_basket(path: Path, plan_id: str, basket: list[dict[str, Any]]) -> None:
    """The basket to a file: JSON when it ends in .json, else CSV."""
    import json

    if path.suffix.lower() == ".json":
        text = json.dumps(jsonable({"plan_id": plan_id, "basket": basket}), indent=2) + "\n"
    else:
        text = csv_text(BASKET_FIELDS, [[r[f] for f in BASKET_FIELDS] for r in basket])
    try:
        path.write_text(text)
    except OSError as error:
        raise CliError(Exit.USAGE, f"--basket {path}: {error.strerror}") from None


TRADE_COLUMNS = [
    Column("side"),
    Column("symbol"),
    Column("qty", right=True),
    Column("price", right=True),
    Column("est. value", right=True),
    Column("cost", right=True),
    Column("ST gain", right=True),
    Column("LT gain", right=True),
    Column("est. tax", right=True),
    Column("drift removed", right=True),
    Column("reason"),
]


def print_plan(answer: dict[str, Any], uid: str, out: Out) -> None:
    """A proposal: its trades, notes and totals, and how to execute it."""
    out.line(f"plan {answer['plan_id']}  ({answer['strategy']}, proposed: nothing is placed)")
    trades = answer["trades"]
    if trades:
        table(
            TRADE_COLUMNS,
            (
                [
                    t["side"],
                    t["symbol"],
                    qty(t["qty"]),
                    money(t["price"]),
                    money(t["estimated_value"]),
                    money(t["estimated_cost"]),
                    money(t["short_term_gain"]),
                    money(t["long_term_gain"]),
                    money(t["estimated_tax"]),
                    number(t["drift_removed_percent"]),
                    t["reason"],
                ]
                for t in trades
            ),
            out,
        )
    else:
        out.line("no trades")
    for note in answer["notes"]:
        rule = f" [{note['rule']}]" if note.get("rule") else ""
        out.line(f"note: {note['symbol'] or '-'}: {note['message']}{rule}")
    totals = answer["totals"]
    out.line(
        f"{totals['orders']} orders: buy {money(totals['buy_value'])}, sell "
        f"{money(totals['sell_value'])}, turnover {money(totals['turnover'])}, cost "
        f"{money(totals['estimated_cost'])}, estimated tax {money(totals['estimated_tax'])}"
    )
    before = answer["drift_before"]["max_drift_percent"]
    after = answer["drift_after"]["max_drift_percent"]
    out.line(
        f"max drift {number(before)} -> {number(after)}; projected cash "
        f"{money(answer['projected_cash'])}"
    )
    if trades:
        out.line(f"execute: rebalancer execute --uid {uid} --plan {answer['plan_id']}")


LEG_COLUMNS = [
    Column("side"),
    Column("symbol"),
    Column("qty", right=True),
    Column("status"),
    Column("filled", right=True),
    Column("avg price", right=True),
    Column("order id"),
    Column("error"),
]
FAILED_PLAN = {"failed", "cancelled"}


def execute(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Run a stored plan through the engine (`run_plan`), after a confirmation."""
    from rebalancer.entrypoints import responses as shapes
    from rebalancer.service.stored_plans import get_plan, run_plan
    from rebalancer.service.trading import kill_switch_refusal

    the_ports = ports(target)
    stored = get_plan(args.uid, args.plan, the_ports)  # NotFound: exit 3
    status = str(stored.get("status"))
    if status not in {"completed_success", "completed_adjusted", "failed", "cancelled"}:
        refusal = kill_switch_refusal(the_ports.system)
        if refusal is not None:
            raise CliError(Exit.REFUSED, f"plan {args.plan} not executed: {refusal}")
        if not args.yes:
            confirm(args, stored, target)
    result = run_plan(args.uid, args.plan, the_ports)
    answer = shapes.plan_document(args.plan, result.document)
    legs = answer.get("legs") or []
    if out.json:
        out.document({"uid": args.uid, **answer})
    else:
        print_legs(answer, legs, out)
    final = str(answer.get("status"))
    refused = [leg for leg in legs if leg.get("status") == "refused"]
    if final in FAILED_PLAN or refused:
        why = (refused[0].get("error") if refused else None) or answer.get("error")
        why = why or answer.get("cancel_reason") or final
        raise CliError(Exit.REFUSED, f"plan {args.plan} {final}: {why}", answered=True)
    return Exit.OK


def confirm(args: argparse.Namespace, stored: dict[str, Any], target: Target) -> None:
    """Ask on the terminal; without one (and without --yes), refuse."""
    if not sys.stdin.isatty():
        raise CliError(
            Exit.USAGE, "execute needs --yes when not run from a terminal (it places orders)"
        )
    account = stored.get("account") or {}
    kind = "paper" if account.get("paper") else "LIVE"
    trades = stored.get("trades") or []
    print(
        f"plan {args.plan} of {args.uid} on {kind} account {account.get('account_number')} "
        f"({target.description}):",
        file=sys.stderr,
    )
    for t in trades:
        print(
            f"  {t['side']:<4} {t['symbol']:<6} {qty(t['qty']):>14}  "
            f"~{money(t['estimated_value'])}",
            file=sys.stderr,
        )
    sys.stderr.write("Place these orders? [y/N] ")
    sys.stderr.flush()
    reply = sys.stdin.readline().strip().lower()
    if reply not in {"y", "yes"}:
        raise CliError(Exit.REFUSED, "not executed: not confirmed")


def print_legs(answer: dict[str, Any], legs: list[dict[str, Any]], out: Out) -> None:
    """The plan's legs and their statuses, then the plan's status."""
    out.line(f"plan {answer['plan_id']}: {answer.get('status')}")
    if legs:
        table(
            LEG_COLUMNS,
            (
                [
                    str(leg.get("side")),
                    str(leg.get("symbol")),
                    qty(leg.get("qty") or leg.get("planned_qty")),
                    str(leg.get("status")),
                    qty(leg.get("filled_qty")),
                    money(leg.get("filled_avg_price")),
                    str(leg.get("order_id") or ""),
                    str(leg.get("error") or ""),
                ]
                for leg in legs
            ),
            out,
        )
    if answer.get("status") == "queued":
        out.line(f"queued for the open: task {answer.get('queued_task')}")
    elif answer.get("status") == "executing":
        out.line("still executing: a task resumes it (waiting for fills)")


def decimal_usd(text: str) -> Decimal:
    """An argparse type: a non-negative dollar amount."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a dollar amount >= 0: {text!r}")
    return value
