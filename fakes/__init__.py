"""Shipped fakes of the ports (store, broker, vault, clock, task queue); never deployed."""

from fakes.memory_broker import InMemoryBroker, InMemoryConnector
from fakes.memory_infra import FixedClock, InMemoryTaskQueue, PlainVault
from fakes.memory_store import InMemoryStore

__all__ = [
    "FixedClock",
    "InMemoryBroker",
    "InMemoryConnector",
    "InMemoryStore",
    "InMemoryTaskQueue",
    "PlainVault",
]
