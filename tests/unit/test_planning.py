from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rebalancer.domain.drift import measure_drift
from rebalancer.domain.models import AssetInfo, Holding, Portfolio, Side, Target
from rebalancer.domain.orders import round_qty
from rebalancer.domain.planning import plan_to_target

pytestmark = pytest.mark.unit

PRICES = {"SPY": D("500"), "QQQ": D("400"), "TLT": D("90"), "GLD": D("200"), "BRK.A": D("600000")}
ASSETS = {s: AssetInfo(s, True, s != "BRK.A") for s in PRICES}
TARGETS = [Target("SPY", D(40)), Target("QQQ", D(30)), Target("TLT", D(20)), Target("GLD", D(10))]


def portfolio(cash: str, **qty: str) -> Portfolio:
    holdings = tuple(Holding(s, D(q), PRICES[s], D(q) * PRICES[s]) for s, q in qty.items())
    return Portfolio(D(cash), holdings)


def plan(p: Portfolio, targets=TARGETS, assets=ASSETS, **kw):
    return plan_to_target(measure_drift(p, targets), p, assets, PRICES, **kw)


def test_sells_come_before_buys_and_each_trade_reaches_its_target() -> None:
    p = portfolio("0", SPY="100", QQQ="50", TLT="100", GLD="40")  # 50k 20k 9k 8k = 87k
    result = plan(p)
    sides = [t.side for t in result.trades]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)
    spy = next(t for t in result.trades if t.symbol == "SPY")
    assert spy.side is Side.SELL and spy.qty == D("30.4")  # 50000 - 34800 = 15200 / 500
    qqq = next(t for t in result.trades if t.symbol == "QQQ")
    assert qqq.side is Side.BUY and qqq.qty == D("15.25")  # 26100 - 20000 = 6100 / 400


def test_fractional_quantities_have_at_most_9_decimals_and_buys_round_down() -> None:
    assert round_qty(D("1.1234567899"), fractionable=True, side=Side.BUY) == D("1.123456789")
    assert round_qty(D("2.5"), fractionable=False, side=Side.BUY) == 2
    assert round_qty(D("2.5"), fractionable=False, side=Side.SELL) == 3
    with pytest.raises(ValueError):
        round_qty(D("-1"), fractionable=True, side=Side.BUY)
    with pytest.raises(ValueError):
        round_qty(D("NaN"), fractionable=True, side=Side.BUY)


def test_whole_share_assets_trade_whole_shares_and_small_trades_are_skipped_with_reason() -> None:
    targets = [Target("SPY", D(50)), Target("BRK.A", D(50))]
    p = portfolio("2000000", SPY="0")
    result = plan(p, targets)
    brk = next(t for t in result.trades if t.symbol == "BRK.A")
    assert brk.qty == 1  # 1,000,000 / 600,000 = 1.67, bought whole and rounded down
    small = plan(portfolio("5", SPY="200"), [Target("SPY", D(100))], min_trade_usd=D(10))
    assert small.trades == ()
    assert small.skipped[0].reason == "below the minimum trade of $10.00"


def test_a_whole_share_that_costs_more_than_the_gap_is_skipped() -> None:
    p = portfolio("300000", SPY="600")  # 300k SPY, 300k cash; BRK.A target 50 % = 300k
    result = plan(p, [Target("SPY", D(50)), Target("BRK.A", D(50))])
    assert [t.symbol for t in result.trades] == []
    assert "rounds to zero shares" in result.skipped[0].reason


def test_holdings_without_target_are_sold_in_full_and_untradable_ones_are_skipped() -> None:
    assets = ASSETS | {"TLT": AssetInfo("TLT", False, True)}
    p = portfolio("0", SPY="100", GLD="10", TLT="10")
    result = plan(p, [Target("SPY", D(100))], assets)
    gld = next(t for t in result.trades if t.symbol == "GLD")
    assert gld.side is Side.SELL and gld.qty == 10
    assert [(s.symbol, s.reason) for s in result.skipped] == [("TLT", "not tradable at the broker")]


qtys = st.decimals(min_value=0, max_value=10_000, places=3)


@given(
    cash=st.decimals(min_value=0, max_value=10**6, places=2), spy=qtys, qqq=qtys, tlt=qtys, gld=qtys
)
def test_properties_no_sell_beyond_holdings_and_cash_never_negative(
    cash, spy, qqq, tlt, gld
) -> None:
    p = portfolio(str(cash), SPY=str(spy), QQQ=str(qqq), TLT=str(tlt), GLD=str(gld))
    if p.total_value_usd <= 0:
        return
    result = plan(p)
    balance = p.cash_usd
    for trade in result.trades:
        held = p.holding(trade.symbol)
        if trade.side is Side.SELL:
            assert held is not None and trade.qty <= held.qty
            balance += trade.estimated_value_usd
        else:
            balance -= trade.estimated_value_usd
        assert trade.qty > 0 and trade.estimated_value_usd >= 10
        assert trade.qty == round_qty(trade.qty, fractionable=True, side=trade.side)
    assert balance >= 0  # sells first, buys rounded down: the basket never overdraws cash
