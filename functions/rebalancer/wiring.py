"""Wires adapters to services; every client is created lazily, once per instance."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from rebalancer import config

if TYPE_CHECKING:
    from rebalancer.service.context import Ports
    from rebalancer.service.ports import Clock

_lock = threading.Lock()
_ports: Ports | None = None


def project_id() -> str:
    """The Firebase project id the runtime (or the emulator) says we run in."""
    for name in ("GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        if os.environ.get(name):
            return os.environ[name]
    raise RuntimeError("no project id: set GCLOUD_PROJECT")


def clock() -> Clock:
    """The real clock; inside the Functions emulator, the local paper broker's clock."""
    from rebalancer.adapters.clock import PaperBrokerClock, SystemClock

    broker_url = config.ALPACA_URL_OVERRIDE.value
    # FUNCTIONS_EMULATOR is set by the emulator only: deployed functions keep real time.
    if os.environ.get("FUNCTIONS_EMULATOR") == "true" and broker_url:
        return PaperBrokerClock(broker_url)
    return SystemClock()


def ports() -> Ports:
    """The production ports: Firestore, Alpaca, the Fernet vault, the clock, Cloud Tasks."""
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
            from rebalancer.service.context import Ports

            _ports = Ports.over(
                store=FirestoreStore(Client(project=project_id())),
                connector=AlpacaConnector(
                    config.ALPACA_URL_OVERRIDE.value or None,
                    float(config.BROKER_TIMEOUT_SECONDS.value),
                ),
                vault=FernetVault(config.BROKER_CREDENTIALS_KEY.value),
                clock=clock(),
                tasks=CloudTaskQueue(),
            )
        return _ports
