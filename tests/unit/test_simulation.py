"""The replay pinned on small histories whose every figure is worked out by hand below.

The two-asset history: A and B, targets 60/40, $10,000 held on Monday 2 December 2024
as 60 A and 40 B at $100 (lots bought 1 November 2024 at $100: short-term), no cash. No
spread, no buffer, $1 minimum trade (`EXACT`), so the arithmetic stays in round numbers.
The trading days are the weekdays from 2 December 2024 to 10 January 2025 without
Christmas and New Year's Day (28 days). B stays at $100. A is at $100 in the first week,
jumps to $125 on Monday 9 December and stays there that week, then is at $120 from
Monday 16 December to the end.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from rebalancer.domain.costs import CostModel
from rebalancer.domain.models import Side, Target
from rebalancer.domain.schedule import Frequency, ScheduleSettings, Trigger
from rebalancer.domain.settings import Strategy, UserSettings
from rebalancer.domain.simulation.ledger import Ledger
from rebalancer.domain.simulation.metrics import tracking_error_percent
from rebalancer.domain.simulation.model import Policy, PriceHistory, SimulationInput
from rebalancer.domain.simulation.policies import default_policies
from rebalancer.domain.simulation.replay import prepare, replay_policy, simulate
from rebalancer.domain.simulation.templates import template_portfolio
from rebalancer.domain.tax import LotMethod, TaxLot

pytestmark = pytest.mark.unit

EXACT = UserSettings(costs=CostModel(spread_bps=D(0), cash_buffer_bps=D(0), min_trade_usd=D(1)))
HOLIDAYS = {date(2024, 12, 25), date(2025, 1, 1)}
BOUGHT = date(2024, 11, 1)
TARGETS = (Target("A", D(60)), Target("B", D(40)))


def weekdays(first: date, last: date) -> tuple[date, ...]:
    """Weekdays from `first` to `last`, holidays left out."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


DAYS = weekdays(date(2024, 12, 2), date(2025, 1, 10))


def a_close(day: date) -> D:
    if day < date(2024, 12, 9):
        return D(100)
    return D(125) if day < date(2024, 12, 16) else D(120)


HISTORY = PriceHistory(
    DAYS, {"A": tuple(a_close(d) for d in DAYS), "B": tuple(D(100) for _ in DAYS)}
)
LOTS = (TaxLot("A", D(60), D(100), BOUGHT), TaxLot("B", D(40), D(100), BOUGHT))


def policy(name: str, trigger: Trigger, strategy: Strategy, **schedule: object) -> Policy:
    return Policy(name, ScheduleSettings(trigger=trigger, **schedule), strategy)  # type: ignore[arg-type]


THRESHOLD_5 = policy("threshold 5", Trigger.THRESHOLD, Strategy.THRESHOLD)
WEEKLY = policy("weekly", Trigger.CALENDAR, Strategy.FULL, frequency=Frequency.WEEKLY)
MONTHLY = policy("monthly", Trigger.CALENDAR, Strategy.FULL, frequency=Frequency.MONTHLY)
NEVER = policy("never", Trigger.MANUAL, Strategy.THRESHOLD)


def make(*policies: Policy, **changes: object) -> SimulationInput:
    inp = SimulationInput(D(0), LOTS, TARGETS, HISTORY, policies, EXACT, forward_seed=None)
    return replace(inp, **changes)  # type: ignore[arg-type]


def run(inp: SimulationInput, which: Policy) -> tuple:  # type: ignore[type-arg]
    market = prepare(inp)
    return replay_policy(inp, which, market, inp.targets)


def test_the_history_has_28_trading_days() -> None:
    assert len(DAYS) == 28
    assert DAYS[0] == date(2024, 12, 2) and DAYS[-1] == date(2025, 1, 10)


