"""Properties of the replay on random histories: nothing negative, money accounted for.

Whatever the prices, policy and flows: no account ever holds negative shares or more
than a cent of negative cash, and the ending value is the starting value plus what the
market did to the positions held each day, less costs and tax paid, plus the flows.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebalancer.domain.costs import CostModel
from rebalancer.domain.models import Side, Target
from rebalancer.domain.settings import UserSettings
from rebalancer.domain.simulation.model import PriceHistory, SimulationInput
from rebalancer.domain.simulation.policies import default_policies
from rebalancer.domain.simulation.replay import prepare, replay_policy
from rebalancer.domain.tax import LotMethod, TaxLot, TaxSettings

pytestmark = pytest.mark.unit

FIRST = date(2024, 11, 18)
DAYS = 45  # weekdays: into the next year, so a year is settled and a month turns twice


def weekdays(count: int) -> tuple[date, ...]:
    days: list[date] = []
    day = FIRST
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


moves = st.lists(st.integers(min_value=-8, max_value=8), min_size=DAYS - 1, max_size=DAYS - 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=moves,
    b=moves,
    which=st.integers(min_value=0, max_value=len(default_policies()) - 1),
    flow=st.sampled_from([D(0), D(500), D(-300)]),
    spread=st.sampled_from([D(0), D(5), D(50)]),
    method=st.sampled_from(list(LotMethod)),
    cost=st.integers(min_value=60, max_value=140),
)
def test_no_negative_holdings_and_value_is_conserved(
    a: list[int], b: list[int], which: int, flow: D, spread: D, method: LotMethod, cost: int
) -> None:
    days = weekdays(DAYS)
    closes = {}
    for symbol, steps in (("A", a), ("B", b)):
        price, series = D(100), [D(100)]
        for step in steps:
            price = max(D(5), price * (1 + D(step) / 100)).quantize(D("0.01"))
            series.append(price)
        closes[symbol] = tuple(series)
    history = PriceHistory(days, closes)
    user = UserSettings(
        costs=CostModel(spread_bps=spread, commission_usd=D("0.5")),
        tax=TaxSettings(lot_method=method),
    )
    lots = (
        TaxLot("A", D(30), D(cost), date(2023, 6, 1)),
        TaxLot("A", D(30), D(100), date(2024, 10, 1)),
        TaxLot("B", D(40), D(cost), date(2024, 9, 1)),
    )
    policy = default_policies()[which]
    inp = SimulationInput(
        D(50),
        lots,
        (Target("A", D(60)), Target("B", D(40))),
        history,
        (policy,),
        user,
        monthly_flow_usd=flow,
        forward_seed=None,
    )
    result, ledger = replay_policy(inp, policy, prepare(inp), inp.targets)

    held = {"A": D(60), "B": D(40)}
    cash = D(50)
    gain = D(0)
    by_day = {d: [f for f in ledger.fills if f.on == d] for d in days}
    for i, day in enumerate(days):
        if i:
            gain += sum((held[s] * (closes[s][i] - closes[s][i - 1]) for s in held), D(0))
        for fill in by_day[day]:
            sign = 1 if fill.side is Side.BUY else -1
            held[fill.symbol] += sign * fill.qty
            assert held[fill.symbol] >= 0
    assert all(lot.qty > 0 for lots_ in ledger.lots.values() for lot in lots_)
    assert ledger.cash_usd >= D("-0.01")
    assert {s: ledger.qty(s) for s in held} == held
    start = cash + 60 * closes["A"][0] + 40 * closes["B"][0]
    expected = start + gain - ledger.costs_usd - result.tax_paid_usd + result.flows_usd
    assert abs(result.ending_value_usd - expected) <= D("0.02")
