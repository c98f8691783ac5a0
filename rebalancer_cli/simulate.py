"""`rebalancer simulate`: what-if rebalancing policies on the user's own portfolio."""

from __future__ import annotations

import argparse
import importlib

from rebalancer_cli.failures import CliError, Exit
from rebalancer_cli.output import Out
from rebalancer_cli.wiring import Target


def run(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Simulate the policies (not wired yet: the simulator service is being written)."""
    try:
        importlib.import_module("rebalancer.service.simulations")
    except ImportError:
        raise CliError(
            Exit.REFUSED,
            "simulate: the simulator service (rebalancer.service.simulations) is missing",
        ) from None
    raise CliError(Exit.REFUSED, "simulate: not wired yet")
