"""Command line: ``paper-broker --port 8787 [--state FILE]``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from paper_broker.broker import SimulatedBroker
from paper_broker.history import DEFAULT_SEED
from paper_broker.server import PaperServer, make_server

HOST = "127.0.0.1"
# How long a stop waits for requests in flight (a slow fault sleeps up to 60 s).
DRAIN_SECONDS = 65.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="paper-broker", description="A local Alpaca-compatible paper broker."
    )
    parser.add_argument("--port", type=int, default=8787, help="port (0 picks a free one)")
    parser.add_argument("--state", type=Path, help="JSON file to load at start and save to")
    parser.add_argument(
        "--seed",
        type=int,
        help=f"seed of the synthetic daily history (default {DEFAULT_SEED}, or the state file's)",
    )
    parser.add_argument("--host", default=HOST, choices=[HOST], help="always 127.0.0.1")
    return parser.parse_args(argv)


def _stop_on_signals(server: PaperServer) -> None:
    """Make SIGTERM and SIGINT stop the server from another thread."""

    def stop(signum: int, frame: FrameType | None) -> None:
        # Later signals are ignored: Python restores the default (fatal) action for
        # handled signals while it shuts down, and a repeated SIGTERM must not kill it then.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stopping.set()
        # shutdown() waits for serve_forever() to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv: list[str] | None = None) -> int:
    """Run the broker until SIGTERM or SIGINT; returns the exit code."""
    args = parse_args(argv)
    try:
        broker = SimulatedBroker(args.state, args.seed)
        broker.save()
        server = make_server(broker, args.host, args.port)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"paper-broker: cannot start: {error}", file=sys.stderr)
        return 2
    _stop_on_signals(server)
    print(f"paper-broker listening on http://{HOST}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
        if not server.wait_idle(DRAIN_SECONDS):
            print("paper-broker: stopped with requests still in flight", file=sys.stderr)
    finally:
        server.server_close()
        broker.save()
    return 0
