"""`rebalancer kill-switch on|off|status`: the admin switch of all trading.

Wording (the project's: "kill-switch off" = trading refused, as in `TradingDisabled`):
`on` and `off` name the state of TRADING, i.e. of `trading_enabled`:
- `off` (alias `halt`): trading_enabled=false. Every order is refused ("kill-switch engaged").
- `on` (alias `resume`): trading_enabled=true ("kill-switch released").
Every answer spells it out: "trading is OFF (kill-switch engaged)".
"""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import datetime
from typing import Any

from rebalancer_cli.failures import Exit
from rebalancer_cli.output import GREEN, RED, Out
from rebalancer_cli.wiring import Target, firestore

DOCUMENT = ("systemStatus", "risk_management")
ACTIONS = {"on": "on", "resume": "on", "off": "off", "halt": "off", "status": "status"}


def operator(args: argparse.Namespace) -> str:
    """Who flips the switch: --by, else $USER (else the login name)."""
    if args.by:
        return str(args.by)
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def run(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Write or read `systemStatus/risk_management`; then report what the engine will do."""
    from google.cloud.firestore import SERVER_TIMESTAMP

    action = ACTIONS[args.action]
    ref = firestore(target).collection(DOCUMENT[0]).document(DOCUMENT[1])
    if action != "status":
        change: dict[str, Any] = {
            "trading_enabled": action == "on",
            "reason": args.reason
            or ("turned off from the CLI" if action == "off" else "turned on from the CLI"),
            "updated_by": operator(args),
            "updated_at": SERVER_TIMESTAMP,
        }
        ref.set(change, merge=True)
    snapshot = ref.get()
    state = describe(snapshot.to_dict() if snapshot.exists else None)
    state["project"] = target.project
    if action != "status":
        state["changed"] = action
    if out.json:
        out.document(state)
    else:
        print_state(state, out)
    return Exit.OK


def describe(document: dict[str, Any] | None) -> dict[str, Any]:
    """The switch as the engine reads it (`KillSwitch`): a missing document means trading on."""
    from rebalancer.domain.risk import KillSwitch

    document = document or {}
    switch = KillSwitch(
        trading_enabled=bool(document.get("trading_enabled", True)),
        drawdown_recovery_mode=bool(document.get("drawdown_recovery_mode", False)),
        reason=document.get("reason"),
    )
    updated = document.get("updated_at")
    return {
        "trading": "on" if switch.allows_orders else "off",
        "kill_switch_engaged": not switch.allows_orders,
        "trading_enabled": switch.trading_enabled,
        "drawdown_recovery_mode": switch.drawdown_recovery_mode,
        "reason": switch.reason,
        "refusal": switch.refusal,
        "updated_by": document.get("updated_by"),
        "updated_at": updated.isoformat() if isinstance(updated, datetime) else updated,
        "document_exists": bool(document),
    }


def print_state(state: dict[str, Any], out: Out) -> None:
    """One unambiguous line, then the details."""
    if state["kill_switch_engaged"]:
        why = "drawdown recovery mode" if state["trading_enabled"] else "kill-switch engaged"
        out.line(out.paint(f"trading is OFF ({why}): every order is refused", RED))
    else:
        out.line(out.paint("trading is ON (kill-switch released): orders may be placed", GREEN))
    out.line(f"  reason:   {state['reason'] or '-'}")
    out.line(f"  by:       {state['updated_by'] or '-'}")
    out.line(f"  at:       {state['updated_at'] or '-'}")
    out.line(
        f"  document: systemStatus/risk_management in {state['project']} "
        f"(trading_enabled={str(state['trading_enabled']).lower()}, "
        f"drawdown_recovery_mode={str(state['drawdown_recovery_mode']).lower()})"
        + ("" if state["document_exists"] else " [missing: trading is on by default]")
    )
