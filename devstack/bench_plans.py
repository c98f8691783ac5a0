"""Benchmark of the planning strategies on generated portfolios (scripts/bench-plans).

A seeded generator builds portfolios of 5, 20, 100 and 500 assets with tax lots (gains
and losses, short and long term), drifted prices, whole-share assets and some cash, and
a set of small whole-share-only portfolios (its own section: the share left out of band,
and the tax against `full` and `band`). Every
strategy plans each portfolio through the pure domain planner (`build_plan`); the naive
baseline is `full` (every asset straight to its target, as most peers do). The report is
Markdown: one table per size, then the targets as PASS/FAIL lines. The exit code is 0
even when a target fails: it is a benchmark.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import numpy as np

from rebalancer.domain.drift import AssetDrift, DriftMethod, DriftReport
from rebalancer.domain.models import HUNDRED, ZERO, AssetInfo, Holding, Portfolio, Target
from rebalancer.domain.plan import Plan, PlanningInput
from rebalancer.domain.planning import build_plan
from rebalancer.domain.settings import Strategy, UserSettings
from rebalancer.domain.tax import LotBook, LotMethod, TaxLot, relief_order

AS_OF = date(2026, 11, 20)
DEFAULT_SEED = 20261120
NAIVE = Strategy.FULL
STRATEGIES = (
    Strategy.FULL,
    Strategy.THRESHOLD,
    Strategy.BAND,
    Strategy.CASH_FLOW,
    Strategy.TAX_AWARE,
)
CENT = Decimal("0.01")
QTY_STEP = Decimal("0.000000001")
WHOLE_SHARE_SHARE = 0.15  # share of assets that trade in whole shares only
OLDEST_LOT_DAYS = 4 * 365
NEWEST_LOT_DAYS = 31  # no lot inside a 30-day wash-sale window: bands stay reachable
TAX_CUT = Decimal("0.5")  # target (b): tax_aware realizes at least 50 % less tax
P50_100X20_S = 0.050  # target (c)
P50_500X50_S = 1.0  # target (d)


@dataclass(frozen=True)
class Scenario:
    """One size of the benchmark: how many portfolios, assets and lots per asset."""

    assets: int
    portfolios: int
    max_lots: int
    exact_lots: bool = False
    drift_sigma: float = 0.2  # log-normal spread of each asset's move away from its target
    whole_share: float = WHOLE_SHARE_SHARE  # share of assets that trade whole shares only

    @property
    def method(self) -> DriftMethod:
        """Relative bands for many small targets, absolute 5-point bands otherwise."""
        return DriftMethod.RELATIVE if self.assets > 20 else DriftMethod.ABSOLUTE

    @property
    def threshold(self) -> Decimal:
        """25 % of the target for relative bands, 5 points for absolute ones."""
        return Decimal(25) if self.method is DriftMethod.RELATIVE else Decimal(5)

    @property
    def label(self) -> str:
        """A heading such as `100 assets x 20 lots`."""
        lots = f"{self.max_lots} lots" if self.exact_lots else f"1-{self.max_lots} lots"
        whole = ", whole shares" if self.whole_only else ""
        return f"{self.assets} assets x {lots}{whole}"

    @property
    def whole_only(self) -> bool:
        """True for the whole-share set: every asset trades whole shares only."""
        return self.whole_share >= 1.0

    @property
    def band(self) -> str:
        """The band in words."""
        if self.method is DriftMethod.RELATIVE:
            return f"relative +/-{self.threshold} % of target"
        return f"absolute +/-{self.threshold} points"


# The whole-share set: small portfolios of whole-share assets only, few lots, where
# rounding to shares decides whether a band is reached.
WHOLE_SET = Scenario(4, 200, 3, drift_sigma=0.3, whole_share=1.0)
FULL_RUN = (
    Scenario(5, 20, 50, drift_sigma=0.3),
    Scenario(20, 20, 50, drift_sigma=0.5),
    Scenario(100, 20, 20, exact_lots=True),
    Scenario(500, 5, 50, exact_lots=True),
    WHOLE_SET,
)
QUICK_RUN = (
    Scenario(5, 4, 50, drift_sigma=0.3),
    Scenario(20, 4, 50, drift_sigma=0.5),
    Scenario(100, 3, 20, exact_lots=True),
    Scenario(500, 1, 50, exact_lots=True),
    Scenario(4, 40, 3, drift_sigma=0.3, whole_share=1.0),
)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT)


def generate_targets(rng: random.Random, count: int) -> tuple[Decimal, ...]:
    """Uneven target weights in percent, 2 decimals, at least 0.01 each, summing to 100."""
    weights = [rng.lognormvariate(0.0, 0.7) for _ in range(count)]
    total = sum(weights)
    percents = [max(CENT, _money(100 * w / total)) for w in weights]
    largest = max(range(count), key=lambda i: percents[i])
    percents[largest] += HUNDRED - sum(percents, ZERO)
    return tuple(percents)


def _split(rng: random.Random, qty: Decimal, parts: int, fractionable: bool) -> list[Decimal]:
    """Split `qty` into `parts` positive lot quantities that add up to it exactly."""
    if parts == 1:
        return [qty]
    weights = [rng.uniform(0.2, 1.8) for _ in range(parts)]
    total = sum(weights)
    if fractionable:
        step = QTY_STEP
        spare = qty - step * parts
        sizes = [
            step + (spare * Decimal(repr(w / total))).quantize(step, ROUND_DOWN) for w in weights
        ]
    else:
        spare = qty - parts
        sizes = [
            1 + (spare * Decimal(repr(w / total))).to_integral_value(ROUND_DOWN) for w in weights
        ]
    sizes[-1] += qty - sum(sizes, ZERO)
    return sizes


def _drift_factors(rng: random.Random, scenario: Scenario) -> list[float]:
    """Multiplicative drift per asset, log-normal with the scenario's spread."""
    return [math.exp(rng.gauss(0.0, scenario.drift_sigma)) for _ in range(scenario.assets)]


