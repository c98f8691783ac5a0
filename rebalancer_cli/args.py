"""The command line: global options on every command, one subparser per command."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from rebalancer_cli.failures import Exit
from rebalancer_cli.nightly import night_arg
from rebalancer_cli.plans import decimal_usd

STRATEGIES = ["auto", "full", "threshold", "band", "cash_flow", "tax_aware"]


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line: `rebalancer: error: ...`, exit 2."""

    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit 2."""
        command = self.prog.removeprefix("rebalancer").strip()
        hint = f" (see rebalancer {command} --help)" if command else " (see rebalancer --help)"
        sys.stderr.write(f"rebalancer: error: {message}{hint}\n")
        raise SystemExit(Exit.USAGE)


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def signed_usd(text: str) -> object:
    """An argparse type: a dollar amount, negative for a withdrawal."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}")
    return value


def common() -> Parser:
    """Options every command takes (after its name)."""
    options = Parser(add_help=False)
    where = options.add_argument_group("where")
    where.add_argument(
        "--project",
        help="Firebase project id (default: demo-rebalancer on the emulators; else "
        "GOOGLE_CLOUD_PROJECT or the Application Default Credentials' project)",
    )
    where.add_argument(
        "--emulators",
        action="store_true",
        help="use the local stack's emulators (implied when FIRESTORE_EMULATOR_HOST is set)",
    )
    where.add_argument(
        "--credentials-key-file",
        type=Path,
        metavar="FILE",
        help="file with the vault key (BROKER_CREDENTIALS_KEY) for a real project",
    )
    shown = options.add_argument_group("output")
    shown.add_argument("--json", action="store_true", help="one JSON document on stdout")
    color = shown.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_true", default=None)
    color.add_argument("--no-color", dest="color", action="store_false")
    return options


def parser() -> Parser:
    """The whole command line."""
    top = Parser(
        prog="rebalancer",
        description="Operator CLI of the rebalancer: the same services the functions run.",
        epilog="exit codes: 0 ok, 1 refused or failed, 2 usage, 3 not found (plan, broker, "
        "targets), 4 stack or project unreachable",
    )
    commands = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    shared = [common()]

    def user(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--uid", required=True, help="the user acted on")

    check = commands.add_parser(
        "check", parents=shared, help="drift table with bars (a dry run: never trades)"
    )
    user(check)

    generate = commands.add_parser(
        "generate", parents=shared, help="propose a plan (stored as proposed; nothing placed)"
    )
    user(generate)
    generate.add_argument("--strategy", choices=STRATEGIES, default="auto")
    generate.add_argument("--invest", type=decimal_usd, default=Decimal(0), metavar="USD")
    generate.add_argument(
        "--raise", dest="raise_usd", type=decimal_usd, default=Decimal(0), metavar="USD"
    )
    generate.add_argument(
        "--format",
        choices=["table", "json", "csv"],
        default="table",
        help="table (default), or the basket as json or csv for scripts",
    )
    generate.add_argument(
        "--basket", type=Path, metavar="FILE", help="also write the basket (.json, else CSV)"
    )

    execute = commands.add_parser("execute", parents=shared, help="execute a stored plan")
    user(execute)
    execute.add_argument("--plan", required=True, metavar="PLAN_ID")
    execute.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    switch = commands.add_parser(
        "kill-switch",
        parents=shared,
        help="trading on|off|status (off = kill-switch engaged: every order refused)",
        description="`off` (or `halt`) stops all trading: the kill-switch is engaged. "
        "`on` (or `resume`) allows trading again. `status` shows the state, reason, who, when.",
    )
    switch.add_argument("action", choices=["on", "off", "status", "halt", "resume"])
    switch.add_argument("--reason", help="why (stored in the document)")
    switch.add_argument("--by", help="the operator (default: $USER)")

    nightly = commands.add_parser("nightly", parents=shared, help="run one user's night now")
    user(nightly)
    nightly.add_argument(
        "--night", type=night_arg, metavar="YYYY-MM-DD", help="default: tonight by the clock"
    )

    simulate = commands.add_parser(
        "simulate", parents=shared, help="what-if: rebalancing policies on the user's history"
    )
    user(simulate)
    simulate.add_argument("--years", type=positive_int, default=10)
    simulate.add_argument(
        "--policy",
        action="append",
        metavar="SPEC",
        help="a policy (repeatable), e.g. threshold:5, calendar:quarterly, "
        "combined:annually:5, none; default: the standard set",
    )
    simulate.add_argument("--monthly", type=signed_usd, default=Decimal(0), metavar="USD")
    simulate.add_argument("--no-save", action="store_true", help="do not store the run")
    return top
