"""Where a simulation starts: the user's lots rebased to the history's first day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.simulation.starting_point import common_days, rebase_lots
from rebalancer.domain.tax import TaxLot

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 30)
FIRST = date(2021, 12, 1)


def test_a_lot_keeps_its_value_gain_share_and_age() -> None:
    # 10 shares bought at $80, worth $100 today: $1,000 of value, 20 % of it gain,
    # held 200 days. Five years ago the close was $50: 20 shares at a $40 basis.
    lot = TaxLot("SPY", D(10), D(80), date(2026, 5, 14))
    (then,) = rebase_lots((lot,), TODAY, {"SPY": D(100)}, FIRST, {"SPY": D(50)})
    assert then.qty == D(20) and then.cost_per_share_usd == D(40)
    assert then.qty * D(50) == lot.qty * D(100)  # same value
    assert (D(50) - then.cost_per_share_usd) / D(50) == (D(100) - D(80)) / D(100)  # gain share
    assert (FIRST - then.acquired_on).days == (TODAY - lot.acquired_on).days == 200


def test_a_held_symbol_without_history_is_refused_naming_the_portfolio() -> None:
    lot = TaxLot("NEW", D(1), D(10), TODAY)
    with pytest.raises(InvalidInput, match="NEW has no price history") as refused:
        rebase_lots((lot,), TODAY, {"NEW": D(10)}, FIRST, {})
    assert refused.value.field == "portfolio"


def test_common_days_are_the_days_every_symbol_has_a_close() -> None:
    a = [(date(2026, 1, d), D(1)) for d in (2, 5, 6, 7)]
    b = [(date(2026, 1, d), D(1)) for d in (5, 6, 8)]
    assert common_days({"A": a, "B": b}) == (date(2026, 1, 5), date(2026, 1, 6))
    assert common_days({}) == ()