def generate_portfolio(rng: random.Random, scenario: Scenario) -> PlanningInput:
    """One drifted portfolio with lots, cash, prices and the scenario's band settings."""
    count = scenario.assets
    symbols = [f"S{i:03d}" for i in range(count)]
    targets = generate_targets(rng, count)
    total = _log_uniform(rng, 2_000.0, 20_000.0) * count
    cash = _money(total * rng.uniform(0.0, 0.05))
    invested = total - float(cash)
    raw = [float(t) * f for t, f in zip(targets, _drift_factors(rng, scenario), strict=True)]
    raw_total = sum(raw)

    holdings: list[Holding] = []
    assets: dict[str, AssetInfo] = {}
    prices: dict[str, Decimal] = {}
    lots: dict[str, tuple[TaxLot, ...]] = {}
    last_buy: dict[str, date] = {}
    for symbol, weight in zip(symbols, raw, strict=True):
        value = invested * weight / raw_total
        fractionable = rng.random() >= scenario.whole_share
        count_lots = scenario.max_lots if scenario.exact_lots else rng.randint(1, scenario.max_lots)
        price = _money(_log_uniform(rng, 5.0, 800.0))
        if fractionable:
            qty = max(Decimal("0.001"), (Decimal(repr(value)) / price).quantize(QTY_STEP))
        else:
            if value / float(price) < 2 * count_lots:  # room for one whole share per lot
                price = max(Decimal(1), _money(value / (3 * count_lots)))
            shares = (Decimal(repr(value)) / price).to_integral_value(ROUND_HALF_EVEN)
            qty = max(Decimal(count_lots), shares)
        growth = rng.gauss(0.07, 0.12)  # this asset's yearly return: old lots mostly gain
        symbol_lots = []
        for part in _split(rng, qty, count_lots, fractionable):
            age = rng.randint(NEWEST_LOT_DAYS, OLDEST_LOT_DAYS)
            ratio = math.exp(growth * age / 365 + rng.gauss(0.0, 0.2))
            cost = max(CENT, _money(float(price) / ratio))
            symbol_lots.append(TaxLot(symbol, part, cost, AS_OF - timedelta(days=age)))
        lots[symbol] = relief_order(symbol_lots, LotMethod.FIFO)
        last_buy[symbol] = max(lot.acquired_on for lot in symbol_lots)
        holdings.append(Holding(symbol, qty, price, qty * price))
        assets[symbol] = AssetInfo(symbol, tradable=True, fractionable=fractionable)
        prices[symbol] = price

    settings = UserSettings(
        threshold_percent=scenario.threshold,
        critical_percent=2 * scenario.threshold,
        drift_method=scenario.method,
    )
    return PlanningInput(
        portfolio=Portfolio(cash, tuple(holdings)),
        targets=tuple(Target(s, t) for s, t in zip(symbols, targets, strict=True)),
        assets=assets,
        prices_usd=prices,
        lots=LotBook(lots, last_buy),
        settings=settings,
        as_of=AS_OF,
    )