def test_threshold_policy_rebalances_once_when_a_leaves_its_band() -> None:
    # A's weight is 60a / (60a + 4000); it passes 65 % when 21a > 2600, a > 123.81:
    # on 9 December (a = 125: 7500 / 11500 = 65.2 %), the first breach.
    # The plan (to target): value 11,500, A to 6,900 = 55.2 shares: sell 4.8 A ($600);
    # B to 4,600: buy 6 B. Afterwards A at 120: 6,624 / 11,224 = 59.0 %, inside the band.
    result, ledger = run(make(THRESHOLD_5), THRESHOLD_5)
    assert result.rebalance_days == (date(2024, 12, 9),)
    trades = [(f.on, f.symbol, f.side, f.qty) for f in ledger.fills if f.on == date(2024, 12, 9)]
    assert trades == [
        (date(2024, 12, 9), "A", Side.SELL, D("4.8")),
        (date(2024, 12, 9), "B", Side.BUY, D(6)),
    ]
    # 4.8 shares held 38 days, sold $25 above cost: a $120 short-term gain, taxed 35 %
    # ($42) for 2024 and paid on 2 January 2025, the first trading day of 2025. With no
    # cash, the cash_flow planner raises it from the most overweight (B: 46 x 100 = 4,600
    # against 40 % of 11,182 = 4,472.80): 0.42 B at $100, no gain (FIFO: the old lot).
    assert result.short_term_gains_usd == D("120.00")
    assert result.long_term_gains_usd == D("0.00")
    assert result.tax_paid_usd == D("42.00")
    assert [(f.on, f.symbol, f.side, f.qty) for f in ledger.fills][2:] == [
        (date(2025, 1, 2), "B", Side.SELL, D("0.42"))
    ]
    # Ending: 55.2 A x 120 + 45.58 B x 100 = 6,624 + 4,558 = 11,182; nothing owed on a
    # sale at the end (A's lot: 55.2 x $20 gain = $1,104 short-term in 2025: $386.40).
    assert result.ending_value_usd == D("11182.00")
    assert result.tax_due_usd == D("386.40")
    assert result.after_tax_ending_value_usd == D("10795.60")


def test_weekly_calendar_runs_every_monday_and_trades_when_off_target() -> None:
    # Mondays: 2, 9, 16, 23, 30 December and 6 January (six runs). On 2 December the
    # portfolio is on target (no trade); 9 December the same trades as the threshold
    # policy; 16 December A at 120: 55.2 A = 6,624 of 11,224, A's target 6,734.40: buy
    # 0.92 A, sell 1.104 B; then it is on target and stays there (no more trades).
    result, ledger = run(make(WEEKLY), WEEKLY)
    assert result.runs == 6
    assert result.rebalance_days == (date(2024, 12, 9), date(2024, 12, 16))
    on_16th = [(f.symbol, f.side, f.qty) for f in ledger.fills if f.on == date(2024, 12, 16)]
    assert on_16th == [("B", Side.SELL, D("1.104")), ("A", Side.BUY, D("0.92"))]


def test_monthly_calendar_moves_new_years_day_back_to_new_years_eve() -> None:
    # Monthly on the 1st: 1 December is a Sunday before the history (no trading day to
    # move back to, and no run was missed); 1 January is a holiday, so January's run is
    # on the trading day before it, 31 December. A at 120 with 60 A and 40 B: value
    # 11,200, A to 6,720 = 56 shares: sell 4 A ($80 short-term gain); B buys 4.8.
    # Its $28 of 2024 tax (35 % of 80) is raised on 2 January from the two (both now
    # over their share of 11,172): A 6,720 - 6,703.20 = $16.80 (0.14 A, $2.80 more gain,
    # in 2025) and B 4,480 - 4,468.80 = $11.20 (0.112 B, no gain).
    result, ledger = run(make(MONTHLY), MONTHLY)
    assert result.runs == 1
    assert result.rebalance_days == (date(2024, 12, 31),)
    assert [(f.symbol, f.side, f.qty) for f in ledger.fills][:2] == [
        ("A", Side.SELL, D(4)),
        ("B", Side.BUY, D("4.8")),
    ]
    assert [(f.on, f.symbol, f.side, f.qty) for f in ledger.fills][2:] == [
        (date(2025, 1, 2), "A", Side.SELL, D("0.14")),
        (date(2025, 1, 2), "B", Side.SELL, D("0.112")),
    ]
    assert result.short_term_gains_usd == D("82.80")
    assert result.tax_paid_usd == D("28.00")


def test_buy_and_hold_never_trades() -> None:
    result, ledger = run(make(NEVER), NEVER)
    assert (result.runs, result.rebalances, result.orders) == (0, 0, 0)
    assert ledger.fills == []
    # 60 x 120 + 40 x 100; its max drift: 7,500 / 11,500 - 60 % = 5.217 points.
    assert result.ending_value_usd == D("11200.00")
    assert result.max_drift_percent == D("5.2174")
    assert result.tax_paid_usd == D("0.00")


