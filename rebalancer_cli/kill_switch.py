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
from typing import TYPE_CHECKING, Any

from rebalancer_cli.failures import Exit
from rebalancer_cli.output import GREEN, RED, Out
from rebalancer_cli.wiring import Target, firestore

if TYPE_CHECKING:
    from rebalancer.domain.risk import KillSwitch

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
    """Flip or read the switch through the store port; then report what the engine will do."""
    from datetime import UTC

    from rebalancer.adapters.firestore_store import FirestoreStore

    action = ACTIONS[args.action]
    store = FirestoreStore(firestore(target))
    if action != "status":
        reason = args.reason or f"turned {action} from the CLI"
        store.set_trading(action == "on", reason, operator(args), datetime.now(UTC))
    # Read back as the engine reads it: a value of the wrong type reads as trading off.
    state = describe(store.read_kill_switch())
    state["project"] = target.project
    if action != "status":
        state["changed"] = action
    if out.json:
        out.document(state)
    else:
        print_state(state, out)
    return Exit.OK


def describe(switch: KillSwitch) -> dict[str, Any]:
    """The switch as the engine reads it, for the table and `--json`."""
    return {
        "trading": "on" if switch.allows_orders else "off",
        "kill_switch_engaged": not switch.allows_orders,
        "trading_enabled": switch.trading_enabled,
        "drawdown_recovery_mode": switch.drawdown_recovery_mode,
        "reason": switch.reason,
        "refusal": switch.refusal,
        "updated_by": switch.updated_by,
        "updated_at": switch.updated_at.isoformat() if switch.updated_at else None,
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
    )
