"""The replay: each policy run day by day over a price history, as the nightly run would.

Each trading day, in this order:

1. On a year's first trading day, the year before is settled (`Ledger.close_year`: its
   net gains, losses carried forward) and its tax becomes owed.
2. On a month's first trading day (not the history's first), the monthly flow arrives:
   a contribution into cash, a withdrawal owed.
3. When money arrived or is owed, a `cash_flow` plan (the same planner: it never sells
   to rebalance) invests the cash above the buffer, most underweight first, or raises
   what is owed, most overweight first; then what is owed leaves the account (as far as
   the cash goes; the rest stays owed). So contributions are invested the day they come,
   whatever the policy (buy and hold too: it holds what it buys), and tax is paid from
   the account early in the next year.
4. The drift is measured with the policy's bands (floats first; a day within a
   hair of a band is measured again with `measure_drift` in Decimal, so a breach is
   exactly the drift check's) and `schedule.decide` says whether a run is due, with the
   history's days as the trading calendar and the policy's last run.
5. When due, `build_plan` plans with the policy's strategy and the user's settings
   (threshold and drift method the policy's; `band` to the band's edge), and every
   trade fills at the close moved by the spread (`Ledger.fill`).

At the end, the tax owed on the last year's gains and on a sale of everything at the
last close (less the spread) is deducted for the after-tax ending value.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from rebalancer.domain.costs import BPS
from rebalancer.domain.drift import band_percent, measure_drift
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.models import HUNDRED, ZERO, AssetInfo, Target
from rebalancer.domain.plan import Plan, PlanningInput
from rebalancer.domain.planning import build_plan
from rebalancer.domain.schedule import decide
from rebalancer.domain.settings import BandTarget, Strategy, UserSettings
from rebalancer.domain.simulation.forward import forward_view
from rebalancer.domain.simulation.ledger import Ledger
from rebalancer.domain.simulation.metrics import (
    daily_returns,
    sample_indices,
    target_returns,
    tracking_error_percent,
)
from rebalancer.domain.simulation.model import (
    ForwardView,
    Policy,
    PolicyResult,
    SeriesPoint,
    SimulationInput,
    SimulationReport,
)
from rebalancer.domain.simulation.recommend import recommend, score_usd

CENT = Decimal("0.01")
PADDING_DAYS = 14
WEEKEND = 5  # date.weekday() of Saturday
HAIR = 1e-6  # percent points: closer than this to a band, the float check defers to Decimal


@dataclass(frozen=True)
class Market:
    """The history prepared once for every policy: Decimal closes per day, and floats."""

    days: tuple[date, ...]
    symbols: tuple[str, ...]
    closes: tuple[dict[str, Decimal], ...]  # per day: symbol -> close
    floats: tuple[tuple[float, ...], ...]  # per day: closes in `symbols` order
    trading: frozenset[date]
    assets: Mapping[str, AssetInfo]


def simulate(inp: SimulationInput) -> SimulationReport:
    """Replay every policy over the history and recommend one.

    Args:
        inp: The starting portfolio, targets, history, flows, settings and policies.

    Returns:
        Each policy's result (in the given order), the recommendation, the look ahead
        from the starting weights (None without `forward_seed`), the number of days and
        the seconds it took.

    Raises:
        InvalidInput: The history is shorter than two days, out of order, misses a
            target's or a held symbol's closes, or holds a close that is not positive;
            or no target is enabled.
    """
    started = time.perf_counter()
    market = prepare(inp)
    targets = tuple(t for t in inp.targets if t.enabled)
    results = tuple(replay_policy(inp, policy, market, targets)[0] for policy in inp.policies)
    forward = None
    if inp.forward_seed is not None and len(market.days) >= 3:
        forward = _forward(inp, market, targets, inp.forward_seed)
    return SimulationReport(
        results=results,
        recommendation=recommend(
            results, inp.tracking_penalty_bps, len(market.days), inp.critical_drift_percent
        ),
        forward=forward,
        days=len(market.days),
        seconds=time.perf_counter() - started,
    )


def prepare(inp: SimulationInput) -> Market:
    """Check the history and turn it into per-day closes, Decimal and float.

    Raises:
        InvalidInput: As `simulate`.
    """
    history = inp.history
    days = history.days
    if len(days) < 2:
        raise InvalidInput("history", "needs at least two trading days")
    if any(b <= a for a, b in itertools.pairwise(days)):
        raise InvalidInput("history", "days must be in order, each once")
    targets = [t for t in inp.targets if t.enabled]
    if not targets:
        raise InvalidInput("targets", "no target is enabled")
    needed = {t.symbol for t in targets} | {lot.symbol for lot in inp.lots}
    missing = sorted(needed - set(history.closes_usd))
    if missing:
        raise InvalidInput("history", f"no closes for {', '.join(missing)}")
    symbols = tuple(history.closes_usd)
    for symbol in symbols:
        series = history.closes_usd[symbol]
        if len(series) != len(days):
            raise InvalidInput("history", f"{symbol} has {len(series)} closes for {len(days)} days")
        if any(not c.is_finite() or c <= 0 for c in series):
            raise InvalidInput("history", f"{symbol} has a close that is not positive")
    closes = tuple({s: history.closes_usd[s][i] for s in symbols} for i in range(len(days)))
    floats = tuple(
        tuple(float(history.closes_usd[s][i]) for s in symbols) for i in range(len(days))
    )
    assets = {s: inp.assets.get(s) or AssetInfo(s, True, True) for s in symbols}
    return Market(days, symbols, closes, floats, trading_calendar(days), assets)


def trading_calendar(days: tuple[date, ...]) -> frozenset[date]:
    """The history's days, with weekdays standing in for the calendar beyond its ends.

    `schedule.decide` moves a calendar date that is not a trading day back to the
    trading day before it; at the history's last day, next week's Monday would otherwise
    move back into the history (a weekly run on the last Friday that the live calendar,
    which knows next week, never makes).
    """
    edge = timedelta(days=PADDING_DAYS)
    before = (days[0] - edge + timedelta(days=k) for k in range(PADDING_DAYS))
    after = (days[-1] + timedelta(days=k + 1) for k in range(PADDING_DAYS))
    padding = {d for d in (*before, *after) if d.weekday() < WEEKEND}
    return frozenset(days) | padding


def policy_settings(settings: UserSettings, policy: Policy) -> UserSettings:
    """The user's settings with the policy's bands, strategy and schedule."""
    band_target = BandTarget.EDGE if policy.strategy is Strategy.BAND else settings.band_target
    return replace(
        settings,
        threshold_percent=policy.threshold_percent,
        drift_method=policy.drift_method,
        strategy=policy.strategy,
        schedule=policy.schedule,
        band_target=band_target,
    )


@dataclass(frozen=True)
class _Group:
    """A target's columns in the float closes, its weight and its band's half-width."""

    columns: tuple[int, ...]
    percent: float
    threshold: float


class _Drift:
    """The daily drift check in floats: the policy's bands over the float closes."""

    def __init__(self, market: Market, targets: tuple[Target, ...], settings: UserSettings) -> None:
        index = {s: i for i, s in enumerate(market.symbols)}
        self.relative = settings.drift_method.value == "relative"
        self.groups = tuple(
            _Group(
                tuple(index[m] for m in t.members if m in index),
                float(t.target_percent),
                float(
                    t.threshold_percent
                    if t.threshold_percent is not None
                    else settings.threshold_percent
                ),
            )
            for t in targets
        )
        grouped = {m for t in targets for m in t.members}
        self.others = tuple(i for s, i in index.items() if s not in grouped)
        self.threshold = float(settings.threshold_percent)

    def measure(
        self, qty: list[float], cash: float, closes: tuple[float, ...]
    ) -> tuple[float, float]:
        """The largest absolute drift (points) and the largest excess over a band."""
        held = [q * p for q, p in zip(qty, closes, strict=True)]
        total = cash + sum(held)
        if total <= 0:
            return 0.0, 0.0
        worst = 0.0
        excess = -1e18
        for group in self.groups:
            actual = sum(held[c] for c in group.columns) / total * 100
            drift = abs(actual - group.percent)
            worst = max(worst, drift)
            measured = drift / group.percent * 100 if self.relative and group.percent else drift
            excess = max(excess, measured - group.threshold)
        for column in self.others:
            if held[column] > 0:
                weight = held[column] / total * 100
                worst = max(worst, weight)
                measured = 100.0 if self.relative else weight
                excess = max(excess, measured - self.threshold)
        return worst, excess


