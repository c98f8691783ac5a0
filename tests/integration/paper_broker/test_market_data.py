"""Market data through alpaca-py's stock and crypto clients: latest trades, quotes, bars."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.models import Bar, Trade
from alpaca.data.requests import (
    CryptoLatestTradeRequest,
    StockBarsRequest,
    StockLatestQuoteRequest,
    StockLatestTradeRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from .conftest import Clients, Control

pytestmark = pytest.mark.integration


def bars(
    clients: Clients, account: dict[str, Any], symbols: list[str], tf: TimeFrame, **kw: Any
) -> dict[str, list[Bar]]:
    """Fetch bars with alpaca-py (which follows the page tokens itself)."""
    request = StockBarsRequest(symbol_or_symbols=symbols, timeframe=tf, **kw)
    return clients.stock(account).get_stock_bars(request).data


def test_latest_trades_leave_unknown_symbols_out(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    symbol = control.new_symbol(price="12.34")
    data = clients.stock(account)
    trades = data.get_stock_latest_trade(
        StockLatestTradeRequest(symbol_or_symbols=[symbol, "SPY", "NOSUCH"])
    )
    assert set(trades) == {symbol, "SPY"}
    assert trades[symbol].price == 12.34
    assert trades["SPY"].price == 500
    assert trades["SPY"].timestamp == datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
    assert trades["SPY"].size > 0


def test_latest_trade_of_one_symbol(clients: Clients, account: dict[str, Any]) -> None:
    data = clients.stock(account)
    answer = data.get("/stocks/QQQ/trades/latest")
    assert answer["symbol"] == "QQQ"
    assert set(answer["trade"]) == {"t", "x", "p", "s", "c", "i", "z"}
    trade = Trade("QQQ", answer["trade"])
    assert trade.price == 430
    assert trade.timestamp == datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
    with pytest.raises(APIError) as error:
        data.get("/stocks/NOSUCH/trades/latest")
    assert (error.value.status_code, error.value.code) == (404, 40410000)


def test_latest_quotes_have_a_one_cent_spread(clients: Clients, account: dict[str, Any]) -> None:
    quotes = clients.stock(account).get_stock_latest_quote(
        StockLatestQuoteRequest(symbol_or_symbols="GLD")
    )
    quote = quotes["GLD"]
    assert quote.bid_price == pytest.approx(189.995)
    assert quote.ask_price == pytest.approx(190.005)
    assert quote.ask_price - quote.bid_price == pytest.approx(0.01)


def test_crypto_latest_trades(clients: Clients, account: dict[str, Any]) -> None:
    for client in (clients.crypto(account), clients.crypto()):
        trades = client.get_crypto_latest_trade(
            CryptoLatestTradeRequest(symbol_or_symbols=["BTC/USD", "ETH/USD", "SPY"])
        )
        assert set(trades) == {"BTC/USD", "ETH/USD"}
        assert trades["BTC/USD"].price == 60000


def test_market_data_needs_valid_credentials(control: Control, clients: Clients) -> None:
    client = clients.stock({"api_key_id": "PKNOSUCH", "secret_key": "nope"})
    with pytest.raises(APIError) as error:
        client.get_stock_latest_trade(StockLatestTradeRequest(symbol_or_symbols="SPY"))
    assert (error.value.status_code, error.value.code) == (401, 40110000)


def test_daily_bars_cover_past_sessions_only(clients: Clients, account: dict[str, Any]) -> None:
    got = bars(clients, account, ["SPY"], TimeFrame.Day, start=datetime(2024, 2, 12))
    days = [b.timestamp for b in got["SPY"]]
    # 2024-02-19 was Presidents' Day; weekends are skipped; today's session is under way.
    assert datetime(2024, 2, 16, 5, tzinfo=UTC) in days
    assert datetime(2024, 2, 19, 5, tzinfo=UTC) not in days
    assert datetime(2024, 2, 17, 5, tzinfo=UTC) not in days
    assert days[-1] == datetime(2024, 3, 12, 4, tzinfo=UTC)  # New York midnight, in EDT
    assert len(days) == 21
    # Before today the bars are SPY's synthetic history, which ends at its price; today's
    # session is recorded (no price was set: flat).
    assert (got["SPY"][-1].open, got["SPY"][-1].high, got["SPY"][-1].close) == (500, 500, 500)
    assert got["SPY"][-2].close == 500
    assert len({b.close for b in got["SPY"]}) > 15
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in got["SPY"])


def test_bars_follow_the_prices_that_were_set(
    control: Control, clients: Clients, account: dict[str, Any]
) -> None:
    symbol = control.new_symbol(price="100")
    for moment, price in (
        ("2024-03-11T14:00:00Z", "101"),
        ("2024-03-11T14:20:00Z", "98"),
        ("2024-03-11T15:45:00Z", "99.5"),
        ("2024-03-12T13:45:00Z", "103"),
    ):
        control.clock(moment)
        control.prices(**{symbol: price})
    control.clock("2024-03-12T14:00:00Z")
    daily = bars(clients, account, [symbol], TimeFrame.Day, start=datetime(2024, 3, 8))[symbol]
    # Friday is the last day of the synthetic history, which ends at the price before the
    # first change; from Monday on the bars are the recorded prices'.
    assert daily[0].close == 100
    assert [(b.open, b.high, b.low, b.close) for b in daily[1:]] == [
        (101, 101, 98, 99.5),
        (103, 103, 103, 103),
    ]
    assert daily[1].trade_count == 3
    hourly = bars(
        clients,
        account,
        [symbol],
        TimeFrame.Hour,
        start=datetime(2024, 3, 11, 13),
        end=datetime(2024, 3, 11, 17),
    )[symbol]
    assert [(b.timestamp.hour, b.open, b.high, b.low, b.close) for b in hourly] == [
        (13, 100, 100, 100, 100),  # 09:30-10:00 New York, before any change
        (14, 101, 101, 98, 98),
        (15, 99.5, 99.5, 99.5, 99.5),
        (16, 99.5, 99.5, 99.5, 99.5),
        (17, 99.5, 99.5, 99.5, 99.5),
    ]
    quarter = TimeFrame(15, TimeFrameUnit.Minute)
    got = bars(clients, account, [symbol], quarter, start=datetime(2024, 3, 11, 14, 15))
    assert got[symbol][0].timestamp == datetime(2024, 3, 11, 14, 15, tzinfo=UTC)
    assert got[symbol][0].close == 98


def test_bar_pages_join_up(clients: Clients, account: dict[str, Any]) -> None:
    data = clients.stock(account)
    params = {
        "symbols": "QQQ,SPY",
        "timeframe": "1Hour",
        "start": "2024-03-08T00:00:00Z",
        "end": "2024-03-12T23:00:00Z",
        "limit": 7,
    }
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        page = data.get("/stocks/bars", {**params, "page_token": token} if token else params)
        pages.append(page)
        token = page["next_page_token"]
        if token is None:
            break
    joined = [(s, b["t"]) for p in pages for s, items in p["bars"].items() for b in items]
    # Friday 7 hourly bars, Monday 7, Tuesday 2 (up to 10:00): 16 per symbol.
    assert len(joined) == 32
    assert len(pages) == 5
    whole = data.get("/stocks/bars", {**params, "limit": 1000})
    assert joined == [(s, b["t"]) for s, items in whole["bars"].items() for b in items]
    assert whole["next_page_token"] is None


def test_single_symbol_bars(clients: Clients, account: dict[str, Any]) -> None:
    answer = clients.stock(account).get(
        "/stocks/TLT/bars", {"timeframe": "1Day", "start": "2024-03-11", "limit": 1}
    )
    assert answer["symbol"] == "TLT"
    assert [b["t"] for b in answer["bars"]] == ["2024-03-11T04:00:00Z"]
    assert set(answer["bars"][0]) == {"t", "o", "h", "l", "c", "v", "n", "vw"}
    bar = Bar("TLT", answer["bars"][0])
    # The session before today: the last synthetic bar, closing at TLT's price.
    assert bar.close == 95
    assert bar.low <= min(bar.open, bar.close, bar.vwap) <= max(bar.open, bar.vwap) <= bar.high
    assert answer["next_page_token"] is not None


@pytest.mark.parametrize(
    "params",
    [
        {"symbols": "SPY", "timeframe": "1Week"},
        {"symbols": "SPY", "timeframe": "60Min"},
        {"symbols": "SPY", "timeframe": "1Day", "limit": 0},
        {"symbols": "SPY", "timeframe": "1Day", "start": "yesterday"},
        {"timeframe": "1Day"},
    ],
)
def test_bad_bar_requests_are_422(
    clients: Clients, account: dict[str, Any], params: dict[str, Any]
) -> None:
    with pytest.raises(APIError) as error:
        clients.stock(account).get("/stocks/bars", params)
    assert (error.value.status_code, error.value.code) == (422, 40010001)
