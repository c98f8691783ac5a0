"""Wires adapters to services; every client is created lazily, once per instance."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

from rebalancer import config
from rebalancer.service.context import Ports

_lock = threading.Lock()
_ports: Ports | None = None


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """The current time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait."""
        time.sleep(seconds)


def project_id() -> str:
    """The Firebase project id the runtime (or the emulator) says we run in."""
    for name in ("GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        if os.environ.get(name):
            return os.environ[name]
    raise RuntimeError("no project id: set GCLOUD_PROJECT")


def ports() -> Ports:
    """The production ports: Firestore, Alpaca, the Fernet vault and the system clock."""
    global _ports
    with _lock:
        if _ports is None:
            # Imported here: these pull grpc, pandas and cryptography, which cold starts
            # and deploy-time discovery must not pay for.
            from google.cloud.firestore import Client

            from rebalancer.adapters.alpaca_broker import AlpacaConnector
            from rebalancer.adapters.firestore_store import FirestoreStore
            from rebalancer.adapters.task_queue import CloudTaskQueue
            from rebalancer.adapters.vault import FernetVault

            _ports = Ports(
                store=FirestoreStore(Client(project=project_id())),
                connector=AlpacaConnector(
                    config.ALPACA_URL_OVERRIDE.value or None,
                    float(config.BROKER_TIMEOUT_SECONDS.value),
                ),
                vault=FernetVault(config.BROKER_CREDENTIALS_KEY.value),
                clock=SystemClock(),
                tasks=CloudTaskQueue(),
            )
        return _ports
