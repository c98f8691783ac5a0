"""Benchmarks of the first slice, run under the emulators (scripts/bench).

1. Import time of functions/main.py, lazy as deployed versus every dependency eager.
2. Broker requests and Firestore RPCs per check_rebalance_drift, counted at the paper
   broker and at the Firestore client's RPC layer, with the real adapters.
3. p50 and p95 latency of check_rebalance_drift over HTTP through the emulator stack.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from devstack.bench_nightly import bench_nightly
from devstack.broker import PaperBroker
from devstack.firebase import PROJECT, Stack
from devstack.seed import DEMO_CASH_USD, DEMO_LOTS, expect_ok, seed_demo

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / "functions" / "venv" / "bin" / "python")
EAGER = (
    "import alpaca.trading.client, alpaca.data.historical.stock, google.cloud.firestore, "
    "cryptography.fernet, rebalancer.adapters.alpaca_broker, rebalancer.adapters.firestore_store, "
    "rebalancer.adapters.vault"
)


# What every Python function pays anyway: the Functions SDK's decorators and the Admin SDK.
FRAMEWORK = "import firebase_admin; from firebase_functions import https_fn, scheduler_fn, tasks_fn"


def import_seconds(extra: str, main: str = "import main") -> float:
    """Seconds to import main.py (plus `extra`) in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {main}; {extra}; print(time.perf_counter() - t)"
    env = {**os.environ, "GCLOUD_PROJECT": PROJECT}
    out = subprocess.run(
        [PYTHON, "-c", code],
        cwd=ROOT / "functions",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def bench_imports(runs: int = 7, pairs: int = 8) -> list[str]:
    """Median import times, lazy and eager, and main.py against the framework alone."""
    lazy = statistics.median(import_seconds("pass") for _ in range(runs))
    eager = statistics.median(import_seconds(EAGER) for _ in range(runs))
    # Paired runs, alternating, so that a busy moment weighs on both sides alike.
    ratios = []
    for _ in range(pairs):
        ours = import_seconds("pass")
        framework = import_seconds("pass", FRAMEWORK)
        ratios.append(ours / framework)
    return [
        f"## Import time of functions/main.py (median of {runs} fresh interpreters)",
        f"- cold start: importing main.py costs {statistics.median(ratios):.2f}x importing "
        f"firebase_functions (https, scheduler, tasks) and firebase_admin alone (median of "
        f"{pairs} paired runs; goal at most 1.15)",
        f"- as deployed (clients imported lazily): {lazy * 1000:.0f} ms",
        f"- with alpaca-py, Firestore, cryptography and the adapters eager: {eager * 1000:.0f} ms",
        f"- ratio lazy/eager: {lazy / eager:.2f} (cold starts and deploy discovery pay "
        f"{(eager - lazy) * 1000:.0f} ms less)",
    ]


class CountingApi:
    """Wraps the Firestore GAPIC client and counts every RPC by method."""

    def __init__(self, api: Any, counts: Counter[str]) -> None:
        self._api = api
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts[name] += 1
            return attr(*args, **kwargs)

        return counted


def counted_ports(broker: PaperBroker, key: str | None = None) -> tuple[Any, Counter[str]]:
    """Production adapters with every Firestore RPC counted by method.

    Firestore runs on the emulator and alpaca-py on the paper broker.
    """
    from cryptography.fernet import Fernet
    from google.cloud.firestore import Client

    from fakes import InMemoryTaskQueue
    from rebalancer.adapters.alpaca_broker import AlpacaConnector
    from rebalancer.adapters.clock import PaperBrokerClock
    from rebalancer.adapters.firestore_store import FirestoreStore
    from rebalancer.adapters.vault import FernetVault
    from rebalancer.service.context import Ports

    client = Client(project=PROJECT)
    rpcs: Counter[str] = Counter()
    client._firestore_api_internal = CountingApi(client._firestore_api, rpcs)
    ports = Ports.over(
        FirestoreStore(client),
        AlpacaConnector(broker.url),
        FernetVault(key or Fernet.generate_key().decode()),
        PaperBrokerClock(broker.url),  # as inside the Functions emulator
        # Tasks (the watch task of a run) are kept here: a delivery would run functions
        # in the emulator and blur the counts of the one call being measured.
        InMemoryTaskQueue(),
    )
    return ports, rpcs


def bench_counts(broker: PaperBroker) -> list[str]:
    """Broker requests and Firestore RPCs of one check, with the production adapters."""

    from rebalancer.domain.models import Target
    from rebalancer.service.drift_check import check_drift
    from rebalancer.service.linking import link_broker
    from rebalancer.service.ports import BrokerCredentials

    ports, rpcs = counted_ports(broker)
    account = broker.new_account(DEMO_CASH_USD)
    broker.seed_lots(account["id"], DEMO_LOTS)
    uid = "bench-" + account["id"][:8]
    link_broker(uid, BrokerCredentials(account["api_key_id"], account["secret_key"]), ports)
    ports.store.replace_targets(
        uid,
        [Target(s, Decimal(p)) for s, p in (("SPY", 40), ("QQQ", 30), ("TLT", 20), ("GLD", 10))],
        ports.clock.now(),
    )
    lines = ["## Requests per check_rebalance_drift (real adapters, counted at the source)"]
    for label, dry_run in (
        ("dry run, cold instance (asset cache empty)", True),
        ("rebalance with the default strategy (asset cache warm)", False),
        ("dry run, warm instance", True),
    ):
        broker.control("DELETE", f"/_paper/accounts/{account['id']}/counters")
        rpcs.clear()
        check_drift(uid, ports, dry_run=dry_run)
        routes = broker.counters(account["id"])
        lines.append(
            f"- {label}: broker {sum(routes.values())} ({_fmt(routes)}); "
            f"Firestore {sum(rpcs.values())} ({_fmt(rpcs)})"
        )
    lines.append(
        "- concurrency: the 3 Firestore reads (targets, settings, link) run at once, then the "
        "3 broker reads (account, positions, latest trades); the kill-switch is read before "
        "each order; the drift log and history go in 1 batched commit"
    )
    return lines


def bench_execution(broker: PaperBroker, legs: int = 20) -> list[str]:
    """A plan of `legs` orders executed against the paper broker (immediate fills)."""
    from rebalancer.domain.models import Target
    from rebalancer.domain.settings import Strategy
    from rebalancer.service.executor import execute_plan
    from rebalancer.service.linking import link_broker
    from rebalancer.service.ports import BrokerCredentials
    from rebalancer.service.proposals import propose_plan

    ports, rpcs = counted_ports(broker)
    symbols = [f"BX{i:02d}" for i in range(legs)]
    for symbol in symbols:
        broker.control("PUT", f"/_paper/assets/{symbol}", {"price": "100"})
    account = broker.new_account("0")
    # Half the assets at 8 % of the portfolio, half at 2 %: every one is off its 5 % target.
    broker.seed_lots(
        account["id"],
        [
            {
                "symbol": s,
                "qty": "80" if i % 2 else "20",
                "cost_per_share": "90",
                "acquired_at": "2024-01-02",
            }
            for i, s in enumerate(symbols)
        ],
    )
    uid = "bench-exec-" + account["id"][:8]
    link_broker(uid, BrokerCredentials(account["api_key_id"], account["secret_key"]), ports)
    targets = [Target(s, Decimal(100) / len(symbols)) for s in symbols]
    ports.store.replace_targets(uid, targets, ports.clock.now())
    plan_id = propose_plan(uid, ports, Strategy.FULL).plan_id
    broker.control("DELETE", f"/_paper/accounts/{account['id']}/counters")
    rpcs.clear()
    started = time.perf_counter()
    result = execute_plan(uid, plan_id, ports)
    elapsed = time.perf_counter() - started
    routes = broker.counters(account["id"])
    placed = len(result.legs)
    return [
        f"## Executing a {placed}-leg plan (paper broker, immediate fills, real adapters)",
        f"- status {result.status.value}; wall time {elapsed * 1000:.0f} ms "
        f"({elapsed * 1000 / placed:.1f} ms per leg)",
        f"- broker requests: {sum(routes.values())} ({sum(routes.values()) / placed:.2f} per leg: "
        f"{_fmt(routes)})",
        f"- Firestore: {rpcs['commit']} commits (writes) for the whole plan; "
        f"{sum(rpcs.values())} RPCs in all ({_fmt(rpcs)}); the kill-switch read before each "
        "leg is one batch_get",
    ]


def _fmt(counts: dict[str, int] | Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, round(pct / 100 * len(ordered)) - 1)]


