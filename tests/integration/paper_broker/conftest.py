"""Fixtures: one paper broker process per session; accounts and alpaca-py clients per test."""

from __future__ import annotations

import json
import secrets
import select
import signal
import string
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # alpaca-py imports websockets.legacy, which websockets deprecates; not ours to fix.
    warnings.filterwarnings(
        "ignore", message="websockets.legacy is deprecated", category=DeprecationWarning
    )
    from alpaca.data.historical.crypto import CryptoHistoricalDataClient
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.trading.client import TradingClient

ROOT = Path(__file__).resolve().parents[3]
READY = "paper-broker listening on "
# A Tuesday, 10:00 in New York: the market is open.
OPEN_NOW = "2024-03-12T14:00:00Z"
# A Saturday: the market is closed until Monday 2024-03-11 09:30 New York (13:30Z).
WEEKEND_NOW = "2024-03-09T15:00:00Z"


class BrokerProcess:
    """A paper broker running as a real process, stopped with SIGTERM."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def stop(self) -> int:
        """Send SIGTERM, wait for the exit and return its code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()

    def stderr(self) -> str:
        """Return what the broker wrote to stderr."""
        return self.log.read_text(errors="replace")


def start_broker(workdir: Path, *args: str) -> BrokerProcess:
    """Start ``python -m paper_broker --port 0`` and read its ready line; fail loudly if none."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "paper-broker.stderr"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "paper_broker", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=ROOT,
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 20)
    line = process.stdout.readline().decode() if ready else ""
    if not line.startswith(READY):
        process.kill()
        code = process.wait()
        process.stdout.close()
        pytest.fail(
            f"paper broker did not start (exit {code}); stdout {line!r}; "
            f"stderr:\n{log.read_text(errors='replace')}"
        )
    return BrokerProcess(process, line.removeprefix(READY).strip(), log)


class Control:
    """A small JSON client for the control API (and for raw Alpaca requests)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """Send a request; returns status, decoded JSON body (or None) and headers."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _decode(response.read()), dict(response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _decode(error.read()), dict(error.headers)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """Send a request that must succeed; returns its JSON body."""
        status, answer, _ = self.call(method, path, body)
        assert status < 300, (status, answer)
        return answer

    def account(self, cash: str = "100000", **fields: str) -> dict[str, Any]:
        """Create an account; returns its id and credentials."""
        answer: dict[str, Any] = self.ok("POST", "/_paper/accounts", {"cash": cash, **fields})
        return answer

    def summary(self, account: dict[str, Any]) -> dict[str, Any]:
        """Return the control view of an account."""
        answer: dict[str, Any] = self.ok("GET", f"/_paper/accounts/{account['id']}")
        return answer

    def clock(self, now: str, frozen: bool = True) -> dict[str, Any]:
        """Set the simulated clock."""
        answer: dict[str, Any] = self.ok("POST", "/_paper/clock", {"now": now, "frozen": frozen})
        return answer

    def prices(self, **prices: str) -> None:
        """Set prices by symbol."""
        self.ok("POST", "/_paper/prices", {"prices": prices})

    def fault(self, **spec: Any) -> dict[str, Any]:
        """Inject a fault."""
        answer: dict[str, Any] = self.ok("POST", "/_paper/faults", spec)
        return answer

    def counters(self, account: dict[str, Any]) -> dict[str, int]:
        """Return an account's per-route request counters."""
        answer: dict[str, int] = self.ok("GET", f"/_paper/accounts/{account['id']}/counters")
        return answer

    def new_symbol(self, price: str = "100", **fields: Any) -> str:
        """Add an asset with a fresh symbol, so a test can move its price freely."""
        symbol = "Z" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(6))
        self.ok("PUT", f"/_paper/assets/{symbol}", {"price": price, **fields})
        return symbol


def _decode(payload: bytes) -> Any:
    """Decode a JSON body; an empty body is None."""
    return json.loads(payload) if payload else None


def auth_headers(account: dict[str, Any]) -> dict[str, str]:
    """Return the Alpaca key headers of an account."""
    return {"APCA-API-KEY-ID": account["api_key_id"], "APCA-API-SECRET-KEY": account["secret_key"]}


class Clients:
    """Makes alpaca-py clients pointed at the broker and closes their sessions afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._made: list[Any] = []

    def _keep(self, client: Any) -> Any:
        self._made.append(client)
        return client

    def trading(self, account: dict[str, Any], *, oauth: bool = False) -> TradingClient:
        """Return a TradingClient using the account's keys (or its OAuth token)."""
        if oauth:
            client = TradingClient(oauth_token=account["oauth_token"], url_override=self.url)
        else:
            client = TradingClient(
                account["api_key_id"], account["secret_key"], url_override=self.url
            )
        kept: TradingClient = self._keep(client)
        return kept

    def stock(self, account: dict[str, Any]) -> StockHistoricalDataClient:
        """Return a StockHistoricalDataClient using the account's keys."""
        client = StockHistoricalDataClient(
            account["api_key_id"], account["secret_key"], url_override=self.url
        )
        kept: StockHistoricalDataClient = self._keep(client)
        return kept

    def crypto(self, account: dict[str, Any] | None = None) -> CryptoHistoricalDataClient:
        """Return a CryptoHistoricalDataClient, with or without the account's keys."""
        keys = (account["api_key_id"], account["secret_key"]) if account else (None, None)
        client = CryptoHistoricalDataClient(*keys, url_override=self.url)
        kept: CryptoHistoricalDataClient = self._keep(client)
        return kept

    def close(self) -> None:
        """Close every client's HTTP session (open sockets would warn)."""
        for client in self._made:
            client._session.close()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """The session's paper broker process; it must exit 0 on SIGTERM."""
    process = start_broker(tmp_path_factory.mktemp("paper-broker"))
    yield process
    code = process.stop()
    assert code == 0, f"paper broker exited {code}; stderr:\n{process.stderr()}"
    assert "Traceback" not in process.stderr(), process.stderr()


@pytest.fixture(scope="session")
def control(broker: BrokerProcess) -> Control:
    """The control API of the session's broker."""
    return Control(broker.url)


@pytest.fixture(autouse=True)
def _known_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give each broker test a frozen, open market and no faults; clear faults afterwards."""
    if "control" not in request.fixturenames:
        yield
        return
    ctl: Control = request.getfixturevalue("control")
    ctl.ok("DELETE", "/_paper/faults")
    ctl.clock(OPEN_NOW)
    yield
    ctl.ok("DELETE", "/_paper/faults")


@pytest.fixture
def clients(broker: BrokerProcess) -> Iterator[Clients]:
    """A factory of alpaca-py clients for the session's broker."""
    factory = Clients(broker.url)
    yield factory
    factory.close()


@pytest.fixture
def account(control: Control) -> dict[str, Any]:
    """A fresh account with $100,000 of cash."""
    return control.account()


@pytest.fixture
def trading(clients: Clients, account: dict[str, Any]) -> TradingClient:
    """A TradingClient for the ``account`` fixture."""
    return clients.trading(account)