def generate_scenario(scenario: Scenario, seed: int) -> list[PlanningInput]:
    """The scenario's portfolios; the same seed always gives the same portfolios."""
    key = f"{seed}/{scenario.assets}/{scenario.max_lots}/{scenario.exact_lots}"
    if scenario.whole_only:
        key += "/whole"
    rng = random.Random(key)
    return [generate_portfolio(rng, scenario) for _ in range(scenario.portfolios)]


def measured_drift(row: AssetDrift, method: DriftMethod) -> Decimal:
    """The drift the band compares: absolute points, or relative percent of the target."""
    if method is DriftMethod.RELATIVE:
        if row.relative_drift_percent is None:
            return HUNDRED if row.drift_percent else ZERO
        return abs(row.relative_drift_percent)
    return abs(row.drift_percent)


def out_of_band(report: DriftReport, method: DriftMethod) -> list[str]:
    """Symbols whose drift is beyond their threshold."""
    return [
        row.symbol for row in report.assets if measured_drift(row, method) > row.threshold_percent
    ]


def band_use(report: DriftReport, method: DriftMethod) -> float:
    """The worst drift as a share of its threshold: 1.0 sits on the band's edge."""
    return max(
        (float(measured_drift(row, method) / row.threshold_percent) for row in report.assets),
        default=0.0,
    )


@dataclass(frozen=True)
class Outcome:
    """What one strategy did to one portfolio."""

    scenario: Scenario
    index: int
    strategy: Strategy
    value_usd: Decimal
    seconds: float
    assets_out_before: int = 0
    band_use_before: float = 0.0
    max_drift_after: Decimal = ZERO
    band_use_after: float = 0.0
    assets_out_after: int = 0
    turnover_usd: Decimal = ZERO
    orders: int = 0
    short_term_gain_usd: Decimal = ZERO
    long_term_gain_usd: Decimal = ZERO
    tax_usd: Decimal = ZERO
    positive_tax_usd: Decimal = ZERO
    solver: str | None = None
    error: str | None = None

    @property
    def in_band(self) -> bool:
        """True when the plan ran and left every asset inside its band."""
        return self.error is None and self.assets_out_after == 0


