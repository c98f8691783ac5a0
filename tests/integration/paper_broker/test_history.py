"""The synthetic daily history before the recorded prices: seeded, plausible, joined up."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from paper_broker import market_calendar

from .conftest import Clients, Control

pytestmark = pytest.mark.integration

# The clock is frozen at 2024-03-12 (conftest.OPEN_NOW): ten years of sessions end the day before.
TEN_YEARS = {"start": "2014-03-12", "end": "2024-03-11T23:59:59Z"}
SYMBOLS = [
    "SPY",
    "QQQ",
    "TLT",
    "GLD",
    "VOO",
    "IVV",
    "VTI",
    "VXUS",
    "BND",
    "AGG",
    "IEF",
    "SHY",
    "VNQ",
    "AAPL",
    "MSFT",
    "AMZN",
    "NVDA",
    "BRK.A",
    "DELISTED",
]


def daily(
    clients: Clients,
    account: dict[str, Any],
    symbols: list[str],
    limit: int = 10_000,
    **bounds: str,
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Fetch 1Day bars through every page; returns the bars by symbol and the page count."""
    data = clients.stock(account)
    params = {"symbols": ",".join(symbols), "timeframe": "1Day", "limit": limit, **bounds}
    joined: dict[str, list[dict[str, Any]]] = {}
    token, pages = None, 0
    while True:
        page = data.get("/stocks/bars", {**params, "page_token": token} if token else params)
        pages += 1
        for symbol, items in page["bars"].items():
            joined.setdefault(symbol, []).extend(items)
        token = page["next_page_token"]
        if token is None:
            return joined, pages


def day_of(bar: dict[str, Any]) -> date:
    """The session date of a daily bar (stamped at New York midnight)."""
    return datetime.fromisoformat(bar["t"]).astimezone(market_calendar.ET).date()


def log_returns(bars: list[dict[str, Any]]) -> list[float]:
    return [math.log(b["c"] / a["c"]) for a, b in itertools.pairwise(bars)]


def annual_vol(bars: list[dict[str, Any]]) -> float:
    return statistics.stdev(log_returns(bars)) * math.sqrt(252)


@pytest.fixture
def seed(control: Control) -> Iterator[int]:
    """The default seed, put back after a test that changes it."""
    before: int = control.ok("GET", "/_paper/history")["seed"]
    yield before
    control.ok("POST", "/_paper/history", {"seed": before})


def test_ten_years_of_trading_days_end_at_the_price(
    clients: Clients, account: dict[str, Any]
) -> None:
    got, _ = daily(clients, account, ["SPY", "TLT", "NOSUCH"], **TEN_YEARS)
    assert set(got) == {"SPY", "TLT"}
    sessions = [
        s.day for s in market_calendar.sessions_between(date(2014, 3, 12), date(2024, 3, 11))
    ]
    for bars in got.values():
        assert [day_of(b) for b in bars] == sessions
        assert all(b["l"] <= min(b["o"], b["c"]) <= max(b["o"], b["c"]) <= b["h"] for b in bars)
        assert all(b["v"] > 0 and b["n"] > 0 for b in bars)
    assert 2510 <= len(sessions) <= 2525
    days = {day_of(b) for b in got["SPY"]}
    assert not {date(2023, 12, 25), date(2019, 7, 4), date(2024, 3, 9)} & days
    assert all(day.weekday() < 5 for day in days)
    # The history joins the live prices: its last close is the price when recording began.
    assert (got["SPY"][-1]["c"], got["TLT"][-1]["c"]) == (500, 95)


def test_history_goes_back_twenty_years(clients: Clients, account: dict[str, Any]) -> None:
    got, _ = daily(clients, account, ["GLD"], start="1990-01-01", end="2008-01-01")
    first = day_of(got["GLD"][0])
    assert first >= date(2004, 3, 12)
    assert first <= date(2004, 3, 16)


def test_the_same_seed_gives_the_same_bars_whatever_the_request(
    clients: Clients, account: dict[str, Any]
) -> None:
    whole, pages = daily(clients, account, ["QQQ", "SPY"], **TEN_YEARS)
    assert pages == 1
    paged, pages = daily(clients, account, ["SPY", "QQQ"], limit=997, **TEN_YEARS)
    assert pages == 6
    alone, _ = daily(clients, account, ["QQQ"], start="2020-01-01", end="2021-01-01")
    assert paged == whole
    assert alone["QQQ"] == [b for b in whole["QQQ"] if "2020-01-01" <= b["t"] < "2021-01-01"]


