"""Issue 11: the planner at its edges (whole shares, solver tolerance, empty accounts, full
withdrawals, notes, commissions and dust, the band margin), each from the issue's example.

Prices are $100 and settings the defaults (5 bp spread, 25 bp buffer, $10 minimum)
unless said otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from rebalancer.domain.costs import CostModel
from rebalancer.domain.errors import EmptyAccount, InvalidInput, PreconditionFailed
from rebalancer.domain.models import Side
from rebalancer.domain.plan import Plan, PlanningInput
from rebalancer.domain.planning import build_plan
from rebalancer.domain.settings import Strategy, UserSettings
from rebalancer.domain.tax import TaxLot, TaxSettings
from tests.unit.test_strategies import (
    ALL_STRATEGIES,
    DEFAULT,
    LAST_YEAR,
    LONG_AGO,
    RECENTLY,
    TARGETS_3,
    make,
    orders,
    weight,
)

pytestmark = pytest.mark.unit

BANDED = [Strategy.THRESHOLD, Strategy.BAND, Strategy.TAX_AWARE]


def in_band(p: Plan) -> bool:
    return not p.drift_after.needs_rebalance


def buffer(inp: PlanningInput) -> D:
    return inp.settings.costs.buffer_usd(inp.post_value_usd)


# --- item 2: whole shares ------------------------------------------------------------------


def idle_cash_example() -> PlanningInput:
    # A0 67 sh @ $500 (bought at $600: a loss), A1 29 sh @ $1,000, cash $2,000, 50/50,
    # threshold 3 (band 47-53 %). A1 is 44.96 %: 2 shares ($2,001 with spread) bring it
    # to 48.06 %, but only $1,838.75 is above the buffer. Selling 1 A0 (a loss: no tax)
    # pays for them: A0 51.16 %, A1 48.06 %.
    return make(
        held={"A0": 67, "A1": 29},
        prices={"A0": 500, "A1": 1000},
        cash=2000,
        targets={"A0": 50, "A1": 50},
        whole=("A0", "A1"),
        lots={"A0": (TaxLot("A0", D(67), D(600), LONG_AGO),)},
        settings=replace(DEFAULT, threshold_percent=D(3)),
    )


@pytest.mark.parametrize("strategy", [Strategy.FULL, *BANDED])
def test_whole_shares_sell_one_share_to_pay_for_the_two_the_band_needs(
    strategy: Strategy,
) -> None:
    inp = idle_cash_example()
    p = build_plan(inp, strategy)
    assert in_band(p), p.notes
    assert p.projected_cash_usd >= buffer(inp)
    assert all(t.qty == t.qty.to_integral_value() for t in p.trades)
    assert p.estimated_tax_usd <= 0  # the sale realizes a loss, never a gain


def test_whole_shares_band_and_tax_aware_sell_exactly_one_share() -> None:
    for strategy in (Strategy.BAND, Strategy.TAX_AWARE):
        p = build_plan(idle_cash_example(), strategy)
        assert orders(p) == [("sell", "A0", 1), ("buy", "A1", 2)], strategy


def test_cash_flow_never_sells_so_it_says_which_asset_stays_out_and_why() -> None:
    p = build_plan(idle_cash_example(), Strategy.CASH_FLOW)
    assert all(t.side is Side.BUY for t in p.trades)
    (note,) = [n for n in p.notes if n.symbol == "A1" and n.kind == "band_unreachable"]
    assert "below its band" in note.message and "cash_flow never sells" in note.message


def least_tax_top_up_example() -> PlanningInput:
    # A0 21 sh @ $2,500 (short-term lot at $2,000: $175 tax a share), A1 64 sh @ $1,000
    # (long-term lot at $1,600: -$90 a share), no cash, targets 43/57: the $291.25 buffer
    # must be raised. One A1 share does it for -$90 and keeps both in band.
    return make(
        held={"A0": 21, "A1": 64},
        prices={"A0": 2500, "A1": 1000},
        targets={"A0": 43, "A1": 57},
        whole=("A0", "A1"),
        lots={
            "A0": (TaxLot("A0", D(21), D(2000), RECENTLY),),
            "A1": (TaxLot("A1", D(64), D(1600), LONG_AGO),),
        },
        settings=DEFAULT,
    )


@pytest.mark.parametrize("strategy", BANDED)
def test_a_cash_top_up_sells_the_least_tax_per_dollar(strategy: Strategy) -> None:
    inp = least_tax_top_up_example()
    p = build_plan(inp, strategy)
    assert orders(p) == [("sell", "A1", 1)]
    assert p.estimated_tax_usd == D(-90)
    assert p.projected_cash_usd >= buffer(inp)
    assert in_band(p)
    # No note announces a sale the plan does not make.
    sold = {t.symbol for t in p.trades if t.side is Side.SELL}
    assert all(n.symbol in sold for n in p.notes if n.kind == "funding")


# --- item 3: solver tolerance --------------------------------------------------------------


def scaled_solver_case(factor: int) -> PlanningInput:
    # Three assets with lots at different gains, short and long term, and a buy to fund:
    # the solver (not the closed form) decides which lots to sell, and B's dear short-term
    # lot before its cheap long-term one needs a relief-order binary.
    lots = {
        "A": (
            TaxLot("A", D(20 * factor), D(40), LONG_AGO),
            TaxLot("A", D(30 * factor), D(90), RECENTLY),
        ),
        "B": (
            TaxLot("B", D(2 * factor), D(60), RECENTLY),
            TaxLot("B", D(33 * factor), D(95), LAST_YEAR),
        ),
        "C": (TaxLot("C", D(15 * factor), D(100), LONG_AGO),),
    }
    return make(
        held={"A": 50 * factor, "B": 35 * factor, "C": 15 * factor},
        targets=TARGETS_3,
        lots=lots,
        settings=DEFAULT,
    )


def test_the_same_case_1000_times_larger_gives_the_same_trades_1000_times_larger() -> None:
    small = build_plan(scaled_solver_case(1), Strategy.TAX_AWARE)
    large = build_plan(scaled_solver_case(1000), Strategy.TAX_AWARE)
    assert small.solver and "milp optimal" in small.solver
    assert [(t.symbol, t.side) for t in small.trades] == [(t.symbol, t.side) for t in large.trades]
    # Values are rounded to the cent at the solver's edge, and each band edge is aimed 2
    # cents inside: those cents are a thousand times larger in the small plan's image.
    slack = D("0.03") * 1000
    for a, b in zip(small.trades, large.trades, strict=True):
        assert abs(b.estimated_value_usd - a.estimated_value_usd * 1000) <= slack, (a, b)
    assert abs(large.estimated_tax_usd - small.estimated_tax_usd * 1000) <= slack
    assert in_band(small) and in_band(large)


# --- item 5: empty account, full withdrawal ------------------------------------------------


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_an_empty_account_is_a_clear_precondition_error(strategy: Strategy) -> None:
    inp = make(held={}, targets={"A": 50, "B": 50}, settings=DEFAULT)
    with pytest.raises(EmptyAccount, match="no value to rebalance") as raised:
        build_plan(inp, strategy)
    assert isinstance(raised.value, PreconditionFailed)
    assert raised.value.code == "failed-precondition"


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
@pytest.mark.parametrize("whole", [(), ("A",)])
def test_withdrawing_everything_sells_everything(
    strategy: Strategy, whole: tuple[str, ...]
) -> None:
    inp = make(
        held={"A": 50, "B": "30.5"},
        cash=500,
        targets={"A": 50, "B": 50},
        whole=whole,
        lots={"A": (TaxLot("A", D(50), D(80), LONG_AGO),)},
        settings=DEFAULT,
        withdraw="8550",
    )
    p = build_plan(inp, strategy)
    assert sorted(orders(p)) == [("sell", "A", 50), ("sell", "B", D("30.5"))]
    assert p.drift_after.assets == ()
    # The sales' spread ($4.03) cannot be paid out: the plan says so.
    assert p.projected_cash_usd == -p.total("estimated_cost_usd")
    assert any(n.kind == "cash" and "withdrawal" in n.message for n in p.notes)


def test_withdrawing_more_than_everything_names_the_field() -> None:
    inp = make(held={"A": 10}, targets={"A": 100}, withdraw=1001)
    with pytest.raises(InvalidInput, match="cash_to_raise"):
        build_plan(inp, Strategy.TAX_AWARE)


# --- item 6: notes -------------------------------------------------------------------------


def stuck_example() -> PlanningInput:
    # $100,000: A 69 % in one short-term lot at a gain (short-term gains avoided), B 30 %,
    # cash $1,000; targets 50/50. A cannot be sold; B can only get the $750 above the
    # $250 buffer and stays below its band (45-55 %).
    settings = replace(DEFAULT, tax=TaxSettings(avoid_short_term_gains=True))
    return make(
        held={"A": 690, "B": 300},
        cash=1000,
        targets={"A": 50, "B": 50},
        lots={"A": (TaxLot("A", D(690), D(50), RECENTLY),)},
        settings=settings,
    )


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_band_buy_cash_cannot_pay_names_the_asset_and_keeps_the_buffer(
    strategy: Strategy,
) -> None:
    inp = stuck_example()
    p = build_plan(inp, strategy)
    assert p.projected_cash_usd >= buffer(inp)
    assert weight(p, "B") < 45
    (b,) = [n for n in p.notes if n.symbol == "B" and n.kind == "band_unreachable"]
    assert "below its band" in b.message and "cash is short" in b.message
    (a,) = [n for n in p.notes if n.symbol == "A" and n.kind == "band_unreachable"]
    assert a.rule == "avoid_short_term_gains"
    # The buffer is kept: no note says it cannot be reached.
    assert not [n for n in p.notes if n.kind == "cash" and "buffer" in n.message]


# --- item 7: commissions and dust ----------------------------------------------------------


@pytest.mark.parametrize("buffer_bps", [0, 25])
@pytest.mark.parametrize("strategy", [Strategy.BAND, Strategy.TAX_AWARE])
def test_a_dust_sell_raised_to_the_minimum_is_matched_by_a_raised_buy(
    strategy: Strategy, buffer_bps: int
) -> None:
    # $1,000: A 55.5 %, B 44.5 %, targets 50/50 (band 45-55 %). Each needs ~$5: under the
    # $10 minimum. Both are raised: A sells enough to pay B's $10 buy (and the buffer).
    costs = CostModel(cash_buffer_bps=D(buffer_bps))
    inp = make(
        held={"A": "5.55", "B": "4.45"},
        targets={"A": 50, "B": 50},
        settings=UserSettings(costs=costs),
    )
    p = build_plan(inp, strategy)
    assert in_band(p), p.notes
    (sell,) = [t for t in p.trades if t.side is Side.SELL]
    (buy,) = [t for t in p.trades if t.side is Side.BUY]
    assert (sell.symbol, buy.symbol) == ("A", "B")
    assert buy.estimated_value_usd >= 10 and sell.estimated_value_usd >= 10
    assert sell.estimated_value_usd <= 11 + buffer(inp)
    assert p.projected_cash_usd >= buffer(inp)


@pytest.mark.parametrize("strategy", [Strategy.FULL, Strategy.THRESHOLD, Strategy.TAX_AWARE])
def test_sales_added_to_keep_the_buffer_pay_their_commission(strategy: Strategy) -> None:
    # $10,000 on target, no cash, $5 commission an order: the $25 buffer needs a sale
    # worth the buffer plus its own commission (and spread).
    costs = CostModel(commission_usd=D(5))
    inp = make(
        held={"A": 40, "B": 30, "C": 30}, targets=TARGETS_3, settings=UserSettings(costs=costs)
    )
    p = build_plan(inp, strategy)
    assert p.trades
    assert p.projected_cash_usd >= buffer(inp), (orders(p), p.projected_cash_usd)


# --- item 11: the band margin --------------------------------------------------------------


def test_band_margin_setting_reads_its_range_and_defaults_to_zero() -> None:
    from rebalancer.domain.settings import settings_from_document, settings_to_document

    assert UserSettings().band_margin_percent == 0
    assert settings_from_document({"band_margin_percent": 10}).band_margin_percent == 10
    assert settings_from_document({"band_margin_percent": 60}).band_margin_percent == 0
    assert settings_to_document(UserSettings())["band_margin_percent"] == 0.0
