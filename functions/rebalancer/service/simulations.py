"""Use case: what would each rebalancing policy have done to this user's portfolio?

Reads the user's targets, settings and lots and the broker's daily closes, replays the
history with the same trigger logic and planners as the live runs (domain/simulation),
and keeps the run in the user's history of simulations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from rebalancer.domain.drift import DEFAULT_CRITICAL_PERCENT, DriftMethod
from rebalancer.domain.errors import InvalidInput, PreconditionFailed
from rebalancer.domain.models import ZERO
from rebalancer.domain.settings import UserSettings
from rebalancer.domain.simulation.model import (
    Policy,
    PriceHistory,
    SimulationInput,
    SimulationReport,
)
from rebalancer.domain.simulation.policies import default_policies
from rebalancer.domain.simulation.replay import simulate
from rebalancer.domain.simulation.starting_point import common_days, rebase_lots
from rebalancer.domain.simulation.templates import template_portfolio
from rebalancer.domain.simulation_record import StoredSimulation
from rebalancer.service.context import Ports
from rebalancer.service.market import lot_book, read_market, read_user, trading_day

MAX_YEARS = 10
MAX_ASSETS = 50
MIN_DAYS = 20  # fewer closes than this measure nothing


@dataclass(frozen=True)
class SimulationRun:
    """A finished simulation and the id it is stored under (None when not stored)."""

    simulation_id: str | None
    report: SimulationReport


def simulate_for_user(
    uid: str,
    ports: Ports,
    *,
    years: int = 5,
    policies: tuple[Policy, ...] | None = None,
    monthly_flow_usd: Decimal = ZERO,
    tracking_penalty_bps: Decimal | None = None,
    template_value_usd: Decimal | None = None,
    save: bool = True,
) -> SimulationRun:
    """Replay the last `years` of daily closes under each policy, from the user's lots.

    With `template_value_usd`, the run starts from that much cash invested at the
    targets instead of the user's own holdings.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked: As a drift check.
        InvalidInput: Years out of range.
        PreconditionFailed: More than 50 symbols, or too little daily price history.
        BrokerError: The broker could not be read.
    """
    if not 1 <= years <= MAX_YEARS:
        raise InvalidInput("years", f"must be from 1 to {MAX_YEARS}")
    user = read_user(uid, ports)
    market = read_market(user.broker, user.targets)
    now = ports.clock.now()
    today = trading_day(now)
    symbols = sorted(
        {m for t in user.targets for m in t.members}
        | ({h.symbol for h in market.portfolio.holdings} if template_value_usd is None else set())
    )
    if len(symbols) > MAX_ASSETS:
        raise PreconditionFailed(
            f"{len(symbols)} symbols (targets, substitutes and holdings) to simulate; "
            f"at most {MAX_ASSETS}"
        )
    closes = user.broker.get_daily_closes(symbols, *history_span(today, years))
    missing = sorted(set(symbols) - set(closes))
    if missing:
        # Crypto pairs among them: the broker serves no daily bars for them yet.
        raise PreconditionFailed(f"no daily price history at the broker for {', '.join(missing)}")
    days = common_days(closes)
    if len(days) < MIN_DAYS:
        raise PreconditionFailed(
            f"only {len(days)} days of price history common to {', '.join(symbols)}"
        )
    wanted = set(days)
    history = PriceHistory(
        days,
        {s: tuple(close for day, close in closes[s] if day in wanted) for s in symbols},
    )
    first = {s: history.closes_usd[s][0] for s in symbols}
    if template_value_usd is not None:
        cash, lots = template_portfolio(
            tuple(user.targets), template_value_usd, first, days[0], user.settings.costs
        )
    else:
        book = lot_book(user.broker, market, user.settings, today)
        held = tuple(lot for h in market.portfolio.holdings for lot in book.of(h.symbol))
        lots = rebase_lots(held, today, market.prices_usd, days[0], first)
        cash = market.portfolio.cash_usd
    inp = SimulationInput(
        cash_usd=cash,
        lots=lots,
        targets=tuple(user.targets),
        history=history,
        policies=policies or default_policies(),
        settings=user.settings,
        monthly_flow_usd=monthly_flow_usd,
        assets=market.assets,
        critical_drift_percent=critical_points(user.settings),
    )
    if tracking_penalty_bps is not None:
        inp = replace(inp, tracking_penalty_bps=tracking_penalty_bps)
    report = simulate(inp)
    if not save:
        return SimulationRun(None, report)
    simulation_id = ports.plans.new_id()
    stored = StoredSimulation(
        report=report,
        created_at=now,
        years=years,
        first_day=days[0],
        last_day=days[-1],
        monthly_flow_usd=monthly_flow_usd,
        template_value_usd=template_value_usd,
    )
    ports.simulations.save_simulation(uid, simulation_id, stored)
    return SimulationRun(simulation_id, report)


def critical_points(settings: UserSettings) -> Decimal:
    """The user's critical drift in absolute points (the simulator measures points).

    A relative critical level has no single point value across targets: the default
    (10 points) stands in for it.
    """
    if settings.drift_method is DriftMethod.ABSOLUTE:
        return settings.critical_percent
    return DEFAULT_CRITICAL_PERCENT


def history_span(today: date, years: int) -> tuple[date, date]:
    """The first and last day of `years` of history ending yesterday."""
    return today - timedelta(days=round(365.25 * years)), today - timedelta(days=1)