def test_the_after_tax_series_is_what_a_sale_that_day_would_leave() -> None:
    result, _ = run(make(NEVER), NEVER)
    by_day = {point.day: point for point in result.series}
    # 2 Dec: A at its cost (100): no gain, nothing owed. 10 Dec: A at 125, a short-term
    # gain of 60 x 25 = $1,500; taxed at the default short-term rate.
    assert by_day[date(2024, 12, 2)].after_tax_value_usd == D("10000.00")
    tenth = by_day[date(2024, 12, 10)]
    rate = EXACT.tax.short_term_rate
    assert tenth.value_usd == D(11500)
    assert tenth.after_tax_value_usd == (D(11500) - D(1500) * rate).quantize(D("0.01"))
    assert result.series[-1].after_tax_value_usd == result.after_tax_ending_value_usd


def test_fills_pay_the_spread_on_both_sides() -> None:
    # 10 bp: a buy of 10 at a $100 close pays $100.10 a share, a sale gets $99.90.
    ledger = Ledger.opening(D(2000), (), LotMethod.FIFO)
    costs = CostModel(spread_bps=D(10), commission_usd=D(1))
    ledger.fill("A", Side.BUY, D(10), D(100), date(2025, 1, 2), costs)
    assert ledger.cash_usd == D(2000) - D("1001") - D(1)
    assert ledger.lots["A"][0].cost_per_share_usd == D("100.1")
    ledger.fill("A", Side.SELL, D(4), D(110), date(2025, 1, 3), costs)
    # 4 x 109.89 = 439.56 less $1; gain 4 x (109.89 - 100.10) = 39.16 short-term.
    assert ledger.cash_usd == D(998) + D("439.56") - D(1)
    assert ledger.year_short_usd == D("39.16")
    assert ledger.costs_usd == D("1.0") + D(1) + D("0.44") + D(1)


def test_replay_costs_are_the_spread_on_the_turnover() -> None:
    spread = replace(EXACT, costs=replace(EXACT.costs, spread_bps=D(10)))
    result, ledger = run(make(WEEKLY, settings=spread), WEEKLY)
    assert result.orders > 0
    assert result.costs_usd == (result.turnover_usd * D("0.001")).quantize(D("0.01"))


def test_tracking_error_of_a_tiny_series() -> None:
    # Differences 0.01, -0.01, 0.02: mean 1/150, sample variance 7/30,000; times
    # sqrt(252) and 100: 24.2487 %.
    te = tracking_error_percent([0.01, -0.01, 0.02], [0.0, 0.0, 0.0])
    assert te == pytest.approx(math.sqrt(7 / 30000) * math.sqrt(252) * 100)
    assert te == pytest.approx(24.2487, abs=1e-4)


def test_tracking_error_of_buy_and_hold_by_hand() -> None:
    # 50/50 of A and B; A: 100, 110, 121, 121; B flat. Held 50 and 50. Returns: day 1
    # both +5 % (A +10 % at half); day 2 the portfolio +5,500/10,500 x 10 % = 5.238 %,
    # the target mix +5 %; day 3 both 0. Differences [0, 1/420, 0]: sample deviation
    # (1/420)/sqrt(3), so TE = 100 x sqrt(252/3) / 420 = 2.1822 %.
    days = weekdays(date(2025, 3, 3), date(2025, 3, 6))
    history = PriceHistory(
        days,
        {"A": (D(100), D(110), D(121), D(121)), "B": (D(100),) * 4},
    )
    lots = (TaxLot("A", D(50), D(100), BOUGHT), TaxLot("B", D(50), D(100), BOUGHT))
    targets = (Target("A", D(50)), Target("B", D(50)))
    inp = SimulationInput(D(0), lots, targets, history, (NEVER,), EXACT, forward_seed=None)
    result = simulate(inp).results[0]
    assert float(result.tracking_error_percent) == pytest.approx(
        100 * math.sqrt(84) / 420, abs=1e-4
    )