def measure(inp: PlanningInput, strategy: Strategy, scenario: Scenario, index: int) -> Outcome:
    """Plan one portfolio with one strategy, timing `build_plan` only."""
    value = inp.portfolio.total_value_usd
    start = time.perf_counter()
    try:
        plan: Plan = build_plan(inp, strategy)
    except Exception as error:  # a crash is a finding: record it and carry on
        seconds = time.perf_counter() - start
        reason = f"{type(error).__name__}: {error}"
        return Outcome(scenario, index, strategy, value, seconds, error=reason)
    seconds = time.perf_counter() - start
    method = scenario.method
    return Outcome(
        scenario=scenario,
        index=index,
        strategy=strategy,
        value_usd=value,
        seconds=seconds,
        assets_out_before=len(out_of_band(plan.drift_before, method)),
        band_use_before=band_use(plan.drift_before, method),
        max_drift_after=plan.drift_after.max_drift_percent,
        band_use_after=band_use(plan.drift_after, method),
        assets_out_after=len(out_of_band(plan.drift_after, method)),
        turnover_usd=plan.turnover_usd,
        orders=len(plan.trades),
        short_term_gain_usd=plan.total("short_term_gain_usd"),
        long_term_gain_usd=plan.total("long_term_gain_usd"),
        tax_usd=plan.estimated_tax_usd,
        positive_tax_usd=sum((max(ZERO, t.estimated_tax_usd) for t in plan.trades), ZERO),
        solver=plan.solver,
    )


def warm_up() -> None:
    """Import scipy's MILP and plan once with every strategy, so no timing pays for it."""
    inp = generate_scenario(Scenario(5, 1, 3), 0)[0]
    for strategy in STRATEGIES:
        build_plan(inp, strategy)


