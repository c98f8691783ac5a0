"""The clock, the NYSE calendar, and orders around the open and the close."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import GetCalendarRequest, LimitOrderRequest, MarketOrderRequest

from .conftest import WEEKEND_NOW, Clients, Control

pytestmark = pytest.mark.integration

EDT = timezone(timedelta(hours=-4))
EST = timezone(timedelta(hours=-5))


def calendar(client: TradingClient, start: date, end: date) -> dict[date, tuple[str, str]]:
    """Return the calendar's sessions as date -> (open, close) wall times."""
    days = client.get_calendar(GetCalendarRequest(start=start, end=end))
    return {d.date: (d.open.strftime("%H:%M"), d.close.strftime("%H:%M")) for d in days}


def test_clock_while_open(trading: TradingClient) -> None:
    clock = trading.get_clock()
    assert clock.is_open
    assert clock.timestamp == datetime(2024, 3, 12, 10, 0, tzinfo=EDT)
    assert clock.timestamp.utcoffset() == timedelta(hours=-4)
    assert clock.next_open == datetime(2024, 3, 13, 9, 30, tzinfo=EDT)
    assert clock.next_close == datetime(2024, 3, 12, 16, 0, tzinfo=EDT)


def test_clock_over_a_weekend_and_a_holiday(control: Control, trading: TradingClient) -> None:
    control.clock("2024-03-09T15:00:00Z")
    clock = trading.get_clock()
    assert not clock.is_open
    # Clocks went forward on Sunday 2024-03-10: Saturday is EST, Monday EDT.
    assert clock.timestamp.utcoffset() == timedelta(hours=-5)
    assert clock.next_open == datetime(2024, 3, 11, 9, 30, tzinfo=EDT)
    assert clock.next_close == datetime(2024, 3, 11, 16, 0, tzinfo=EDT)
    control.clock("2024-07-03T18:00:00Z")  # 14:00 New York, after the 13:00 early close
    clock = trading.get_clock()
    assert not clock.is_open
    assert clock.next_open == datetime(2024, 7, 5, 9, 30, tzinfo=EDT)


def test_calendar_holidays_and_early_closes(trading: TradingClient) -> None:
    days = calendar(trading, date(2024, 1, 1), date(2024, 12, 31))
    assert len(days) == 252
    for holiday in (
        date(2024, 1, 1),
        date(2024, 1, 15),
        date(2024, 2, 19),
        date(2024, 3, 29),
        date(2024, 5, 27),
        date(2024, 6, 19),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 12, 25),
    ):
        assert holiday not in days
    assert date(2024, 3, 30) not in days  # a Saturday
    assert days[date(2024, 3, 12)] == ("09:30", "16:00")
    for early in (date(2024, 7, 3), date(2024, 11, 29), date(2024, 12, 24)):
        assert days[early] == ("09:30", "13:00")


def test_calendar_observed_holidays(trading: TradingClient) -> None:
    days = calendar(trading, date(2021, 12, 20), date(2022, 1, 5))
    # Christmas 2021 fell on a Saturday: observed Friday the 24th. New Year's Day 2022
    # (a Saturday) is not made up on Friday the 31st.
    assert date(2021, 12, 24) not in days
    assert days[date(2021, 12, 31)] == ("09:30", "16:00")
    assert date(2022, 1, 3) in days
    assert date(2022, 6, 20) not in calendar(trading, date(2022, 6, 17), date(2022, 6, 21))


def test_calendar_spans_1970_to_2029(trading: TradingClient) -> None:
    first = calendar(trading, date(1960, 1, 1), date(1970, 1, 10))
    assert min(first) == date(1970, 1, 2)
    last = calendar(trading, date(2029, 12, 20), date(2035, 1, 1))
    assert max(last) == date(2029, 12, 31)


def test_market_order_while_closed_fills_at_the_next_open(
    control: Control, clients: Clients
) -> None:
    control.clock(WEEKEND_NOW)
    symbol = control.new_symbol(price="20")
    client = clients.trading(control.account(cash="1000"))
    order = client.submit_order(
        MarketOrderRequest(symbol=symbol, qty=10, side=OrderSide.BUY, time_in_force="day")
    )
    assert order.status == OrderStatus.ACCEPTED
    assert client.get_order_by_id(order.id).status == OrderStatus.ACCEPTED
    control.prices(**{symbol: "21"})
    assert client.get_order_by_id(order.id).status == OrderStatus.ACCEPTED
    clock = control.ok("POST", "/_paper/clock/next_open")
    assert clock["now"] == "2024-03-11T13:30:00.000000Z"
    assert clock["is_open"] is True
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert filled.filled_avg_price == "21"
    assert filled.filled_at == datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    assert client.get_account().cash == "790"


