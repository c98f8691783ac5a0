"""Benchmark of the what-if simulator (scripts/bench-simulation).

A seeded synthetic history (geometric Brownian motion: per-asset drift and volatility,
one correlation between every pair, weekdays as trading days) is replayed by the pure
domain simulator (`simulate`) from a template portfolio invested at equal targets. The
report (Markdown) gives the time of the goal case (20 assets x 10 years x 12 policies,
goal under 10 s), how the time grows with assets and with years, the share spent in
the planner (`build_plan`), and one comparison of the default policies with the
recommendation. Figures, not pass/fail: the exit code is 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from rebalancer.domain.models import Target
from rebalancer.domain.simulation.model import (
    Policy,
    PriceHistory,
    SimulationInput,
    SimulationReport,
)
from rebalancer.domain.simulation.policies import default_policies
from rebalancer.domain.simulation.replay import simulate
from rebalancer.domain.simulation.templates import template_portfolio

DEFAULT_SEED = 20250114
FIRST_DAY = date(2015, 1, 2)
DAYS_PER_YEAR = 252
CORRELATION = 0.5
START_USD = Decimal(100_000)
GOAL_S = 10.0


def synthetic_history(assets: int, years: int, seed: int) -> PriceHistory:
    """Seeded GBM closes on weekdays from 2 January 2015.

    Args:
        assets: How many symbols (S00, S01, ...).
        years: Years of 252 trading days.
        seed: The generator's seed.

    Returns:
        The history: volatilities 10-40 % a year, drifts 2-10 % a year, every pair of
        assets correlated 0.5.
    """
    rng = np.random.default_rng(seed)
    count = years * DAYS_PER_YEAR
    days: list[date] = []
    day = FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    vol = rng.uniform(0.10, 0.40, assets) / np.sqrt(DAYS_PER_YEAR)
    drift = rng.uniform(0.02, 0.10, assets) / DAYS_PER_YEAR
    corr = np.full((assets, assets), CORRELATION) + np.eye(assets) * (1 - CORRELATION)
    shocks = rng.standard_normal((count - 1, assets)) @ np.linalg.cholesky(corr).T
    logs = drift - vol**2 / 2 + shocks * vol
    prices = 100 * np.exp(np.vstack([np.zeros(assets), np.cumsum(logs, axis=0)]))
    symbols = [f"S{k:02d}" for k in range(assets)]
    closes = {s: tuple(Decimal(f"{p:.2f}") for p in prices[:, k]) for k, s in enumerate(symbols)}
    return PriceHistory(tuple(days), closes)


def simulation(
    assets: int,
    years: int,
    seed: int,
    policies: tuple[Policy, ...],
    flow_usd: Decimal = Decimal(0),
    forward_seed: int | None = None,
) -> SimulationInput:
    """A simulation of `START_USD` invested at equal targets on the history's first day."""
    history = synthetic_history(assets, years, seed)
    symbols = list(history.closes_usd)
    share = Decimal(100) / assets
    targets = tuple(Target(s, share) for s in symbols)
    first = {s: history.closes_usd[s][0] for s in symbols}
    cash, lots = template_portfolio(targets, START_USD, first, history.days[0])
    return SimulationInput(
        cash,
        lots,
        targets,
        history,
        policies,
        monthly_flow_usd=flow_usd,
        forward_seed=forward_seed,
    )


def timed(inp: SimulationInput) -> tuple[float, float, SimulationReport]:
    """Wall seconds of `simulate`, the planner's seconds, and the report."""
    began = time.perf_counter()
    report = simulate(inp)
    seconds = time.perf_counter() - began
    return seconds, sum(r.planner_seconds for r in report.results), report


