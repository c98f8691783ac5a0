"""The Clock port: the real time in production, the paper broker's clock in the emulator.

Every date the backend decides by (the night, cooldowns, once a day, calendar dates, goal
progress, lease expiry) comes from `Clock.now()`. In the local stack the functions follow
the paper broker's settable clock, so a test or a demo can put the whole system at any
date; that clock is chosen only inside the Functions emulator (see `wiring.ports`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import requests

from rebalancer.domain.errors import BrokerUnavailable


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """The current time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait."""
        time.sleep(seconds)


class PaperBrokerClock:
    """The paper broker's simulated time (`GET /_paper/clock`), read on every call.

    Emulator only: the broker's clock can be moved or frozen by a test, and the functions
    must see the same instant the broker trades at. Waiting is real waiting.
    """

    def __init__(self, broker_url: str, timeout_s: float = 5.0) -> None:
        self.url = broker_url.rstrip("/") + "/_paper/clock"
        self.timeout_s = timeout_s
        self.session = requests.Session()

    def now(self) -> datetime:
        """The broker's current instant.

        Raises:
            BrokerUnavailable: The paper broker does not answer (it is not running).
        """
        try:
            response = self.session.get(self.url, timeout=self.timeout_s)
            response.raise_for_status()
            moment = datetime.fromisoformat(str(response.json()["now"]).replace("Z", "+00:00"))
        except (requests.RequestException, ValueError, KeyError) as error:
            raise BrokerUnavailable(f"the paper broker's clock is unreachable: {error}") from None
        return moment.astimezone(UTC)

    def sleep(self, seconds: float) -> None:
        """Wait (in real time; a running paper clock advances with it)."""
        time.sleep(seconds)