def timed(call: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def bench_latency(stack: Stack, broker: PaperBroker, runs: int = 40) -> list[str]:
    """Latency of the callable over HTTP through the emulators."""
    demo = seed_demo(stack, broker)
    token = demo.user.id_token

    def dry() -> Any:
        return expect_ok(stack.call("check_rebalance_drift", {"dry_run": True}, token), "dry")

    first = timed(dry)
    dry_runs = [timed(dry) for _ in range(runs)]
    rebalances = []
    for i in range(runs // 2):
        # Move SPY so that every run has drift to remove and places real orders.
        broker.control("POST", "/_paper/prices", {"prices": {"SPY": "560" if i % 2 else "440"}})
        rebalances.append(
            timed(lambda: expect_ok(stack.call("check_rebalance_drift", {}, token), "run"))
        )
    broker.control("POST", "/_paper/prices", {"prices": {"SPY": "500"}})
    return [
        "## Latency of check_rebalance_drift over HTTP (Functions emulator, 2-core machine)",
        f"- first call on a cold worker: {first * 1000:.0f} ms",
        f"- dry run, {runs} calls: p50 {percentile(dry_runs, 50) * 1000:.0f} ms, "
        f"p95 {percentile(dry_runs, 95) * 1000:.0f} ms",
        f"- rebalance with 2-4 orders, {len(rebalances)} calls: "
        f"p50 {percentile(rebalances, 50) * 1000:.0f} ms, "
        f"p95 {percentile(rebalances, 95) * 1000:.0f} ms",
    ]


def main() -> int:
    """Run every benchmark and print the report."""
    stack = Stack.discover()
    stack.wait_for_functions({"check_rebalance_drift", "link_broker", "set_targets"})
    broker = PaperBroker.start()
    try:
        broker.open_market()
        report = [
            *bench_imports(),
            "",
            *bench_counts(broker),
            "",
            *bench_latency(stack, broker),
            "",
            *bench_execution(broker),
            "",
            *bench_nightly(stack, broker, int(os.environ.get("BENCH_USERS", "1000"))),
        ]
    finally:
        broker.stop()
    out = Path(os.environ.get("BENCH_REPORT", "/dev/stdout"))
    out.write_text("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
