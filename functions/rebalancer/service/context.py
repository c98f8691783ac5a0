"""What every use case needs: the ports bundle, the caller's broker, and concurrency."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from rebalancer.domain.errors import NoBrokerLinked
from rebalancer.service.ports import (
    Broker,
    BrokerConnector,
    BrokerLink,
    Clock,
    DriftLogStore,
    LeaseStore,
    NightlyStore,
    PlanStore,
    SimulationStore,
    Store,
    SystemStatusStore,
    TaskQueue,
    UserStore,
    Vault,
)

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

# Independent reads (Firestore and broker) overlap; a small pool is plenty per instance.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rebalancer-io")


@dataclass(frozen=True)
class Ports:
    """The adapters a use case runs on: one store port per aggregate, the broker, the rest."""

    users: UserStore
    system: SystemStatusStore
    plans: PlanStore
    leases: LeaseStore
    drift_logs: DriftLogStore
    nightly: NightlyStore
    simulations: SimulationStore
    connector: BrokerConnector
    vault: Vault
    clock: Clock
    tasks: TaskQueue

    @classmethod
    def over(
        cls, store: Store, connector: BrokerConnector, vault: Vault, clock: Clock, tasks: TaskQueue
    ) -> Ports:
        """Ports whose store ports are all one adapter (Firestore, or the fake)."""
        stores = (store, store, store, store, store, store, store)
        return cls(*stores, connector, vault, clock, tasks)


def open_broker(uid: str, ports: Ports) -> Broker:
    """The caller's own linked broker account.

    Raises:
        NoBrokerLinked: If the user has not linked an account.
    """
    return linked_broker(uid, ports)[0]


def linked_broker(uid: str, ports: Ports) -> tuple[Broker, BrokerLink]:
    """The caller's own linked broker account, and the link (account number, paper).

    Raises:
        NoBrokerLinked: If the user has not linked an account.
    """
    link = ports.users.get_broker_link(uid)
    if link is None:
        raise NoBrokerLinked("no broker account linked; call link_broker first")
    return ports.connector.connect(ports.vault.open(link.sealed_credentials)), link


def in_parallel(a: Callable[[], T], b: Callable[[], U], c: Callable[[], V]) -> tuple[T, U, V]:
    """Run three independent calls concurrently and return their results in order."""
    futures = (_POOL.submit(a), _POOL.submit(b), _POOL.submit(c))
    return futures[0].result(), futures[1].result(), futures[2].result()
