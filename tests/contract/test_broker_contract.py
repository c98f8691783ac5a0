"""The Broker port's contract, held by the in-memory fake and by the Alpaca adapter.

Each test runs on both backends (`make_broker_account` is parametrized): the fake must
answer as alpaca-py on the paper broker does, so that unit tests built on the fake
exercise what production meets. Money the broker reports in cents (portfolio value,
market value, cost basis, buying power) is compared to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest

from rebalancer.domain.errors import BrokerRejected, BuyingPowerShort, DuplicateOrderId
from rebalancer.domain.models import OrderIntent, OrderResult, OrderType, Side
from rebalancer.domain.tax import Fill
from rebalancer.service.ports import BrokerPosition

from .conftest import (
    BROKER_MONDAY_OPEN,
    BROKER_OPEN_AT,
    BROKER_SATURDAY,
    BrokerBackend,
    Lot,
    MakeBrokerAccount,
)

TRADED_ON = date(2024, 3, 12)  # BROKER_OPEN_AT's New York date


def cents(amount: D) -> D:
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def buy(
    symbol: str,
    client_order_id: str | None = None,
    *,
    qty: D | None = None,
    notional_usd: D | None = None,
) -> OrderIntent:
    return OrderIntent(symbol, Side.BUY, qty, notional_usd, client_order_id=client_order_id)


def sell(
    symbol: str,
    client_order_id: str | None = None,
    *,
    qty: D | None = None,
    notional_usd: D | None = None,
) -> OrderIntent:
    return OrderIntent(symbol, Side.SELL, qty, notional_usd, client_order_id=client_order_id)


def limit_buy(symbol: str, qty: str, limit: str, client_order_id: str) -> OrderIntent:
    return OrderIntent(
        symbol,
        Side.BUY,
        qty=D(qty),
        order_type=OrderType.LIMIT,
        limit_price_usd=D(limit),
        client_order_id=client_order_id,
    )


def reread(backend: BrokerBackend, placed: OrderResult) -> OrderResult:
    assert placed.order_id
    return backend.broker.get_order(placed.order_id)


def position_of(backend: BrokerBackend, symbol: str) -> BrokerPosition:
    (found,) = [p for p in backend.broker.get_positions() if p.symbol == symbol]
    return found


# --- Account and positions ---------------------------------------------------------------


def test_the_account_reports_cash_value_and_buying_power(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("10000", [Lot("ACME", "10", "80")])
    account = backend.broker.get_account()
    assert account.account_number == backend.account_number and account.status == "ACTIVE"
    assert account.cash_usd == D(10000)
    assert cents(account.portfolio_value_usd) == D(11000)  # the cash plus 10 x $100
    assert cents(account.buying_power_usd) == D(10000)  # a cash account: no margin


def test_an_empty_account_has_no_positions(make_broker_account: MakeBrokerAccount) -> None:
    backend = make_broker_account("500")
    assert backend.broker.get_positions() == []
    assert cents(backend.broker.get_account().portfolio_value_usd) == D(500)


def test_positions_report_qty_price_value_and_first_in_first_out_cost_basis(
    make_broker_account: MakeBrokerAccount,
) -> None:
    lots = [
        Lot("ACME", "10", "80", date(2023, 1, 3)),
        Lot("ACME", "5", "90", date(2023, 6, 1)),
        Lot("BOLT", "2.5", "2", date(2023, 2, 1)),
    ]
    backend = make_broker_account("1000", lots)
    positions = {p.symbol: p for p in backend.broker.get_positions()}
    assert set(positions) == {"ACME", "BOLT"}
    acme, bolt = positions["ACME"], positions["BOLT"]
    assert (acme.qty, acme.price_usd, acme.available) == (D(15), D(100), D(15))
    assert cents(acme.market_value_usd) == D(1500) and cents(acme.cost_basis_usd) == D(1250)
    assert (bolt.qty, bolt.price_usd) == (D("2.5"), D(3))
    assert cents(bolt.market_value_usd) == D("7.50") and cents(bolt.cost_basis_usd) == D(5)

    backend.broker.submit_order(sell("ACME", "fifo-1", qty=D(12)))  # the $80 lot goes first
    acme = position_of(backend, "ACME")
    assert acme.qty == D(3) and cents(acme.cost_basis_usd) == D(270)
    backend.set_prices(ACME="110")
    acme = position_of(backend, "ACME")
    assert acme.price_usd == D(110) and cents(acme.market_value_usd) == D(330)
    value = backend.broker.get_account().portfolio_value_usd
    assert cents(value) == D(1000 + 1200 + 330) + cents(bolt.market_value_usd)


def test_a_bought_position_has_the_fill_as_its_cost_basis(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("10000")
    backend.broker.submit_order(buy("ACME", "basis-1", qty=D(4)))
    backend.set_prices(ACME="120")
    acme = position_of(backend, "ACME")
    assert acme.qty == D(4) and cents(acme.cost_basis_usd) == D(400)
    assert cents(acme.market_value_usd) == D(480)


def test_a_position_sold_out_is_gone(make_broker_account: MakeBrokerAccount) -> None:
    backend = make_broker_account("0", [Lot("ACME", "2", "50")])
    backend.broker.submit_order(sell("ACME", "all-1", qty=D(2)))
    assert backend.broker.get_positions() == []
    assert backend.broker.get_account().cash_usd == D(200)


# --- Assets and prices -------------------------------------------------------------------


def test_assets_leave_unknown_symbols_out_and_say_what_is_fractionable(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    assets = backend.broker.get_assets(["ACME", "WHOLE", "HALTED", "NOPEX"])
    assert set(assets) == {"ACME", "WHOLE", "HALTED"}
    assert assets["ACME"].fractionable and assets["ACME"].tradable
    assert not assets["WHOLE"].fractionable and assets["WHOLE"].tradable
    assert not assets["HALTED"].tradable
    assert assets["ACME"].asset_class == "us_equity"
    assert backend.broker.get_assets([]) == {}


def test_latest_prices_leave_unknown_symbols_out(make_broker_account: MakeBrokerAccount) -> None:
    backend = make_broker_account()
    assert backend.broker.get_latest_prices(["ACME", "BOLT", "NOPEX"]) == {
        "ACME": D(100),
        "BOLT": D(3),
    }
    backend.set_prices(ACME="101.25")
    assert backend.broker.get_latest_prices(["ACME"]) == {"ACME": D("101.25")}
    assert backend.broker.get_latest_prices(["NOPEX"]) == {}


def test_latest_prices_cover_crypto_pairs_beside_stocks(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    backend.set_prices(**{"BTC/USD": "65000.5"})
    assert backend.broker.get_latest_prices(["ACME", "BTC/USD"]) == {
        "ACME": D(100),
        "BTC/USD": D("65000.5"),
    }


# --- Placing orders ----------------------------------------------------------------------


def test_a_market_buy_by_qty_is_answered_as_accepted_and_then_shows_its_fill(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("10000")
    placed = backend.broker.submit_order(buy("ACME", "qty-buy-1", qty=D(3)))
    # Like Alpaca, the answer is the order as accepted: the fill shows on the next read.
    assert placed.status == "new" and placed.filled_qty == 0
    assert placed.filled_avg_price_usd is None
    assert placed.client_order_id == "qty-buy-1" and placed.order_id
    assert (placed.symbol, placed.side, placed.qty, placed.notional_usd) == (
        "ACME",
        Side.BUY,
        D(3),
        None,
    )
    filled = reread(backend, placed)
    assert filled.status == "filled" and filled.filled_qty == D(3)
    assert filled.filled_avg_price_usd == D(100) and filled.order_id == placed.order_id
    assert backend.broker.get_account().cash_usd == D(9700)
    assert position_of(backend, "ACME").qty == D(3)


def test_a_market_sell_by_qty_fills_and_credits_the_cash(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("100", [Lot("ACME", "10", "80")])
    placed = backend.broker.submit_order(sell("ACME", "qty-sell-1", qty=D("2.5")))
    filled = reread(backend, placed)
    assert filled.status == "filled" and filled.filled_qty == D("2.5") and filled.side is Side.SELL
    assert backend.broker.get_account().cash_usd == D(350)
    assert position_of(backend, "ACME").qty == D("7.5")


def test_notional_orders_fill_whole_cents_of_shares_rounded_down_to_nine_places(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000", [Lot("BOLT", "100", "2")])
    bought = backend.broker.submit_order(buy("BOLT", "notional-buy-1", notional_usd=D(100)))
    assert bought.qty is None and bought.notional_usd == D(100)
    filled = reread(backend, bought)
    assert filled.status == "filled" and filled.qty is None
    assert filled.filled_qty == D("33.333333333") and filled.filled_avg_price_usd == D(3)
    assert backend.broker.get_account().cash_usd == D(900)  # 99.999999999 to the cent
    sold = backend.broker.submit_order(sell("BOLT", "notional-sell-1", notional_usd=D(10)))
    assert reread(backend, sold).filled_qty == D("3.333333333")
    assert backend.broker.get_account().cash_usd == D(910)
    assert position_of(backend, "BOLT").qty == D(130)


def test_an_order_without_a_client_order_id_is_given_one(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    placed = backend.broker.submit_order(buy("ACME", qty=D(1)))
    assert placed.client_order_id
    found = backend.broker.find_order(placed.client_order_id)
    assert found is not None and found.order_id == placed.order_id


def test_a_client_order_id_used_twice_is_refused_as_a_duplicate(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000")
    first = backend.broker.submit_order(buy("ACME", "twice-1", qty=D(1)))
    with pytest.raises(DuplicateOrderId) as refused:
        backend.broker.submit_order(buy("ACME", "twice-1", qty=D(1)))
    assert refused.value.status == 422
    # The id is checked before the funds: an unaffordable repeat is still a duplicate.
    with pytest.raises(DuplicateOrderId):
        backend.broker.submit_order(buy("ACME", "twice-1", qty=D(1000)))
    assert [o.order_id for o in backend.broker.recent_orders(BROKER_OPEN_AT)] == []
    assert backend.broker.find_order("twice-1") == reread(backend, first)
    assert backend.broker.get_account().cash_usd == D(900)  # one order, not two


def test_a_buy_beyond_buying_power_is_refused(make_broker_account: MakeBrokerAccount) -> None:
    backend = make_broker_account("1000")
    with pytest.raises(BuyingPowerShort) as refused:
        backend.broker.submit_order(buy("ACME", "too-big-1", qty=D(11)))
    assert refused.value.status == 403
    with pytest.raises(BuyingPowerShort):
        backend.broker.submit_order(buy("ACME", "too-big-2", notional_usd=D("1000.01")))
    assert backend.broker.find_order("too-big-1") is None
    assert backend.broker.get_account().cash_usd == D(1000)
    # All of the buying power can be spent.
    assert reread(backend, backend.broker.submit_order(buy("ACME", "exact-1", qty=D(10)))).status
    assert backend.broker.get_account().cash_usd == D(0)


@pytest.mark.parametrize(
    "intent",
    [
        sell("ACME", "oversell-1", qty=D(11)),
        sell("ACME", "oversell-2", notional_usd=D(1100)),
        sell("BOLT", "oversell-3", qty=D(1)),  # none held: there is no shorting
    ],
    ids=["qty", "notional", "not-held"],
)
def test_selling_more_than_held_is_refused(
    make_broker_account: MakeBrokerAccount, intent: OrderIntent
) -> None:
    backend = make_broker_account("0", [Lot("ACME", "10", "80")])
    with pytest.raises(BuyingPowerShort) as refused:
        backend.broker.submit_order(intent)
    assert refused.value.status == 403
    assert position_of(backend, "ACME").qty == D(10)
    assert backend.broker.find_order(intent.client_order_id or "") is None


@pytest.mark.parametrize(
    "intent",
    [
        buy("NOPEX", "bad-1", qty=D(1)),  # unknown symbol
        buy("HALTED", "bad-2", qty=D(1)),  # not tradable
        buy("WHOLE", "bad-3", qty=D("0.5")),  # a fraction of a whole-share asset
        buy("WHOLE", "bad-4", notional_usd=D(100)),  # notional: a fraction too
    ],
    ids=["unknown", "not-tradable", "fraction", "notional-whole"],
)
def test_orders_the_broker_cannot_take_are_rejected(
    make_broker_account: MakeBrokerAccount, intent: OrderIntent
) -> None:
    backend = make_broker_account("10000")
    with pytest.raises(BrokerRejected) as refused:
        backend.broker.submit_order(intent)
    assert type(refused.value) is BrokerRejected and refused.value.status == 422
    assert backend.broker.find_order(intent.client_order_id or "") is None


# --- Reading orders ----------------------------------------------------------------------


def test_orders_are_found_by_id_and_client_id_and_absent_ones_are_not(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    placed = backend.broker.submit_order(buy("ACME", "find-me-1", qty=D(1)))
    by_client = backend.broker.find_order("find-me-1")
    assert by_client is not None and by_client == reread(backend, placed)
    assert by_client.status == "filled"
    assert backend.broker.find_order("never-sent-1") is None
    with pytest.raises(BrokerRejected) as unknown:
        backend.broker.get_order("00000000-0000-0000-0000-000000000000")
    assert unknown.value.status == 404


def test_recent_orders_are_those_submitted_after_the_instant_newest_first(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    first = backend.broker.submit_order(buy("ACME", "recent-1", qty=D(1)))
    backend.advance(60)
    second = backend.broker.submit_order(buy("BOLT", "recent-2", qty=D(1)))
    backend.advance(60)
    everything = backend.broker.recent_orders(BROKER_OPEN_AT - timedelta(seconds=1))
    assert [o.client_order_id for o in everything] == ["recent-2", "recent-1"]
    assert everything[1] == reread(backend, first) and everything[0].status == "filled"
    later = backend.broker.recent_orders(BROKER_OPEN_AT + timedelta(seconds=30))
    assert [o.order_id for o in later] == [second.order_id]
    assert backend.broker.recent_orders(BROKER_OPEN_AT + timedelta(seconds=61)) == []


# --- Open orders: holds, fills at the open or when the price crosses, cancels ------------


def test_a_market_order_sent_while_closed_holds_buying_power_and_fills_at_the_open(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000", at=BROKER_SATURDAY)
    placed = backend.broker.submit_order(buy("ACME", "weekend-1", qty=D(4)))
    assert placed.status == "accepted" and placed.filled_qty == 0
    assert reread(backend, placed).status == "accepted"
    account = backend.broker.get_account()
    assert account.cash_usd == D(1000) and cents(account.buying_power_usd) == D(600)
    with pytest.raises(BuyingPowerShort):  # what the open order holds cannot be spent twice
        backend.broker.submit_order(buy("ACME", "weekend-2", qty=D(7)))

    backend.move_to(BROKER_MONDAY_OPEN + timedelta(minutes=1))
    filled = reread(backend, placed)
    assert filled.status == "filled" and filled.filled_qty == D(4)
    account = backend.broker.get_account()
    assert account.cash_usd == D(600) and cents(account.buying_power_usd) == D(600)


def test_an_open_limit_buy_holds_its_limit_value_and_fills_when_the_price_crosses(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000")
    placed = backend.broker.submit_order(limit_buy("ACME", "5", "95", "limit-1"))
    assert placed.status == "new" and reread(backend, placed).status == "new"
    assert cents(backend.broker.get_account().buying_power_usd) == D(525)  # 1000 - 5 x 95
    backend.set_prices(ACME="94")
    filled = reread(backend, placed)
    assert filled.status == "filled" and filled.filled_avg_price_usd == D(94)
    assert backend.broker.get_account().cash_usd == D(530)


def test_an_open_sell_holds_its_shares_from_qty_available(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("0", [Lot("ACME", "10", "80")], at=BROKER_SATURDAY)
    backend.broker.submit_order(sell("ACME", "weekend-sell-1", qty=D(4)))
    acme = position_of(backend, "ACME")
    assert acme.qty == D(10) and acme.qty_available == D(6) and acme.available == D(6)
    with pytest.raises(BuyingPowerShort):
        backend.broker.submit_order(sell("ACME", "weekend-sell-2", qty=D(7)))
    backend.broker.submit_order(sell("ACME", "weekend-sell-3", qty=D(6)))
    assert position_of(backend, "ACME").qty_available == D(0)


def test_cancelling_an_open_order_frees_what_it_held(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000", [Lot("ACME", "10", "80")], at=BROKER_SATURDAY)
    bought = backend.broker.submit_order(buy("ACME", "cancel-buy-1", qty=D(4)))
    sold = backend.broker.submit_order(sell("ACME", "cancel-sell-1", qty=D(3)))
    backend.broker.cancel_order(bought.order_id or "")
    backend.broker.cancel_order(sold.order_id or "")
    assert reread(backend, bought).status == "canceled"
    assert reread(backend, sold).status == "canceled"
    assert reread(backend, bought).filled_qty == 0
    assert cents(backend.broker.get_account().buying_power_usd) == D(1000)
    assert position_of(backend, "ACME").qty_available == D(10)
    backend.broker.cancel_order(bought.order_id or "")  # cancelled already: left as it is
    backend.move_to(BROKER_MONDAY_OPEN + timedelta(minutes=1))
    assert reread(backend, bought).status == "canceled"  # nothing fills at the open
    assert backend.broker.get_account().cash_usd == D(1000)


def test_cancelling_a_finished_or_unknown_order_leaves_it_as_it_is(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000")
    placed = backend.broker.submit_order(buy("ACME", "done-1", qty=D(2)))
    before = reread(backend, placed)
    assert before.status == "filled"
    backend.broker.cancel_order(placed.order_id or "")
    assert reread(backend, placed) == before
    backend.broker.cancel_order("00000000-0000-0000-0000-000000000000")
    assert backend.broker.get_account().cash_usd == D(800)


# --- Fills, clock, calendar ----------------------------------------------------------------


def test_fills_are_every_fill_activity_oldest_first(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account("1000", [Lot("ACME", "10", "80", date(2024, 1, 2))])
    backend.broker.submit_order(buy("ACME", "fills-1", qty=D(3)))
    backend.advance(60)
    backend.set_prices(ACME="110")
    backend.broker.submit_order(sell("ACME", "fills-2", qty=D(2)))
    with pytest.raises(BuyingPowerShort):
        backend.broker.submit_order(buy("ACME", "fills-4", qty=D(100)))
    fills = backend.broker.get_fills()
    assert [replace(f, sequence=0) for f in fills] == [
        Fill("ACME", Side.BUY, D(10), D(80), date(2024, 1, 2)),
        Fill("ACME", Side.BUY, D(3), D(100), TRADED_ON),
        Fill("ACME", Side.SELL, D(2), D(110), TRADED_ON),
    ]
    # The sequence numbers the fills in the broker's order (the tax lots' tie-breaker).
    assert [f.sequence for f in fills] == list(range(len(fills)))


def test_an_account_without_trades_has_no_fills(make_broker_account: MakeBrokerAccount) -> None:
    backend = make_broker_account("1000")
    assert backend.broker.get_fills() == []


def test_the_clock_says_whether_the_market_is_open_and_when_it_opens_next(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account(at=BROKER_SATURDAY)
    clock = backend.broker.get_clock()
    assert not clock.is_open and clock.next_open == BROKER_MONDAY_OPEN
    assert clock.next_open.utcoffset() is not None
    backend.move_to(BROKER_OPEN_AT)
    clock = backend.broker.get_clock()
    assert clock.is_open and clock.next_open > BROKER_OPEN_AT


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Good Friday 2024-03-29 and the weekend after it.
        (date(2024, 3, 25), date(2024, 4, 2), {25, 26, 27, 28, 1, 2}),
        # Thanksgiving 2026 (Thursday the 26th); the Friday after is an early close.
        (date(2026, 11, 21), date(2026, 11, 29), {23, 24, 25, 27}),
        # Christmas 2026 and New Year's Day 2027 are Fridays.
        (date(2026, 12, 23), date(2027, 1, 4), {23, 24, 28, 29, 30, 31, 4}),
        (date(2024, 7, 6), date(2024, 7, 7), set()),  # a weekend alone
    ],
    ids=["good-friday", "thanksgiving", "year-end", "weekend"],
)
def test_trading_days_leave_out_weekends_and_holidays(
    make_broker_account: MakeBrokerAccount, start: date, end: date, expected: set[int]
) -> None:
    backend = make_broker_account()
    days = backend.broker.trading_days(start, end)
    assert {d.day for d in days} == expected and all(start <= d <= end for d in days)
    assert all(d.weekday() < 5 for d in days)


# Daily closes (the paper broker's synthetic history; the fake gets the same closes)

INDEXES = ("SPY", "QQQ", "TLT", "GLD", "BND")


def test_daily_closes_are_oldest_first_on_trading_days_end_included(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    backend.seed_daily_closes("SPY", "QQQ")
    start, end = date(2024, 2, 12), date(2024, 3, 8)
    closes = backend.broker.get_daily_closes(["SPY", "QQQ", "NOSUCH", "BTC/USD"], start, end)
    assert set(closes) == {"SPY", "QQQ"}
    for series in closes.values():
        days = [day for day, _ in series]
        assert days == sorted(set(days))
        assert set(days) == backend.broker.trading_days(start, end)
        assert (days[0], days[-1]) == (start, end)
        assert date(2024, 2, 19) not in days  # Presidents' Day
        assert all(isinstance(close, D) and close > 0 for _, close in series)


def test_ten_years_of_daily_closes_page_through_and_end_at_the_latest_price(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    backend.seed_daily_closes(*INDEXES)
    yesterday = TRADED_ON - timedelta(days=1)
    # Five symbols of ten years are more bars than one page of 10,000 holds.
    closes = backend.broker.get_daily_closes(INDEXES, date(2014, 3, 12), yesterday)
    assert set(closes) == set(INDEXES)
    sessions = backend.broker.trading_days(date(2014, 3, 12), yesterday)
    assert len(sessions) > 2500
    assert {len(series) for series in closes.values()} == {len(sessions)}
    latest = backend.broker.get_latest_prices(INDEXES)
    assert {s: series[-1][1] for s, series in closes.items()} == latest
    assert closes["SPY"][-1][0] == yesterday


def test_daily_closes_include_todays_session_once_it_has_opened(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    backend.seed_daily_closes("SPY")
    today = backend.broker.get_daily_closes(["SPY"], TRADED_ON, TRADED_ON)
    assert today == {"SPY": [(TRADED_ON, D(500))]}
    assert backend.broker.get_daily_closes(["SPY"], TRADED_ON, TRADED_ON - timedelta(days=1)) == {}


def test_daily_closes_of_a_range_without_sessions_leave_the_symbol_out(
    make_broker_account: MakeBrokerAccount,
) -> None:
    backend = make_broker_account()
    backend.seed_daily_closes("SPY")
    weekend = backend.broker.get_daily_closes(["SPY"], date(2024, 3, 9), date(2024, 3, 10))
    assert weekend == {}
