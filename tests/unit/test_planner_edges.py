"""Issue 11 at the service edge: empty accounts, withdrawals, schedules, goals, lots, tax totals.

The use cases on in-memory adapters: what a callable would answer, and that the three
readers of goal progress (schedule, drift check, nightly) agree.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from rebalancer.adapters.documents import progress_document
from rebalancer.domain.errors import EmptyAccount, InvalidInput, PreconditionFailed
from rebalancer.domain.models import Side
from rebalancer.domain.settings import Strategy
from rebalancer.domain.tax import Fill, TaxLot, net_tax
from rebalancer.service.drift_check import check_drift
from rebalancer.service.market import lot_book, read_market, read_user, trading_day
from rebalancer.service.nightly import rebalance_user
from rebalancer.service.ports import BrokerPosition
from rebalancer.service.preferences import update_settings
from rebalancer.service.proposals import propose_plan
from rebalancer.service.schedule_state import get_schedule

from .test_services import UID, make

pytestmark = pytest.mark.unit


# --- item 5: an empty account, a full withdrawal ---------------------------------------------


def test_an_empty_account_is_a_precondition_not_an_internal_error() -> None:
    ports, store, broker = make("0")
    for call in (
        lambda: propose_plan(UID, ports),
        lambda: propose_plan(UID, ports, Strategy.TAX_AWARE),
        lambda: get_schedule(UID, ports),
        lambda: check_drift(UID, ports, dry_run=True),
        lambda: check_drift(UID, ports, dry_run=False),
    ):
        with pytest.raises(EmptyAccount, match="the account has no value to rebalance") as error:
            call()
        assert isinstance(error.value, PreconditionFailed)
        assert error.value.code == "failed-precondition"
    assert UID not in store.history and not store.drift_logs.get(UID)
    assert broker.orders == []


def test_an_empty_account_with_a_deposit_plans_the_deposit() -> None:
    ports, _, _ = make("0")
    plan = propose_plan(UID, ports, Strategy.FULL, cash_to_invest_usd=D(10000)).plan
    assert {t.symbol for t in plan.trades} == {"SPY", "QQQ", "TLT", "GLD"}
    assert all(t.side is Side.BUY for t in plan.trades)


def test_a_withdrawal_larger_than_the_account_names_the_field() -> None:
    ports, store, _ = make("1000", SPY="10")  # $6,000
    with pytest.raises(InvalidInput, match=r"cash_to_raise: \$6000.01 is more than") as error:
        propose_plan(UID, ports, cash_to_raise_usd=D("6000.01"))
    assert error.value.field == "cash_to_raise" and UID not in store.history


def test_withdrawing_the_value_shown_in_cents_withdraws_everything() -> None:
    # Worth $1,500.0000005: a client shows $1,500.01 (rounded up, as the service rounds).
    ports, _, _ = make("1000", SPY="1.000000001")
    plan = propose_plan(UID, ports, Strategy.FULL, cash_to_raise_usd=D("1500.01")).plan
    assert [(t.side, t.symbol, t.qty) for t in plan.trades] == [
        (Side.SELL, "SPY", D("1.000000001"))
    ]
    with pytest.raises(InvalidInput, match="cash_to_raise"):
        propose_plan(UID, ports, Strategy.FULL, cash_to_raise_usd=D("1500.02"))


@pytest.mark.parametrize("strategy", [s for s in Strategy if s is not Strategy.AUTO])
def test_a_full_withdrawal_sells_everything(strategy: Strategy) -> None:
    ports, _, _ = make("1000", SPY="10", QQQ="5")  # $1,000 + $5,000 + $2,000
    proposal = propose_plan(UID, ports, strategy, cash_to_raise_usd=D(8000))
    sold = {t.symbol: t.qty for t in proposal.plan.trades if t.side is Side.SELL}
    assert sold == {"SPY": D(10), "QQQ": D(5)}
    assert not any(t.side is Side.BUY for t in proposal.plan.trades)


# --- item 4: get_schedule never reports a past date -------------------------------------------


def test_get_schedule_on_a_saturday_before_a_monday_holiday_looks_ahead() -> None:
    ports, _, broker = make("1000", SPY="10", QQQ="5", TLT="20", GLD="5")
    broker.holidays = {date(2024, 5, 27)}  # Memorial Day
    ports.clock.at = datetime(2024, 5, 25, 15, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    update_settings(
        UID, {"trigger": "calendar", "calendar_frequency": "weekly", "calendar_weekday": 0}, ports
    )
    schedule = get_schedule(UID, ports)
    assert schedule.next_calendar_date == date(2024, 6, 3)
    assert schedule.days_until_next == 9


# --- item 1: goal progress, the same wherever it is read ---------------------------------------


def test_goal_progress_starts_at_zero_and_agrees_across_its_three_readers() -> None:
    ports, store, _ = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")  # $88,000
    ports.clock.at = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    goal = {"name": "House", "target_amount": 100000, "target_date": "2026-06-02"}
    update_settings(UID, {"goal": goal, "rebalancing_enabled": True}, ports)
    # A Saturday night a month later (before midnight in New York).
    ports.clock.at = datetime(2025, 7, 5, 23, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    schedule = progress_document(get_schedule(UID, ports).goal_progress)
    checked = progress_document(check_drift(UID, ports, dry_run=True).goal_progress)
    rebalance_user(UID, date(2025, 7, 5), ports, "America/New_York")
    # The night of Saturday 5 July belongs to Monday the 7th (its drift log's id).
    nightly = store.documents[f"users/{UID}/driftLogs/nightly-20250707"]["goal_progress"]
    assert schedule == checked == nightly
    # 33 of 365 days along a line from $0: $9,041.10 expected; $88,000 is on track.
    assert schedule["expected_value"] == 9041.1 and schedule["on_track"] is True
    assert schedule["days_remaining"] == 332


# --- item 9: the lot book gives unexplained shares the remaining basis -----------------------


def test_lot_book_gives_unexplained_shares_the_remaining_basis() -> None:
    ports, _, broker = make("1000", SPY="20")
    broker.fills = [Fill("SPY", Side.BUY, D(10), D(100), date(2024, 1, 2))]
    user = read_user(UID, ports)
    market = read_market(user.broker, user.targets)
    spy = next(p for p in market.positions if p.symbol == "SPY")
    position = BrokerPosition(
        spy.symbol, spy.qty, spy.price_usd, spy.market_value_usd, D(3000), spy.qty_available
    )
    market = replace(market, positions=[position])
    today = trading_day(ports.clock.now())
    book = lot_book(broker, market, user.settings, today)
    assert book.of("SPY") == (
        TaxLot("SPY", D(10), D(100), date(2024, 1, 2)),
        TaxLot("SPY", D(10), D(200), today),
    )


# --- item 10: a plan's tax is netted by character ---------------------------------------------


def test_a_plans_estimated_tax_nets_a_short_term_loss_against_long_term_gains() -> None:
    ports, _, broker = make("0", SPY="10", QQQ="10", TLT="100", GLD="40")  # $26,000
    now = trading_day(ports.clock.now())
    broker.fills = [
        Fill("SPY", Side.BUY, D(10), D(300), now - timedelta(days=900)),  # long-term gain
        Fill("QQQ", Side.BUY, D(10), D(500), now - timedelta(days=60)),  # short-term loss
        Fill("TLT", Side.BUY, D(100), D(90), now - timedelta(days=60)),
        Fill("GLD", Side.BUY, D(40), D(200), now - timedelta(days=60)),
    ]
    # Everything goes: SPY gains $2,000 long-term, QQQ loses $1,000 short-term.
    plan = propose_plan(UID, ports, Strategy.FULL, cash_to_raise_usd=D(26000)).plan
    short, long = plan.total("short_term_gain_usd"), plan.total("long_term_gain_usd")
    assert (short, long) == (D(-1000), D(2000))
    # $1,000 of net long-term gain at 15 %, not 2,000 x 15 % - 1,000 x 35 % = -$50.
    assert plan.estimated_tax_usd == D(150)
    assert plan.estimated_tax_usd == net_tax(short, long, plan.tax_rates)