def test_another_seed_gives_another_history(
    control: Control, clients: Clients, account: dict[str, Any], seed: int
) -> None:
    before, _ = daily(clients, account, ["SPY"], start="2023-01-01")
    answer = control.ok("POST", "/_paper/history", {"seed": seed + 1})
    assert answer["seed"] == seed + 1
    after, _ = daily(clients, account, ["SPY"], start="2023-01-01")
    control.ok("POST", "/_paper/history", {"seed": seed})
    again, _ = daily(clients, account, ["SPY"], start="2023-01-01")
    assert [b["c"] for b in after["SPY"]] != [b["c"] for b in before["SPY"]]
    assert again == before
    # Both end at the price.
    assert after["SPY"][-2]["c"] == before["SPY"][-2]["c"] == 500


def test_volatility_and_correlation_are_plausible(
    clients: Clients, account: dict[str, Any]
) -> None:
    got, _ = daily(clients, account, SYMBOLS, **TEN_YEARS)
    expected = {"SPY": 0.17, "QQQ": 0.21, "TLT": 0.14, "BND": 0.07, "GLD": 0.15, "NVDA": 0.5}
    for symbol, vol in expected.items():
        assert annual_vol(got[symbol]) == pytest.approx(vol, rel=0.1), symbol
    returns = {s: log_returns(b) for s, b in got.items()}
    assert statistics.correlation(returns["SPY"], returns["QQQ"]) > 0.7
    assert statistics.correlation(returns["SPY"], returns["TLT"]) < 0.4
    assert statistics.correlation(returns["TLT"], returns["BND"]) > 0.5


def test_an_assets_volatility_and_kind_are_set_through_the_control_api(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    calm = control.new_symbol(price="50", volatility="0.05", drift="0.02")
    wild = control.new_symbol(price="50", kind="crypto")
    answer = control.ok("PUT", f"/_paper/assets/{wild}", {"volatility": "0.9"})
    assert answer["history"] == {"kind": "crypto", "volatility": "0.9", "drift": "0.2"}
    got, _ = daily(clients, account, [calm, wild], **TEN_YEARS)
    assert annual_vol(got[calm]) == pytest.approx(0.05, rel=0.1)
    assert annual_vol(got[wild]) == pytest.approx(0.9, rel=0.1)
    assert got[calm][-1]["c"] == got[wild][-1]["c"] == 50
    settings = control.ok("GET", "/_paper/history")
    assert settings["assets"][calm] == {"kind": "stock", "volatility": "0.05", "drift": "0.02"}
    assert settings["assets"]["TLT"]["kind"] == "bond_etf"
    assert set(settings["kinds"]) >= {"equity_etf", "bond_etf", "gold", "stock", "crypto"}


def test_the_history_ends_where_the_recorded_prices_begin(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    symbol = control.new_symbol(price="80")
    control.clock("2024-03-06T15:00:00Z")
    control.prices(**{symbol: "88"})
    control.clock("2024-03-12T14:00:00Z")
    got, _ = daily(clients, account, [symbol], start="2024-02-01")
    closes = {day_of(b): b["c"] for b in got[symbol]}
    # The synthetic path ends on Tuesday at the price before the change; Wednesday on is recorded.
    assert closes[date(2024, 3, 5)] == 80
    assert closes[date(2024, 3, 6)] == closes[date(2024, 3, 11)] == 88
    assert len(set(closes.values())) > 10


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/_paper/history", {"seed": "x"}, "seed"),
        ("/_paper/history", {"seed": -1}, "seed"),
        ("/_paper/history", {"sead": 1}, "sead"),
        ("/_paper/assets/SPY", {"kind": "tulips"}, "kind"),
        ("/_paper/assets/SPY", {"volatility": "-0.1"}, "volatility"),
        ("/_paper/assets/SPY", {"volatility": "7"}, "volatility"),
        ("/_paper/assets/SPY", {"drift": "2"}, "drift"),
    ],
)
def test_bad_history_settings_are_refused(
    control: Control, path: str, body: dict[str, Any], field: str
) -> None:
    method = "POST" if path == "/_paper/history" else "PUT"
    status, answer, _ = control.call(method, path, body)
    assert status == 400
    assert field in answer["message"]


def test_twenty_symbols_of_ten_years_are_served_quickly(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    symbols = [*SYMBOLS, control.new_symbol()]
    started = time.perf_counter()
    got, pages = daily(clients, account, symbols, **TEN_YEARS)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    daily(clients, account, symbols, **TEN_YEARS)
    warm = time.perf_counter() - started
    assert sum(len(b) for b in got.values()) == 20 * len(got["SPY"])
    assert pages == 6
    # Generous bounds (shared machines); the figures measured are in docs/paper-broker.md.
    assert cold < 10
    assert warm < 5