def test_order_accepted_while_closed_is_new_at_the_open_and_expires_at_its_close(
    control: Control, clients: Clients
) -> None:
    control.clock(WEEKEND_NOW)
    client = clients.trading(control.account())
    order = client.submit_order(
        LimitOrderRequest(symbol="SPY", qty=1, side="buy", time_in_force="day", limit_price=1)
    )
    assert order.status == OrderStatus.ACCEPTED
    assert order.expires_at == datetime(2024, 3, 11, 20, 0, tzinfo=UTC)
    control.ok("POST", "/_paper/clock/next_open")
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    control.ok("POST", "/_paper/clock", {"market": "closed"})
    expired = client.get_order_by_id(order.id)
    assert expired.status == OrderStatus.EXPIRED
    assert expired.expired_at == datetime(2024, 3, 11, 20, 0, tzinfo=UTC)


def test_day_limit_order_expires_at_the_close(control: Control, clients: Clients) -> None:
    symbol = control.new_symbol(price="100")
    client = clients.trading(control.account())
    order = client.submit_order(
        LimitOrderRequest(
            symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force="day", limit_price=90
        )
    )
    assert order.expires_at == datetime(2024, 3, 12, 20, 0, tzinfo=UTC)
    control.clock("2024-03-12T19:59:59Z")
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    control.clock("2024-03-12T22:00:00Z")
    expired = client.get_order_by_id(order.id)
    assert expired.status == OrderStatus.EXPIRED
    assert expired.expired_at == datetime(2024, 3, 12, 20, 0, tzinfo=UTC)
    assert client.get_account().buying_power == "100000"


def test_early_close_expires_day_orders_at_13(control: Control, clients: Clients) -> None:
    control.clock("2024-11-29T15:00:00Z")
    client = clients.trading(control.account())
    order = client.submit_order(
        LimitOrderRequest(symbol="SPY", qty=1, side="buy", time_in_force="day", limit_price=1)
    )
    control.ok("POST", "/_paper/clock", {"market": "closed"})
    expired = client.get_order_by_id(order.id)
    assert expired.status == OrderStatus.EXPIRED
    assert expired.expired_at == datetime(2024, 11, 29, 18, 0, tzinfo=UTC)


def test_gtc_limit_order_fills_at_a_later_open(control: Control, clients: Clients) -> None:
    symbol = control.new_symbol(price="100")
    client = clients.trading(control.account())
    order = client.submit_order(
        LimitOrderRequest(
            symbol=symbol, qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=95
        )
    )
    control.clock("2024-03-12T23:00:00Z")  # evening: closed
    control.prices(**{symbol: "94"})
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    control.ok("POST", "/_paper/clock", {"market": "open"})
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert filled.filled_avg_price == "94"
    assert filled.filled_at == datetime(2024, 3, 13, 13, 30, tzinfo=UTC)


def test_ioc_order_that_cannot_fill_is_canceled(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account())
    order = client.submit_order(
        LimitOrderRequest(symbol="SPY", qty=1, side="buy", time_in_force="ioc", limit_price=1)
    )
    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED


def test_running_clock_fills_lazily(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account())
    clock = control.clock("2024-03-13T13:29:59Z", frozen=False)
    assert clock["frozen"] is False
    assert clock["is_open"] is False
    order = client.submit_order(
        MarketOrderRequest(symbol="GLD", qty=1, side=OrderSide.BUY, time_in_force="day")
    )
    assert order.status == OrderStatus.ACCEPTED
    deadline = time.monotonic() + 5
    while not client.get_clock().is_open:
        assert time.monotonic() < deadline, "the running clock did not reach the open"
        time.sleep(0.05)
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert filled.filled_at == datetime(2024, 3, 13, 13, 30, tzinfo=UTC)


def test_control_clock_market_moves(control: Control) -> None:
    control.clock(WEEKEND_NOW)
    opened = control.ok("POST", "/_paper/clock", {"market": "open"})
    assert opened == {
        "now": "2024-03-11T13:30:00.000000Z",
        "frozen": True,
        "is_open": True,
        "next_open": "2024-03-12T13:30:00.000000Z",
        "next_close": "2024-03-11T20:00:00.000000Z",
    }
    assert control.ok("POST", "/_paper/clock", {"market": "open"})["now"] == opened["now"]
    closed = control.ok("POST", "/_paper/clock", {"market": "closed"})
    assert closed["now"] == "2024-03-11T20:00:00.000000Z"
    assert closed["is_open"] is False
    assert control.ok("GET", "/_paper/clock") == closed