def replay_policy(
    inp: SimulationInput, policy: Policy, market: Market, targets: tuple[Target, ...]
) -> tuple[PolicyResult, Ledger]:
    """Run one policy over the history (see the module's docstring for a day's steps).

    Args:
        inp: The simulation's input.
        policy: The policy run.
        market: The prepared history.
        targets: The enabled targets.

    Returns:
        What the policy did, with its metrics and score; and its account at the end
        (with every fill, for tests and diagnostics).
    """
    settings = policy_settings(inp.settings, policy)
    costs, rates = settings.costs, settings.tax
    ledger = Ledger.opening(inp.cash_usd, inp.lots, rates.lot_method)
    drift = _Drift(market, targets, settings)
    column = {s: i for i, s in enumerate(market.symbols)}
    qty = [0.0] * len(market.symbols)

    def sync() -> None:
        for i, symbol in enumerate(market.symbols):
            qty[i] = float(ledger.qty(symbol)) if symbol in ledger.lots else 0.0

    unknown = sorted(set(ledger.lots) - set(column))
    if unknown:
        raise InvalidInput("history", f"no closes for {', '.join(unknown)}")
    sync()
    planner_s = 0.0
    last_run: date | None = None
    owed = ZERO
    tax_paid = flows_total = ZERO
    runs = 0
    rebalance_days: list[date] = []
    values: list[float] = []
    flows: list[float] = []
    worst: list[float] = []
    # The chart's after-tax value: what a sale of everything would leave on each sampled
    # day (tax owed so far and on that sale), not the pre-tax value.
    sampled = set(sample_indices(len(market.days)))
    after_tax_on: dict[int, Decimal] = {}

    def plan_and_fill(
        day: date, prices: dict[str, Decimal], strategy: Strategy, **cash: Decimal
    ) -> int:
        nonlocal planner_s
        portfolio = ledger.portfolio(prices)
        if portfolio.total_value_usd + cash.get("cash_to_invest_usd", ZERO) <= 0:
            return 0
        planning = PlanningInput(
            portfolio=portfolio,
            targets=targets,
            assets=market.assets,
            prices_usd=prices,
            lots=ledger.book(),
            settings=settings,
            as_of=day,
            **cash,
        )
        began = time.perf_counter()
        plan: Plan = build_plan(planning, strategy)
        planner_s += time.perf_counter() - began
        for trade in plan.trades:
            ledger.fill(trade.symbol, trade.side, trade.qty, prices[trade.symbol], day, costs)
        if plan.trades:
            sync()
        return len(plan.trades)

    for d, day in enumerate(market.days):
        prices = market.closes[d]
        if d and day.year != market.days[d - 1].year:
            owed += ledger.close_year(rates)
        deposit = withdrawal = ZERO
        if d and day.month != market.days[d - 1].month:
            deposit = max(inp.monthly_flow_usd, ZERO)
            withdrawal = max(-inp.monthly_flow_usd, ZERO)
        ledger.cash_usd += deposit
        flow = deposit
        if deposit > 0 or owed > 0 or withdrawal > 0:
            need = owed + withdrawal
            if need > 0:
                value = ledger.portfolio(prices).total_value_usd
                plan_and_fill(day, prices, Strategy.CASH_FLOW, cash_to_raise_usd=min(need, value))
            else:
                plan_and_fill(day, prices, Strategy.CASH_FLOW)
            # What the cash cannot pay stays owed (a rule kept the planner from selling).
            paid_tax = min(owed, max(ledger.cash_usd, ZERO))
            ledger.cash_usd -= paid_tax
            owed -= paid_tax
            tax_paid += paid_tax
            out = min(withdrawal, max(ledger.cash_usd, ZERO))
            ledger.cash_usd -= out
            flow -= out
            flows_total += flow
            flow -= paid_tax  # tax leaves the account too: an outside flow for the returns
        closes_f = market.floats[d]
        _, excess = drift.measure(qty, float(ledger.cash_usd), closes_f)
        breach = excess > 0
        if -HAIR <= excess <= HAIR:
            report = measure_drift(ledger.portfolio(prices), list(targets), settings.drift)
            breach = report.needs_rebalance
        decision = decide(policy.schedule, day, market.trading, breach, last_run)
        if decision.due:
            last_run = day
            runs += 1
            if plan_and_fill(day, prices, policy.strategy):
                rebalance_days.append(day)
        day_worst, _ = drift.measure(qty, float(ledger.cash_usd), closes_f)
        worst.append(day_worst)
        values.append(
            float(ledger.cash_usd) + sum(q * p for q, p in zip(qty, closes_f, strict=True))
        )
        flows.append(float(flow))
        if d in sampled:
            sale_tax = ledger.tax_if_sold(_bid(prices, costs.spread_bps), day, rates)
            value_now = ledger.portfolio(prices).total_value_usd
            after_tax_on[d] = (value_now - owed - sale_tax).quantize(CENT)

    last = len(market.days) - 1
    last_prices = market.closes[last]
    ending = ledger.portfolio(last_prices).total_value_usd
    due = owed + ledger.tax_if_sold(_bid(last_prices, costs.spread_bps), market.days[last], rates)
    after_tax = ending - due
    weights = _target_weights(market, targets)
    tracking = tracking_error_percent(
        daily_returns(values, flows), target_returns(market.floats, weights)
    )
    te = Decimal(str(round(tracking, 4)))
    series = tuple(
        SeriesPoint(
            market.days[i],
            Decimal(str(round(worst[i], 4))),
            Decimal(str(round(values[i], 2))),
            after_tax_on[i],
        )
        for i in sorted(sampled)
    )
    result = PolicyResult(
        policy=policy,
        tracking_error_percent=te,
        max_drift_percent=Decimal(str(round(max(worst), 4))),
        mean_drift_percent=Decimal(str(round(sum(worst) / len(worst), 4))),
        rebalances=len(rebalance_days),
        orders=ledger.orders,
        turnover_usd=ledger.turnover_usd.quantize(CENT),
        costs_usd=ledger.costs_usd.quantize(CENT),
        short_term_gains_usd=ledger.short_term_gains_usd.quantize(CENT),
        long_term_gains_usd=ledger.long_term_gains_usd.quantize(CENT),
        tax_paid_usd=tax_paid.quantize(CENT),
        losses_harvested_usd=ledger.losses_harvested_usd.quantize(CENT),
        ending_value_usd=ending.quantize(CENT),
        after_tax_ending_value_usd=after_tax.quantize(CENT),
        score_usd=score_usd(after_tax, ending, te, inp.tracking_penalty_bps),
        rebalance_days=tuple(rebalance_days),
        series=series,
        planner_seconds=planner_s,
        runs=runs,
        flows_usd=flows_total.quantize(CENT),
        tax_due_usd=due.quantize(CENT),
        days_beyond_critical=sum(1 for w in worst if w > float(inp.critical_drift_percent)),
    )
    return result, ledger


