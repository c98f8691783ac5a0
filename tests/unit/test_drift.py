from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rebalancer.domain.drift import DriftMethod, DriftSettings, measure_drift
from rebalancer.domain.models import Holding, Portfolio, Target

pytestmark = pytest.mark.unit


def holding(symbol: str, value: str, price: str = "100") -> Holding:
    return Holding(symbol, D(value) / D(price), D(price), D(value))


def test_worked_example_target_60_actual_55() -> None:
    portfolio = Portfolio(D(0), (holding("VTI", "55000"), holding("BND", "45000")))
    report = measure_drift(portfolio, [Target("VTI", D(60)), Target("BND", D(40))])
    vti = report.assets[0]
    assert vti.actual_percent == 55
    assert vti.drift_percent == -5
    assert round(vti.relative_drift_percent or 0, 2) == D("-8.33")
    assert not vti.breach  # exactly at the band is inside it
    assert vti.action == "hold"


def test_worked_example_of_the_contract_spy_at_46_5() -> None:
    portfolio = Portfolio(
        D(0),
        (
            holding("SPY", "46500"),
            holding("QQQ", "26500"),
            holding("TLT", "17000"),
            holding("GLD", "10000"),
        ),
    )
    targets = [
        Target("SPY", D(40)),
        Target("QQQ", D(30)),
        Target("TLT", D(20)),
        Target("GLD", D(10)),
    ]
    report = measure_drift(portfolio, targets)
    spy = report.assets[0]
    assert (spy.target_percent, spy.actual_percent, spy.drift_percent) == (40, D("46.5"), D("6.5"))
    assert spy.breach and not spy.critical and spy.action == "sell"
    assert report.needs_rebalance
    assert report.portfolio_value_usd == 100000
    assert report.max_drift_percent == D("6.5")
    assert report.mean_drift_percent == (D("6.5") + D("3.5") + D(3) + 0) / 4
    assert report.total_drift_percent == D("6.5")  # (6.5 + 3.5 + 3 + 0) / 2
    rmse = ((D("6.5") ** 2 + D("3.5") ** 2 + D(9)) / 4).sqrt()
    assert report.rmse_drift_percent == rmse


def test_per_asset_threshold_overrides_the_default_and_critical_is_above_10() -> None:
    portfolio = Portfolio(D(0), (holding("A", "63000"), holding("B", "37000")))
    report = measure_drift(
        portfolio, [Target("A", D(50), threshold_percent=D(20)), Target("B", D(50))]
    )
    a, b = report.assets
    assert not a.breach and a.critical  # 13 points: inside its own 20-point band, yet critical
    assert b.breach and b.critical and b.action == "buy"


def test_holdings_without_a_target_count_as_target_zero_and_cash_counts_in_the_value() -> None:
    portfolio = Portfolio(D(10000), (holding("A", "80000"), holding("ZZZ", "10000")))
    report = measure_drift(portfolio, [Target("A", D(100))])
    a, zzz = report.assets
    assert report.portfolio_value_usd == 100000
    assert a.drift_percent == -20
    assert (zzz.target_percent, zzz.actual_percent, zzz.relative_drift_percent) == (0, 10, None)
    assert zzz.breach and zzz.action == "sell"
    assert report.cash_percent == 10
    assert report.total_drift_percent == 20  # (20 + 10 + 10 cash) / 2


def test_relative_method_compares_relative_drift() -> None:
    portfolio = Portfolio(D(0), (holding("A", "9000"), holding("B", "91000")))
    targets = [Target("A", D(12)), Target("B", D(88))]
    absolute = measure_drift(portfolio, targets)
    relative = measure_drift(portfolio, targets, DriftSettings(method=DriftMethod.RELATIVE))
    assert not absolute.assets[0].breach  # 3 points
    assert relative.assets[0].breach  # 25 % of its target


def test_disabled_targets_count_as_zero() -> None:
    portfolio = Portfolio(D(0), (holding("A", "50000"), holding("B", "50000")))
    report = measure_drift(portfolio, [Target("A", D(100)), Target("B", D(0), enabled=False)])
    assert report.assets[1].target_percent == 0 and report.assets[1].breach


def test_an_empty_portfolio_cannot_be_measured() -> None:
    with pytest.raises(ValueError, match="positive"):
        measure_drift(Portfolio(D(0)), [Target("A", D(100))])


values = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)


@given(cash=values, a=values, b=values, c=values, split=st.integers(min_value=1, max_value=99))
def test_properties_weights_sum_to_100_and_drifts_cancel(cash, a, b, c, split) -> None:
    portfolio = Portfolio(cash, (holding("A", str(a)), holding("B", str(b)), holding("C", str(c))))
    if portfolio.total_value_usd == 0:
        return
    targets = [Target("A", D(split)), Target("B", D(100 - split))]
    report = measure_drift(portfolio, targets)
    weights = sum((r.actual_percent for r in report.assets), report.cash_percent)
    assert abs(weights - 100) < D("1e-20")
    drifts = sum((r.drift_percent for r in report.assets), report.cash_percent)
    assert abs(drifts) < D("1e-20")
    tiny = D("1e-20")  # Decimal keeps 28 digits: the square root rounds in the last one
    assert report.max_drift_percent + tiny >= report.rmse_drift_percent
    assert report.rmse_drift_percent + tiny >= report.mean_drift_percent >= 0
    assert report.needs_rebalance == any(abs(r.drift_percent) > 5 for r in report.assets)
