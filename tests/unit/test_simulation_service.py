"""The simulation use case on the fakes: reads the user and the history, runs, stores."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from rebalancer.domain.errors import InvalidInput, NoBrokerLinked, PreconditionFailed
from rebalancer.domain.models import Target
from rebalancer.service.linking import unlink_broker
from rebalancer.service.simulations import simulate_for_user
from tests.unit.test_services import UID, make

pytestmark = pytest.mark.unit


def weekdays(end: date, count: int) -> list[date]:
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def seeded() -> tuple:  # type: ignore[type-arg]
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    days = weekdays(ports.clock.now().date() - timedelta(days=1), 200)
    # SPY rises, TLT falls, QQQ and GLD drift a little: bands are crossed on the way.
    for symbol, start, step in (
        ("SPY", 400, 1),
        ("QQQ", 380, "0.2"),
        ("TLT", 110, "-0.1"),
        ("GLD", 190, "0.05"),
    ):
        broker.daily_closes[symbol] = [(d, D(start) + D(step) * i) for i, d in enumerate(days)]
    return ports, store, broker


def test_a_run_compares_the_default_policies_and_is_stored() -> None:
    ports, store, _ = seeded()
    run = simulate_for_user(UID, ports, years=1)
    report = run.report
    assert run.simulation_id is not None
    assert len(report.results) == 13 and report.days == 200
    names = [r.policy.name for r in report.results]
    assert report.recommendation.best in names
    never = report.results[0]
    assert never.rebalances == 0 and never.orders == 0 and never.tax_paid_usd == 0
    assert any(r.rebalances > 0 for r in report.results[1:])
    stored = store.documents[f"users/{UID}/simulations/{run.simulation_id}"]
    assert stored["years"] == 1 and len(stored["results"]) == 13
    assert stored["recommendation"]["best"] == report.recommendation.best


def test_the_starting_value_is_today_s_value_rebased() -> None:
    ports, _, _ = seeded()
    report = simulate_for_user(UID, ports, years=1, save=False).report
    first = report.results[0].series[0]
    # $1,000 cash + SPY 100 x 500 + QQQ 50 x 400 + TLT 100 x 90 + GLD 40 x 200 today.
    assert abs(first.value_usd - D(88000)) < D(1)


def test_a_template_starts_from_cash_at_the_targets() -> None:
    ports, _, _ = seeded()
    report = simulate_for_user(UID, ports, years=1, template_value_usd=D(10000), save=False).report
    assert abs(report.results[0].series[0].value_usd - D(10000)) < D(1)


@pytest.mark.parametrize("years", [0, 11, -1])
def test_years_out_of_range_are_refused_naming_the_field(years: int) -> None:
    ports, store, broker = seeded()
    with pytest.raises(InvalidInput) as refused:
        simulate_for_user(UID, ports, years=years)
    assert refused.value.field == "years" and not store.documents


def test_a_symbol_without_history_is_refused_and_nothing_is_stored() -> None:
    ports, store, broker = seeded()
    del broker.daily_closes["GLD"]
    with pytest.raises(PreconditionFailed, match="no daily price history at the broker for GLD"):
        simulate_for_user(UID, ports, years=1)
    assert not store.documents


def test_too_short_a_common_history_is_refused() -> None:
    ports, store, broker = seeded()
    broker.daily_closes["GLD"] = broker.daily_closes["GLD"][-5:]
    with pytest.raises(PreconditionFailed, match="only 5 days of price history"):
        simulate_for_user(UID, ports, years=1)
    assert not store.documents


def test_more_than_50_symbols_are_refused_before_the_history_is_read() -> None:
    ports, store, broker = seeded()
    store.targets[UID] = [Target(f"S{i:02d}", D(2), substitutes=(f"T{i:02d}",)) for i in range(50)]
    # 50 targets with a substitute each, and the 4 holdings the account has: 104.
    with pytest.raises(PreconditionFailed, match="104 symbols"):
        simulate_for_user(UID, ports, years=1)


def test_without_a_broker_nothing_runs() -> None:
    ports, store, _ = seeded()
    unlink_broker(UID, ports)
    with pytest.raises(NoBrokerLinked):
        simulate_for_user(UID, ports, years=1)
