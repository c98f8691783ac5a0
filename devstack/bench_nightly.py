"""Benchmark of the nightly path: N users through the emulators.

The scheduled function fans out over Cloud Tasks, one rebalanceUser task per user,
against the paper broker.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from devstack.broker import PaperBroker
from devstack.firebase import PROJECT, Stack
from devstack.seed import DEMO_CASH_USD, DEMO_LOTS, DEMO_TARGETS

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE_TIME = datetime(2026, 11, 21, 7, tzinfo=UTC)  # 02:00 New York, Saturday
NIGHT = date(2026, 11, 21)  # it belongs to Monday the 23rd, the next trading day
TIMEZONE = "America/New_York"


def _key() -> str:
    for line in (ROOT / "functions" / ".secret.local").read_text().splitlines():
        if line.startswith("BROKER_CREDENTIALS_KEY="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError("no BROKER_CREDENTIALS_KEY in functions/.secret.local")


def seed(db: Any, broker: PaperBroker, users: int, prefix: str) -> list[str]:
    """Users with rebalancing on, a drifted paper account each, written as the backend would."""
    from rebalancer.adapters.vault import FernetVault
    from rebalancer.service.ports import BrokerCredentials

    vault = FernetVault(_key())
    uids = [f"{prefix}{n:05d}" for n in range(users)]
    now = datetime.now(UTC)
    batch, pending = db.batch(), 0
    for uid in uids:
        account = broker.new_account(DEMO_CASH_USD)
        broker.seed_lots(account["id"], DEMO_LOTS)
        sealed = vault.seal(BrokerCredentials(account["api_key_id"], account["secret_key"]))
        batch.set(
            db.document(f"brokerConnections/{uid}"),
            {
                "sealed_credentials": sealed,
                "paper": True,
                "account_number": account["account_number"],
                "auth_type": "api_key",
                "linked_at": now,
            },
        )
        batch.set(db.document(f"userSettings/{uid}"), {"rebalancing_enabled": True})
        for target in DEMO_TARGETS:
            batch.set(
                db.document(f"userSettings/{uid}/allocation/{target['symbol']}"),
                {
                    "symbol": target["symbol"],
                    "target_percent": target["target_percent"],
                    "enabled": True,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        pending += 6
        if pending >= 450:
            batch.commit()
            batch, pending = db.batch(), 0
    batch.commit()
    return uids


def drift_logs(db: Any, prefix: str) -> Counter[str]:
    """Tonight's drift logs per bench user (one collection-group read)."""
    counts: Counter[str] = Counter()
    for doc in db.collection_group("driftLogs").stream():
        uid = doc.reference.parent.parent.id
        if uid.startswith(prefix):
            counts[uid] += 1
    return counts


def per_user_rpcs(db: Any, broker: PaperBroker, prefix: str) -> Counter[str]:
    """Firestore RPCs of one user's night, counted at the client (the code the task runs)."""
    from devstack.bench import counted_ports
    from rebalancer.service.nightly import rebalance_user

    (uid,) = seed(db, broker, 1, prefix + "x")
    ports, rpcs = counted_ports(broker, _key())
    rebalance_user(uid, NIGHT, ports, TIMEZONE)
    return rpcs


def main(users: int) -> list[str]:
    """Run the benchmark on its own paper broker and return the report lines."""
    broker = PaperBroker.start()
    try:
        return bench_nightly(Stack.discover(), broker, users)
    finally:
        broker.stop()


def bench_nightly(stack: Stack, broker: PaperBroker, users: int) -> list[str]:
    """Run the benchmark with a running paper broker and return the report lines."""
    from google.cloud.firestore import Client

    stack.wait_for_functions({"rebalanceUser"})
    db = Client(project=PROJECT)
    try:
        broker.set_clock(SCHEDULE_TIME)  # the functions follow the broker's clock
        prefix = f"bn{int(time.time()) % 100000}-"
        started = time.perf_counter()
        uids = seed(db, broker, users, prefix)
        seeded = time.perf_counter() - started
        fired = time.perf_counter()
        stack.fire_schedule("nightly_rebalance", SCHEDULE_TIME.isoformat())
        summary = db.document(f"nightlyRuns/{NIGHT.isoformat()}")
        run: dict[str, Any] = {}
        while not run and time.perf_counter() - fired < 600:
            run = summary.get().to_dict() or {}
            time.sleep(0.2)
        counts: Counter[str] = Counter()
        while len(counts) < len(uids) and time.perf_counter() - fired < 1800:
            time.sleep(2)
            counts = drift_logs(db, prefix)
        elapsed = time.perf_counter() - fired
        stack.fire_schedule("nightly_rebalance", SCHEDULE_TIME.isoformat())  # again
        time.sleep(5)
        again = summary.get().to_dict() or {}
        after = drift_logs(db, prefix)
        rpcs = per_user_rpcs(db, broker, prefix)
    finally:
        broker.control("POST", "/_paper/clock", {"market": "open"})
    # Each user is one enqueue request. (Inside the Functions emulator the Admin SDK
    # reports a 409 even for a task it just created, so `enqueued` under-counts there;
    # the tasks are created, and delivered, once.)
    rate = run.get("users", 0) / run["seconds"] if run.get("seconds") else 0.0
    exactly_one = sum(1 for uid in uids if after.get(uid) == 1)
    reads = rpcs["batch_get_documents"] + rpcs["run_query"]
    return [
        f"## Nightly run: {users} users through the emulators (scheduled trigger, Cloud Tasks)",
        f"- seeding {users} users (paper accounts, settings, targets, links): {seeded:.0f} s",
        f"- fan-out (scheduled function): {run.get('users')} users paged, one task enqueued "
        f"each in {run.get('seconds')} s = {rate:.0f} tasks/s; "
        f"at that rate 100,000 users take {100_000 / rate / 60:.1f} min"
        if rate
        else f"- fan-out: no summary found ({run})",
        f"- all {len(counts)} of {users} users processed in {elapsed:.0f} s = "
        f"{len(counts) / elapsed * 60:.0f} users/min (the Functions emulator runs the tasks)",
        f"- second trigger the same night: {again.get('already_queued')} of "
        f"{again.get('users')} task ids already taken, no user processed twice",
        f"- exactly one drift log for the night: {exactly_one} of {users} users "
        f"({'OK' if exactly_one == users else 'FAIL'})",
        f"- Firestore per user (one due user's night, counted at the client): {reads} reads "
        f"({rpcs['batch_get_documents']} document gets, {rpcs['run_query']} queries), "
        f"{rpcs['commit']} commit of one batch (drift log, plan, alert, last run)",
    ]


if __name__ == "__main__":
    lines = main(int(os.environ.get("BENCH_USERS", "1000")))
    Path(os.environ.get("BENCH_REPORT", "/dev/stdout")).write_text("\n".join(lines) + "\n")