def test_the_wash_sale_rule_holds_in_the_replay() -> None:
    # A's lot cost $150 (bought 1 November): at 130 on 9 December A is 60 x 130 = 7,800
    # of 11,800 (66.1 %): the threshold policy sells A at a loss. A then falls to 60 on
    # 16 December (under its band): buying A back within 30 days would be a wash sale,
    # so the planner buys the substitute A2 instead, and A itself only after 8 January.
    def closes(day: date) -> D:
        if day < date(2024, 12, 9):
            return D(100)
        return D(130) if day < date(2024, 12, 16) else D(60)

    history = PriceHistory(
        DAYS,
        {
            "A": tuple(closes(d) for d in DAYS),
            "A2": tuple(closes(d) for d in DAYS),
            "B": (D(100),) * len(DAYS),
        },
    )
    lots = (TaxLot("A", D(60), D(150), BOUGHT), TaxLot("B", D(40), D(100), BOUGHT))
    targets = (Target("A", D(60), substitutes=("A2",)), Target("B", D(40)))
    inp = make(THRESHOLD_5, lots=lots, targets=targets, history=history)
    result, ledger = run(inp, THRESHOLD_5)
    loss_sales = [f for f in ledger.fills if f.symbol == "A" and f.side is Side.SELL]
    assert loss_sales and loss_sales[0].on == date(2024, 12, 9)
    assert result.losses_harvested_usd > 0
    buys_of_a = [f.on for f in ledger.fills if f.symbol == "A" and f.side is Side.BUY]
    assert all(day > date(2025, 1, 8) for day in buys_of_a)
    assert any(f.symbol == "A2" and f.side is Side.BUY for f in ledger.fills)


def test_monthly_contributions_are_invested_on_the_months_first_trading_day() -> None:
    # $1,000 a month, prices flat: on 2 January (the only new month inside the history)
    # the cash_flow planner invests it, $600 into A and $400 into B (both on target, so
    # the water-filling splits it at the targets). Nothing else moves: the value is the
    # start plus the contribution, and buy and hold holds it.
    flat = PriceHistory(DAYS, {"A": (D(100),) * len(DAYS), "B": (D(100),) * len(DAYS)})
    inp = make(NEVER, history=flat, monthly_flow_usd=D(1000))
    result, ledger = run(inp, NEVER)
    assert result.flows_usd == D("1000.00")
    assert result.ending_value_usd == D("11000.00")
    # (Buys round down to the broker's 1e-9 share: 5.999999999 A.)
    bought = [(f.on, f.symbol, f.side, round(f.qty, 6)) for f in ledger.fills]
    assert bought == [
        (date(2025, 1, 2), "A", Side.BUY, D(6)),
        (date(2025, 1, 2), "B", Side.BUY, D(4)),
    ]
    assert result.rebalances == 0


def test_monthly_withdrawals_leave_the_account() -> None:
    flat = PriceHistory(DAYS, {"A": (D(100),) * len(DAYS), "B": (D(100),) * len(DAYS)})
    result, ledger = run(make(NEVER, history=flat, monthly_flow_usd=D(-500)), NEVER)
    assert result.flows_usd == D("-500.00")
    assert result.ending_value_usd == D("9500.00")
    assert ledger.cash_usd >= 0


def test_template_portfolio_invests_at_the_targets_and_keeps_the_buffer() -> None:
    cash, lots = template_portfolio(TARGETS, D(10_000), {"A": D(100), "B": D(50)}, date(2025, 1, 2))
    # Default buffer 25 bp: $25 kept; 9,975 invested: A 59.85 shares, B 79.8 shares.
    assert [(lot.symbol, lot.qty, lot.cost_per_share_usd) for lot in lots] == [
        ("A", D("59.85"), D(100)),
        ("B", D("79.8"), D(50)),
    ]
    assert cash == D(25)


def test_simulate_runs_every_default_policy_and_recommends_one() -> None:
    report = simulate(replace(make(*default_policies()), forward_seed=7))
    assert [r.policy.name for r in report.results] == [p.name for p in default_policies()]
    assert report.recommendation.best in {p.name for p in default_policies()}
    assert report.days == 28
    assert report.forward is not None and report.forward.seed == 7
    for result in report.results:
        assert result.series[0].day == DAYS[0] and result.series[-1].day == DAYS[-1]
        assert result.planner_seconds >= 0
