"""In-memory vault, clock and task queue: shipped fakes for unit tests and benchmarks."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from rebalancer.service.ports import BrokerCredentials


class PlainVault:
    """A reversible encoding standing in for encryption; for unit tests only."""

    def seal(self, credentials: BrokerCredentials) -> str:
        """Encode credentials."""
        return base64.b64encode(json.dumps(credentials.__dict__).encode()).decode()

    def open(self, sealed: str) -> BrokerCredentials:
        """Decode credentials."""
        return BrokerCredentials(**json.loads(base64.b64decode(sealed)))


@dataclass
class FixedClock:
    """A clock that says what it is told."""

    at: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    slept: float = 0.0

    def now(self) -> datetime:
        """The set time."""
        return self.at

    def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting."""
        self.at += timedelta(seconds=seconds)
        self.slept += seconds


@dataclass
class InMemoryTaskQueue:
    """Records enqueued tasks; a task id is accepted once, as Cloud Tasks does."""

    tasks: dict[str, tuple[str, dict[str, Any], datetime]] = field(default_factory=dict)

    def enqueue(
        self, function: str, data: Mapping[str, Any], task_id: str, run_at: datetime
    ) -> bool:
        """Keep the task; False when its id was seen before."""
        if task_id in self.tasks:
            return False
        self.tasks[task_id] = (function, dict(data), run_at)
        return True