def report(seed: int, progress: Callable[[str], None]) -> str:
    """The whole Markdown report."""
    twelve = default_policies()[:12]
    lines = ["# What-if simulator benchmark", ""]
    lines.append(
        f"Seed {seed}; GBM with volatilities 10-40 %/yr, correlation {CORRELATION}; "
        f"${START_USD:,} invested at equal targets; default costs and taxes; 12 policies "
        "(the defaults but the last); no cash flows; forward view off (timed apart)."
    )
    lines.append("")
    progress("goal case: 20 assets x 10 years x 12 policies")
    seconds, planner, _ = timed(simulation(20, 10, seed, twelve))
    verdict = "met" if seconds < GOAL_S else "MISSED"
    lines += [
        "## Goal case",
        "",
        f"20 assets x 10 years (2,520 days) x 12 policies: **{seconds:.2f} s** "
        f"(goal {GOAL_S:.0f} s: {verdict}; {seconds / GOAL_S:.2f}x the goal); "
        f"planner {planner:.2f} s = {planner / seconds:.0%} of it.",
        "",
    ]
    base = seconds
    lines += ["## Growth with assets (10 years, 12 policies)", ""]
    lines += [
        "| assets | seconds | x 20 assets | planner s | planner share |",
        "| --- | --- | --- | --- | --- |",
    ]
    for assets in (5, 10, 20, 40):
        progress(f"{assets} assets x 10 years")
        s, p, _ = (
            (seconds, planner, None)
            if assets == 20
            else timed(simulation(assets, 10, seed, twelve))
        )
        lines.append(f"| {assets} | {s:.2f} | {s / base:.2f} | {p:.2f} | {p / s:.0%} |")
    lines += ["", "## Growth with years (20 assets, 12 policies)", ""]
    lines += [
        "| years | seconds | x 10 years | planner s | planner share |",
        "| --- | --- | --- | --- | --- |",
    ]
    for years in (2, 5, 10):
        progress(f"20 assets x {years} years")
        s, p, _ = (
            (seconds, planner, None) if years == 10 else timed(simulation(20, years, seed, twelve))
        )
        lines.append(f"| {years} | {s:.2f} | {s / base:.2f} | {p:.2f} | {p / s:.0%} |")
    progress("comparison: 10 assets x 10 years, every default policy, $500 a month")
    inp = simulation(10, 10, seed, default_policies(), Decimal(500), forward_seed=seed)
    s, p, result = timed(inp)
    lines += ["", comparison(result, inp, s)]
    return "\n".join(lines) + "\n"


def comparison(result: SimulationReport, inp: SimulationInput, seconds: float) -> str:
    """The policies table, the recommendation and the look ahead, in Markdown."""
    lines = [
        "## Comparison of the default policies",
        "",
        f"10 assets (10 % each) x 10 years ({result.days:,} days), ${START_USD:,} invested "
        f"on day one, $500 contributed each month, default costs (5 bp spread, 25 bp cash "
        f"buffer) and taxes (35 % short-term, 15 % long-term, FIFO); tracking penalty "
        f"{inp.tracking_penalty_bps} bp of the ending value per point of tracking error. "
        f"Simulated in {seconds:.2f} s.",
        "",
        "| policy | rebalances | orders | TE % | max drift | mean drift | turnover $ | costs $ "
        "| ST gains $ | LT gains $ | tax paid $ | after-tax end $ | score $ |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.results:
        lines.append(
            f"| {r.policy.name} | {r.rebalances} | {r.orders} | {r.tracking_error_percent:.2f} "
            f"| {r.max_drift_percent:.1f} | {r.mean_drift_percent:.1f} "
            f"| {r.turnover_usd:,.0f} | {r.costs_usd:,.0f} | {r.short_term_gains_usd:,.0f} "
            f"| {r.long_term_gains_usd:,.0f} | {r.tax_paid_usd:,.0f} "
            f"| {r.after_tax_ending_value_usd:,.0f} | {r.score_usd:,.0f} |"
        )
    rec = result.recommendation
    lines += [
        "",
        f"**Recommendation: {rec.best}** (runner-up {rec.runner_up}, ${rec.gap_usd:,.2f} "
        "apart on score).",
        "",
        rec.reason,
    ]
    if result.forward is not None:
        f = result.forward
        lines += [
            "",
            f"Look ahead from day one's weights ({f.paths} paths, seed {f.seed}): any band "
            f"breached within 30 days {f.any_breach_within_30_days:.1%}, within 90 days "
            f"{f.any_breach_within_90_days:.1%}.",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and print the report; always 0 (figures, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(f"bench-simulation: {message}", file=sys.stderr, flush=True)

    sys.stdout.write(report(args.seed, progress))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
