"""Fixtures for end-to-end tests: callables over HTTP on the emulators and the paper broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.broker import PaperBroker
from devstack.firebase import Stack, User
from devstack.seed import DEMO_LOTS, DEMO_TARGETS


@dataclass
class Client:
    """A signed-in app user with a paper account, calling callables as the client SDK does."""

    stack: Stack
    paper: PaperBroker
    user: User
    account: dict[str, Any]

    def call(self, name: str, data: Any = None) -> tuple[int, Any]:
        """Call a callable with this user's ID token."""
        return self.stack.call(name, data, self.user.id_token)

    def ok(self, name: str, data: Any = None) -> Any:
        """Call a callable that must succeed; returns its result."""
        status, body = self.call(name, data)
        assert status == 200 and "result" in body, (status, body)
        return body["result"]

    def error(self, name: str, data: Any = None) -> tuple[int, str, str]:
        """Call a callable that must fail; returns HTTP status, error status and message."""
        status, body = self.call(name, data)
        assert status != 200 and "error" in body, (status, body)
        return status, body["error"]["status"], body["error"]["message"]

    def orders_placed(self) -> int:
        """How many order requests reached the broker for this user's account."""
        return self.paper.counters(self.account["id"]).get("POST /v2/orders", 0)

    def link(self) -> dict[str, Any]:
        """Link this user's paper account."""
        return self.ok(
            "link_broker",
            {"api_key_id": self.account["api_key_id"], "secret_key": self.account["secret_key"]},
        )


@pytest.fixture
def start(sim_start: datetime | None) -> datetime:
    """The instant this test starts at: the simulated start, or now."""
    return sim_start or datetime.now(UTC)


@pytest.fixture(autouse=True)
def clock_at_start(paper: PaperBroker, start: datetime) -> None:
    """Every test starts at the same instant, whatever ran before it: its start, then the
    next open of the market there."""
    paper.set_clock(start)
    paper.open_market()


@pytest.fixture
def new_client(stack: Stack, paper: PaperBroker, db: Any) -> Iterator[Any]:
    """Make a fresh user with a fresh paper account (own uid: tests never collide).

    Afterwards the user's nightly rebalancing is turned off, so that no later test's
    nightly fan-out sees this test's users.
    """
    made: list[Client] = []

    def make(cash_usd: str = "100000", lots: list[dict[str, str]] | None = None) -> Client:
        account = paper.new_account(cash_usd)
        if lots:
            paper.seed_lots(account["id"], lots)
        client = Client(stack, paper, stack.sign_up(), account)
        made.append(client)
        return client

    yield make
    for client in made:
        db.document(f"userSettings/{client.user.uid}").set(
            {"rebalancing_enabled": False}, merge=True
        )


@pytest.fixture
def demo_client(new_client: Any) -> Client:
    """A user linked to a drifted portfolio with the demo targets (SPY 40 QQQ 30 TLT 20 GLD 10)."""
    client: Client = new_client("2500", DEMO_LOTS)
    client.link()
    client.ok("set_targets", {"allocations": DEMO_TARGETS})
    return client
