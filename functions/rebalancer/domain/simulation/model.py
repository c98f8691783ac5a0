"""What a what-if simulation takes and answers: policies, a price history, the results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rebalancer.domain.drift import DriftMethod
from rebalancer.domain.models import AssetInfo, Target
from rebalancer.domain.schedule import ScheduleSettings
from rebalancer.domain.settings import Strategy, UserSettings
from rebalancer.domain.tax import TaxLot

ZERO = Decimal(0)


@dataclass(frozen=True)
class Policy:
    """One way to rebalance: when (the nightly run's trigger logic) and how (a strategy).

    `schedule` decides the days a run is due exactly as the nightly run does
    (`schedule.decide`); `threshold_percent` and `drift_method` are the bands a threshold
    trigger watches; `strategy` plans with the same `build_plan` the live runs use
    (`band` trades to the band's edge, `threshold`/`full` to the target).
    A `Trigger.MANUAL` schedule never rebalances (buy and hold).
    """

    name: str
    schedule: ScheduleSettings
    strategy: Strategy
    threshold_percent: Decimal = Decimal(5)
    drift_method: DriftMethod = DriftMethod.ABSOLUTE


@dataclass(frozen=True)
class PriceHistory:
    """Daily closes on trading days, oldest first: `closes_usd[symbol][i]` is on `days[i]`."""

    days: tuple[date, ...]
    closes_usd: dict[str, tuple[Decimal, ...]]


@dataclass(frozen=True)
class SimulationInput:
    """A starting portfolio, its targets, a price history, cash flows, settings, policies.

    `lots` are the tax lots held on the history's first day (the user's own, or a
    template's); `monthly_flow_usd` is added on each month's first trading day (negative:
    withdrawn). `settings` gives the costs, the tax rates and the lot relief order.
    `tracking_penalty_bps` is what one percentage point of annualized tracking error
    costs a policy in the recommendation, in basis points of the ending value.
    `assets` says which symbols trade in whole shares only (a symbol left out trades in
    fractions); `forward_seed` seeds the look ahead (None: no look ahead).
    `critical_drift_percent` is the drift (absolute points) the user calls critical: a
    policy that leaves the portfolio beyond it on more than `recommend.MAX_SHARE_BEYOND`
    of the days is not recommended.
    """

    cash_usd: Decimal
    lots: tuple[TaxLot, ...]
    targets: tuple[Target, ...]
    history: PriceHistory
    policies: tuple[Policy, ...]
    settings: UserSettings = field(default_factory=UserSettings)
    monthly_flow_usd: Decimal = ZERO
    tracking_penalty_bps: Decimal = Decimal(10)
    critical_drift_percent: Decimal = Decimal(10)
    assets: Mapping[str, AssetInfo] = field(default_factory=dict)
    forward_seed: int | None = 14


@dataclass(frozen=True)
class SeriesPoint:
    """One day of a policy's run, for charts (sampled: at most a few hundred points)."""

    day: date
    max_drift_percent: Decimal
    value_usd: Decimal
    after_tax_value_usd: Decimal


@dataclass(frozen=True)
class PolicyResult:
    """What one policy did over the history."""

    policy: Policy
    tracking_error_percent: Decimal  # annualized, of daily weights against the targets
    max_drift_percent: Decimal
    mean_drift_percent: Decimal
    rebalances: int
    orders: int
    turnover_usd: Decimal
    costs_usd: Decimal
    short_term_gains_usd: Decimal
    long_term_gains_usd: Decimal
    tax_paid_usd: Decimal
    losses_harvested_usd: Decimal
    ending_value_usd: Decimal
    after_tax_ending_value_usd: Decimal  # as if everything were sold on the last day
    score_usd: Decimal  # after-tax ending value less the tracking-error penalty
    rebalance_days: tuple[date, ...]
    series: tuple[SeriesPoint, ...]
    planner_seconds: float = 0.0
    runs: int = 0  # days the trigger was due and the planner ran (some plan no trade)
    flows_usd: Decimal = ZERO  # contributions less withdrawals actually made
    tax_due_usd: Decimal = ZERO  # owed at the end: the last year's and a full sale's
    days_beyond_critical: int = 0  # days ending with an asset beyond the critical drift


@dataclass(frozen=True)
class Recommendation:
    """The best policy by score, the runner-up, how far apart, and why."""

    best: str
    runner_up: str | None
    gap_usd: Decimal
    reason: str


@dataclass(frozen=True)
class BandOutlook:
    """One asset's chance of leaving its band, from the history's volatility and correlation."""

    symbol: str
    breach_within_30_days: Decimal  # probability, 0..1
    breach_within_90_days: Decimal
    expected_days_to_breach: Decimal | None  # None: no breach within the horizon simulated


@dataclass(frozen=True)
class ForwardView:
    """A Monte Carlo look ahead from today's weights (seeded, reproducible)."""

    assets: tuple[BandOutlook, ...]
    any_breach_within_30_days: Decimal
    any_breach_within_90_days: Decimal
    paths: int
    seed: int


@dataclass(frozen=True)
class SimulationReport:
    """Every policy's result, the recommendation, and the look ahead."""

    results: tuple[PolicyResult, ...]
    recommendation: Recommendation
    forward: ForwardView | None
    days: int
    seconds: float