def run(
    scenarios: Sequence[Scenario],
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> list[Outcome]:
    """Generate every scenario's portfolios and plan each with every strategy."""
    warm_up()
    outcomes: list[Outcome] = []
    for scenario in scenarios:
        started = time.perf_counter()
        for index, inp in enumerate(generate_scenario(scenario, seed)):
            outcomes.extend(measure(inp, s, scenario, index) for s in STRATEGIES)
        if progress is not None:
            progress(f"{scenario.label}: {time.perf_counter() - started:.1f} s")
    return outcomes


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (linear interpolation); 0 when there are no values."""
    return float(np.percentile(np.array(values, dtype=float), pct)) if values else 0.0


def _usd(value: Decimal) -> str:
    return f"{value:,.0f}"


def _of(outcomes: Sequence[Outcome], strategy: Strategy) -> list[Outcome]:
    return [o for o in outcomes if o.strategy is strategy]


def scenario_table(scenario: Scenario, outcomes: Sequence[Outcome]) -> list[str]:
    """The Markdown section of one size: the portfolios before, then one row per strategy."""
    mine = [o for o in outcomes if o.scenario == scenario]
    base = _of(mine, NAIVE)
    value = sum((o.value_usd for o in base), ZERO)
    assets = scenario.assets * len(base)
    out_before = sum(o.assets_out_before for o in base)
    breached = sum(1 for o in base if o.assets_out_before)
    uses = [o.band_use_before for o in base]
    lines = [
        f"## {scenario.label} ({len(base)} portfolios, {scenario.band}, "
        f"drift sigma {scenario.drift_sigma})",
        "",
        f"Before: {out_before} of {assets} assets outside their band "
        f"({100 * out_before / max(1, assets):.1f} %), in {breached} of {len(base)} portfolios; "
        f"worst drift {percentile(uses, 50):.2f} (p50) / {percentile(uses, 95):.2f} (p95) "
        f"times the threshold; total value ${_usd(value)}.",
        "",
        "| strategy | portfolios in band | assets out after | max drift after, points "
        "p50 / p95 | worst drift / threshold p50 / p95 | turnover $ (% of value) "
        "| orders (mean) | short-term gains $ | long-term gains $ | estimated tax $ "
        "| positive tax $ | plan ms p50 / p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for strategy in STRATEGIES:
        rows = _of(mine, strategy)
        good = [o for o in rows if o.error is None]
        drift = [float(o.max_drift_after) for o in good]
        use = [o.band_use_after for o in good]
        ms = [o.seconds * 1000 for o in rows]
        turnover = sum((o.turnover_usd for o in good), ZERO)
        share = 100 * turnover / value if value else ZERO
        name = f"{strategy.value} (naive)" if strategy is NAIVE else strategy.value
        crashed = len(rows) - len(good)
        in_band = f"{sum(1 for o in rows if o.in_band)} / {len(rows)}"
        if crashed:
            in_band += f" ({crashed} crashed)"
        lines.append(
            f"| {name} | {in_band} | {sum(o.assets_out_after for o in good)} "
            f"| {percentile(drift, 50):.2f} / {percentile(drift, 95):.2f} "
            f"| {percentile(use, 50):.2f} / {percentile(use, 95):.2f} "
            f"| {_usd(turnover)} ({share:.1f} %) "
            f"| {sum(o.orders for o in good) / max(1, len(good)):.1f} "
            f"| {_usd(sum((o.short_term_gain_usd for o in good), ZERO))} "
            f"| {_usd(sum((o.long_term_gain_usd for o in good), ZERO))} "
            f"| {_usd(sum((o.tax_usd for o in good), ZERO))} "
            f"| {_usd(sum((o.positive_tax_usd for o in good), ZERO))} "
            f"| {percentile(ms, 50):.1f} / {percentile(ms, 95):.1f} |"
        )
    solvers = sorted({o.solver for o in _of(mine, Strategy.TAX_AWARE) if o.solver})
    if solvers:
        lines += ["", "tax_aware solver: " + "; ".join(solvers[:3])]
        if len(solvers) > 3:
            lines[-1] += f"; ... ({len(solvers)} distinct)"
    return lines


def _timing_target(
    outcomes: Sequence[Outcome], assets: int, lots: int, limit_s: float, tag: str
) -> str:
    times = [
        o.seconds
        for o in _of(outcomes, Strategy.TAX_AWARE)
        if o.scenario.assets == assets and o.scenario.exact_lots and o.scenario.max_lots == lots
    ]
    goal = (
        f"{tag} tax_aware plan time p50 < {limit_s * 1000:.0f} ms at {assets} assets x {lots} lots"
    )
    if not times:
        return f"- SKIP {goal}: not measured in this run"
    p50 = percentile(times, 50)
    verdict = "PASS" if p50 < limit_s else "FAIL"
    return (
        f"- {verdict} {goal}: p50 {p50 * 1000:.1f} ms, p95 {percentile(times, 95) * 1000:.1f} ms "
        f"over {len(times)} portfolio{'' if len(times) == 1 else 's'}"
    )


def whole_share_section(outcomes: Sequence[Outcome]) -> list[str]:
    """The whole-share set: share of portfolios left out of band, tax against baselines.

    Tax is compared with the naive baseline (`full`) and with `band`, summed over the
    portfolios every compared strategy planned.
    """
    mine = [o for o in outcomes if o.scenario.whole_only]
    if not mine:
        return []
    count = len(_of(mine, NAIVE))
    lines = [
        f"## Whole shares only ({count} portfolios)",
        "",
        "| strategy | left out of band | assets out after | estimated tax $ | vs full $ "
        "| vs band $ |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    full_tax = sum((o.tax_usd for o in _of(mine, NAIVE) if o.error is None), ZERO)
    band_tax = sum((o.tax_usd for o in _of(mine, Strategy.BAND) if o.error is None), ZERO)
    for strategy in STRATEGIES:
        rows = _of(mine, strategy)
        out = sum(1 for o in rows if not o.in_band)
        tax = sum((o.tax_usd for o in rows if o.error is None), ZERO)
        lines.append(
            f"| {strategy.value} | {out} / {len(rows)} ({100 * out / max(1, len(rows)):.1f} %) "
            f"| {sum(o.assets_out_after for o in rows)} | {tax:,.2f} | {tax - full_tax:+,.2f} "
            f"| {tax - band_tax:+,.2f} |"
        )
    before = sum(1 for o in _of(mine, NAIVE) if o.assets_out_before)
    lines += ["", f"Before: {before} of {count} portfolios had an asset outside its band."]
    return lines


def targets(outcomes: Sequence[Outcome]) -> list[str]:
    """The PASS/FAIL lines of the four targets, with the figures behind each."""
    tax_aware = _of(outcomes, Strategy.TAX_AWARE)
    naive = _of(outcomes, NAIVE)
    missed = [o for o in tax_aware if not o.in_band]
    goal_a = "(a) tax_aware keeps every asset inside its band on every portfolio"
    if missed:
        where = ", ".join(
            f"{o.scenario.label} #{o.index} "
            + (f"crashed ({o.error})" if o.error else f"{o.assets_out_after} out")
            for o in missed[:8]
        )
        line_a = f"- FAIL {goal_a}: {len(missed)} of {len(tax_aware)} portfolios missed: {where}"
    else:
        line_a = f"- PASS {goal_a}: {len(tax_aware)} of {len(tax_aware)} portfolios in band"

    tax = sum((o.tax_usd for o in tax_aware), ZERO)
    base = sum((o.tax_usd for o in naive), ZERO)
    positive = sum((o.positive_tax_usd for o in tax_aware), ZERO)
    base_positive = sum((o.positive_tax_usd for o in naive), ZERO)
    goal_b = "(b) tax_aware realizes at least 50 % less estimated tax than the naive baseline"
    passed_b = tax <= base * (1 - TAX_CUT) if base > 0 else tax <= base
    cut = f"{100 * (1 - tax / base):.1f} % less" if base > 0 else "baseline owes no tax"
    cut_positive = (
        f"{100 * (1 - positive / base_positive):.1f} % less" if base_positive > 0 else "n/a"
    )
    lines = [
        "## Targets",
        "",
        line_a,
        f"- {'PASS' if passed_b else 'FAIL'} {goal_b}: ${_usd(tax)} versus ${_usd(base)} "
        f"({cut}); positive tax only (losses not netted, summed per trade): "
        f"${_usd(positive)} versus ${_usd(base_positive)} ({cut_positive})",
        _timing_target(outcomes, 100, 20, P50_100X20_S, "(c)"),
        _timing_target(outcomes, 500, 50, P50_500X50_S, "(d)"),
    ]
    crashes = [o for o in outcomes if o.error]
    if crashes:
        lines += ["", f"Planner crashes ({len(crashes)}):"]
        lines += [
            f"- {o.strategy.value} on {o.scenario.label} #{o.index}: {o.error}"
            for o in crashes[:20]
        ]
    failed = sum(1 for line in lines if line.startswith("- FAIL"))
    lines += ["", f"**{failed} of 4 targets FAILED.**" if failed else "All targets met."]
    return lines


def report(
    scenarios: Sequence[Scenario],
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Run the benchmark and return the Markdown report."""
    started = time.perf_counter()
    outcomes = run(scenarios, seed, progress)
    elapsed = time.perf_counter() - started
    lines = [
        "# Planner benchmark: strategies on generated portfolios",
        "",
        f"Seed {seed}, as of {AS_OF}; FIFO lots acquired {NEWEST_LOT_DAYS} days to 4 years "
        "before, gains and losses, short and long term; "
        f"{WHOLE_SHARE_SHARE:.0%} whole-share assets; cash 0-5 %; default costs (5 bps, "
        "$10 minimum trade, 25 bps cash buffer) and taxes (35 % short, 15 % long term). "
        f"Naive baseline: `{NAIVE.value}`. Plan time is `build_plan` alone, after a warm-up; "
        "positive tax sums each sell's tax when it is above zero. "
        f"Whole run: {elapsed:.1f} s.",
        "",
    ]
    for scenario in scenarios:
        lines += [*scenario_table(scenario, outcomes), ""]
    whole = whole_share_section(outcomes)
    if whole:
        lines += [*whole, ""]
    lines += targets(outcomes)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, print the report; 0 even when a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer portfolios: a smoke run")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    args = parser.parse_args(argv)
    scenarios = QUICK_RUN if args.quick else FULL_RUN

    def progress(message: str) -> None:
        print(f"bench-plans: {message}", file=sys.stderr, flush=True)

    sys.stdout.write(report(scenarios, args.seed, progress))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