def _bid(prices: dict[str, Decimal], spread_bps: Decimal) -> dict[str, Decimal]:
    """What a sale gets: the close less the spread."""
    return {s: p * (1 - spread_bps / BPS) for s, p in prices.items()}


def _target_weights(market: Market, targets: tuple[Target, ...]) -> list[float]:
    """Each column's weight in the target mix (a target's primary symbol stands for it)."""
    percent = {t.symbol: float(t.target_percent) / 100 for t in targets}
    return [percent.get(s, 0.0) for s in market.symbols]


def _forward(
    inp: SimulationInput, market: Market, targets: tuple[Target, ...], seed: int
) -> ForwardView:
    """The look ahead from the starting portfolio's weights with the user's own bands."""
    ledger = Ledger.opening(inp.cash_usd, inp.lots, inp.settings.tax.lot_method)
    portfolio = ledger.portfolio(market.closes[0])
    total = portfolio.total_value_usd
    weights: dict[str, Decimal] = {}
    bands: dict[str, tuple[Decimal, Decimal]] = {}
    for target in targets:
        held = sum(
            (h.market_value_usd for h in portfolio.holdings if h.symbol in target.members), ZERO
        )
        weights[target.symbol] = held / total * HUNDRED if total > 0 else ZERO
        threshold = target.threshold_percent
        if threshold is None:
            threshold = inp.settings.threshold_percent
        bands[target.symbol] = band_percent(
            target.target_percent, threshold, inp.settings.drift_method
        )
    return forward_view(inp.history, targets, weights, bands, seed=seed)
