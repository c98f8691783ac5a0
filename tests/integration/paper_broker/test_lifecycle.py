"""The broker as a process: ready line, signals, --state persistence and reset."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.requests import StockLatestTradeRequest
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from .conftest import ROOT, BrokerProcess, Clients, Control, start_broker

pytestmark = pytest.mark.integration


@pytest.fixture
def own_clients() -> Iterator[list[Clients]]:
    """Client factories made by a test for its own brokers; closed afterwards."""
    made: list[Clients] = []
    yield made
    for factory in made:
        factory.close()


def test_ready_line_then_clean_exit_on_sigterm(tmp_path: Path) -> None:
    broker = start_broker(tmp_path)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", broker.url)
    assert Control(broker.url).ok("GET", "/_paper/health") == {"ok": True}
    assert broker.stop() == 0
    assert broker.stderr() == ""


def test_clean_exit_on_sigint(tmp_path: Path) -> None:
    broker = start_broker(tmp_path)
    broker.process.send_signal(signal.SIGINT)
    assert broker.stop() == 0


def test_sigterm_lets_the_request_in_flight_finish(
    tmp_path: Path, own_clients: list[Clients]
) -> None:
    broker = start_broker(tmp_path)
    control = Control(broker.url)
    own_clients.append(clients := Clients(broker.url))
    client = clients.trading(control.account(cash="77"))
    control.fault(route="GET /v2/account", kind="slow", delay_ms=600)
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.append(client.get_account().cash))
    worker.start()
    time.sleep(0.2)
    broker.process.send_signal(signal.SIGTERM)
    worker.join(timeout=10)
    assert answers == ["77"]
    assert broker.stop() == 0


def start_with_state(tmp_path: Path, name: str, state: Path) -> BrokerProcess:
    """Start a broker that loads and saves ``state``."""
    return start_broker(tmp_path / name, "--state", str(state))


def test_restart_with_state_restores_everything(tmp_path: Path, own_clients: list[Clients]) -> None:
    state = tmp_path / "broker-state.json"
    first = start_with_state(tmp_path, "first", state)
    control = Control(first.url)
    control.clock("2024-03-12T14:00:00Z")
    symbol = control.new_symbol(price="40")
    account = control.account(cash="5000")
    control.ok(
        "POST",
        f"/_paper/accounts/{account['id']}/lots",
        {"lots": [{"symbol": "TLT", "qty": "3", "cost_per_share": "91.5"}]},
    )
    own_clients.append(clients := Clients(first.url))
    client = clients.trading(account)
    filled = client.submit_order(
        MarketOrderRequest(symbol=symbol, qty=10, side="buy", time_in_force="day")
    )
    waiting = client.submit_order(
        LimitOrderRequest(symbol=symbol, qty=5, side="buy", time_in_force="gtc", limit_price=30)
    )
    control.prices(**{symbol: "42.25"})
    assert first.stop() == 0
    saved = json.loads(state.read_text())
    assert saved["version"] == 1
    assert list(state.parent.glob(".broker-state.json.*")) == []

    second = start_with_state(tmp_path, "second", state)
    own_clients.append(clients := Clients(second.url))
    client = clients.trading(account)
    assert client.get_account().cash == "4600"
    positions = {p.symbol: p.qty for p in client.get_all_positions()}
    assert positions == {symbol: "10", "TLT": "3"}
    assert client.get_open_position(symbol).current_price == "42.25"
    orders = {o.id: o.status for o in client.get_orders(GetOrdersRequest(status="all"))}
    assert orders == {filled.id: OrderStatus.FILLED, waiting.id: OrderStatus.NEW}
    assert len(client.get("/account/activities/FILL")) == 2
    trades = clients.stock(account).get_stock_latest_trade(
        StockLatestTradeRequest(symbol_or_symbols=symbol)
    )
    assert trades[symbol].price == 42.25
    assert Control(second.url).ok("GET", "/_paper/clock")["now"] == "2024-03-12T14:00:00.000000Z"
    assert clients.trading(account, oauth=True).get_account().id == client.get_account().id
    assert second.stop() == 0


def test_reset_wipes_everything(tmp_path: Path, own_clients: list[Clients]) -> None:
    broker = start_broker(tmp_path)
    control = Control(broker.url)
    control.clock("2024-03-12T14:00:00Z")
    control.ok("PUT", "/_paper/assets/ZGONE", {"price": 5})
    account = control.account()
    control.fault(route="GET /v2/clock", kind="http_500", count=9)
    assert control.ok("POST", "/_paper/reset") == {"ok": True}
    own_clients.append(clients := Clients(broker.url))
    with pytest.raises(APIError) as error:
        clients.trading(account).get_account()
    assert error.value.status_code == 401
    assert control.ok("GET", "/_paper/faults") == {"faults": []}
    assert control.ok("GET", "/_paper/clock")["frozen"] is False
    fresh = clients.trading(control.account())
    assert {a.symbol for a in fresh.get_all_assets()} >= {"SPY", "BTC/USD"}
    with pytest.raises(APIError):
        fresh.get_asset("ZGONE")
    assert broker.stop() == 0


def test_unreadable_state_file_stops_the_start(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "paper_broker", "--port", "0", "--state", str(state)],
        capture_output=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert b"paper-broker: cannot start" in result.stderr
    assert result.stdout == b""
