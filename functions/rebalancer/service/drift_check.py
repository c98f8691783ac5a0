"""Use case: measure a user's drift and, when a band is breached, rebalance to target."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer.domain.drift import DriftReport, measure_drift
from rebalancer.domain.errors import NoTargets, PreconditionFailed, TargetsNotSummingTo100
from rebalancer.domain.models import HUNDRED, AssetInfo, Holding, OrderResult, Portfolio, Target
from rebalancer.domain.planning import TradePlan, plan_to_target
from rebalancer.service import records
from rebalancer.service.context import Ports, in_parallel, open_broker
from rebalancer.service.ports import Broker
from rebalancer.service.trading import place_trades

SUM_TOLERANCE_PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class DriftCheckResult:
    """What a drift check measured, decided and did."""

    report: DriftReport
    plan: TradePlan | None
    orders: tuple[OrderResult, ...]
    dry_run: bool
    drift_log_id: str
    plan_id: str | None
    message: str


@dataclass(frozen=True)
class MarketView:
    """A portfolio with the broker facts needed to trade it."""

    portfolio: Portfolio
    assets: dict[str, AssetInfo]
    prices_usd: dict[str, Decimal]


def enabled_targets(targets: list[Target]) -> list[Target]:
    """The enabled targets, checked to exist and sum to 100.

    Raises:
        NoTargets: If no target is enabled.
        TargetsNotSummingTo100: If the enabled targets do not sum to 100 within 0.01.
    """
    enabled = [t for t in targets if t.enabled]
    if not enabled:
        raise NoTargets("no enabled targets; call set_targets first")
    total = sum((t.target_percent for t in enabled), Decimal(0))
    if abs(total - HUNDRED) > SUM_TOLERANCE_PERCENT:
        raise TargetsNotSummingTo100(f"enabled targets sum to {total}, not 100")
    return enabled


def read_market(broker: Broker, symbols: list[str]) -> MarketView:
    """Read account, positions and prices concurrently and value the portfolio."""
    account, positions, quotes = in_parallel(
        broker.get_account, broker.get_positions, lambda: broker.get_latest_prices(symbols)
    )
    held = {p.symbol for p in positions}
    assets = broker.get_assets(sorted(set(symbols) | held))
    prices = {**quotes, **{p.symbol: p.price_usd for p in positions}}
    holdings = tuple(Holding(p.symbol, p.qty, p.price_usd, p.market_value_usd) for p in positions)
    return MarketView(Portfolio(account.cash_usd, holdings), assets, prices)


def check_drift(uid: str, ports: Ports, *, dry_run: bool) -> DriftCheckResult:
    """Measure drift, rebalance when a band is breached (unless `dry_run`), and record it.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked: Before any broker call.
        BrokerError: When the broker cannot be read; nothing is written then.
    """
    targets, settings, broker = in_parallel(
        lambda: ports.store.get_targets(uid),
        lambda: ports.store.get_settings(uid),
        lambda: open_broker(uid, ports),
    )
    enabled = enabled_targets(targets)
    market = read_market(broker, [t.symbol for t in enabled])
    if market.portfolio.total_value_usd <= 0:
        raise PreconditionFailed("the account has no value to rebalance")
    report = measure_drift(market.portfolio, enabled, settings.drift)
    now = ports.clock.now()
    drift_log_id = ports.store.new_id()

    if not report.needs_rebalance or dry_run:
        message = _message(report, dry_run)
        ports.store.record_check(
            uid, drift_log_id, records.drift_log(report, now, dry_run, None), None, None
        )
        return DriftCheckResult(report, None, (), dry_run, drift_log_id, None, message)

    plan = plan_to_target(
        report,
        market.portfolio,
        market.assets,
        market.prices_usd,
        min_trade_usd=settings.min_trade_usd,
    )
    plan_id = ports.store.new_id()
    orders = place_trades(plan.trades, broker, ports.store, plan_id)
    ports.store.record_check(
        uid,
        drift_log_id,
        records.drift_log(report, now, dry_run, plan_id),
        plan_id,
        records.rebalance_history(plan, orders, now, drift_log_id),
    )
    return DriftCheckResult(
        report, plan, orders, dry_run, drift_log_id, plan_id, records.outcome(orders)
    )


def _message(report: DriftReport, dry_run: bool) -> str:
    if not report.needs_rebalance:
        return "Portfolio within thresholds"
    return "Dry run: rebalancing needed, no orders placed"
