"""Entry point of the `rebalancer` console script: parse, wire, run, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from rebalancer_cli.failures import CliError, Exit, exit_code, infrastructure_error
from rebalancer_cli.output import Out, use_color
from rebalancer_cli.wiring import Target, choose_target

Command = Callable[[argparse.Namespace, Target, Out], Exit]


def command(name: str) -> Command:
    """The function of a command (its module imported on demand)."""
    if name == "check":
        from rebalancer_cli import check

        return check.run
    if name == "generate":
        from rebalancer_cli import plans

        return plans.generate
    if name == "execute":
        from rebalancer_cli import plans

        return plans.execute
    if name == "kill-switch":
        from rebalancer_cli import kill_switch

        return kill_switch.run
    if name == "nightly":
        from rebalancer_cli import nightly

        return nightly.run
    from rebalancer_cli import simulate

    return simulate.run


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 refused, 2 usage, 3 not found, 4 down)."""
    from rebalancer_cli.args import parser

    args = parser().parse_args(argv)
    out = Out(json=args.json, color=use_color(args.color, sys.stdout) and not args.json)
    try:
        target = choose_target(args.project, args.emulators, args.credentials_key_file)
        return int(command(args.command)(args, target, out))
    except CliError as error:
        return fail(error.code, error.message, out, answered=error.answered)
    except KeyboardInterrupt:
        return fail(Exit.REFUSED, "interrupted", out)
    except Exception as error:
        from rebalancer.domain.errors import RebalancerError

        if isinstance(error, RebalancerError):
            return fail(exit_code(error), error.message, out, error.code)
        known = infrastructure_error(error)
        if known is not None:
            return fail(known.code, known.message, out)
        if os.environ.get("REBALANCER_DEBUG"):
            raise
        message = f"unexpected {type(error).__name__}: {error} (REBALANCER_DEBUG=1 for a traceback)"
        return fail(Exit.REFUSED, message, out)


def fail(
    code: Exit, message: str, out: Out, kind: str | None = None, *, answered: bool = False
) -> int:
    """One line on stderr; with --json, an error document on stdout unless one was printed."""
    line = " ".join(message.split())
    if out.json and not answered:
        out.document({"error": {"exit_code": int(code), "kind": kind, "message": line}})
    print(f"rebalancer: error: {line}", file=sys.stderr)
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
