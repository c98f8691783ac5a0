"""`rebalancer nightly --uid U`: one user's night now (`rebalance_user`), as the task runs it."""

from __future__ import annotations

import argparse
import os
from datetime import date
from typing import Any

from rebalancer_cli.failures import CliError, Exit
from rebalancer_cli.output import Out
from rebalancer_cli.wiring import Target, ports

DEFAULT_TIMEZONE = "America/New_York"  # config.NIGHTLY_TIMEZONE's default


def run(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Run the user's night: drift log, trigger decision, and a plan (executed or alerted)."""
    from rebalancer.service.context import open_broker
    from rebalancer.service.nightly import CALENDAR_WINDOW, night_of, rebalance_user, trading_night

    the_ports = ports(target)
    timezone = os.environ.get("NIGHTLY_TIMEZONE") or DEFAULT_TIMEZONE
    tonight = night_of(the_ports.clock.now(), timezone)
    night: date = args.night or tonight
    result = rebalance_user(args.uid, night, the_ports, timezone)
    answer: dict[str, Any] = {
        "uid": args.uid,
        "night": night.isoformat(),
        "timezone": timezone,
        "skipped": result.skipped,
        "due": result.decision.due if result.decision else None,
        "reason": result.decision.reason if result.decision else None,
        "drift_log_id": None,
        "plan_id": result.plan_id,
        "plan_status": result.plan_status,
        "alert": None,
    }
    if result.decision is not None:
        broker = open_broker(args.uid, the_ports)
        days = broker.trading_days(night - CALENDAR_WINDOW, night + CALENDAR_WINDOW)
        trading = trading_night(night, days)
        answer["trading_day"] = trading.isoformat()
        answer["drift_log_id"] = f"nightly-{trading:%Y%m%d}"
        if result.alert and result.plan_id:
            answer["alert"] = f"users/{args.uid}/driftAlerts/{trading:%Y%m%d}"
    if out.json:
        out.document(answer)
    else:
        print_night(answer, out)
    if result.skipped is not None:
        message = f"night of {args.uid} not run: {result.skipped}"
        raise CliError(Exit.REFUSED, message, answered=True)
    return Exit.OK


def print_night(answer: dict[str, Any], out: Out) -> None:
    """What the night decided and did."""
    out.line(f"night {answer['night']} ({answer['timezone']}) of {answer['uid']}")
    if answer["skipped"]:
        out.line(f"skipped: {answer['skipped']}")
        return
    out.line(f"trading day: {answer['trading_day']}")
    out.line(f"decision: {'due' if answer['due'] else 'not due'}: {answer['reason']}")
    out.line(f"drift log: {answer['drift_log_id']}")
    if answer["plan_id"]:
        out.line(f"plan: {answer['plan_id']} ({answer['plan_status']})")
    if answer["alert"]:
        out.line(f"alert: {answer['alert']} (auto_execute is off: the plan awaits review)")


def night_arg(text: str) -> date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
