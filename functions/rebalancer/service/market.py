"""Reading what a check or a plan needs: the user's data, then the broker's, concurrently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from rebalancer.domain.errors import EmptyAccount, NoTargets, TargetsNotSummingTo100
from rebalancer.domain.models import HUNDRED, ZERO, AssetInfo, Holding, Portfolio, Target
from rebalancer.domain.plan import PlanningInput
from rebalancer.domain.progress import GoalProgress, goal_progress
from rebalancer.domain.settings import UserSettings
from rebalancer.domain.tax import LotBook, reconcile, replay_fills
from rebalancer.service.context import Ports, in_parallel, linked_broker
from rebalancer.service.ports import Broker, BrokerPosition

SUM_TOLERANCE_PERCENT = Decimal("0.01")
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class UserView:
    """The user's targets and settings, and a client for their broker account."""

    targets: list[Target]
    settings: UserSettings
    broker: Broker
    paper: bool = True  # what the link says the account is


@dataclass(frozen=True)
class MarketView:
    """A portfolio at current prices with the broker facts needed to trade it."""

    portfolio: Portfolio
    positions: list[BrokerPosition]
    assets: dict[str, AssetInfo]
    prices_usd: dict[str, Decimal]
    account_number: str = ""


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


def read_user(uid: str, ports: Ports) -> UserView:
    """Targets (enabled, summing to 100), settings and broker, read concurrently.

    Raises:
        NoBrokerLinked, NoTargets, TargetsNotSummingTo100: Before any broker call.
    """
    targets, settings, (broker, link) = in_parallel(
        lambda: ports.users.get_targets(uid),
        lambda: ports.users.get_settings(uid),
        lambda: linked_broker(uid, ports),
    )
    return UserView(enabled_targets(targets), settings, broker, link.paper)


def read_market(broker: Broker, targets: list[Target]) -> MarketView:
    """Account, positions and latest prices concurrently, then asset facts (cached)."""
    symbols = [m for t in targets for m in t.members]
    account, positions, quotes = in_parallel(
        broker.get_account, broker.get_positions, lambda: broker.get_latest_prices(symbols)
    )
    held = {p.symbol for p in positions}
    assets = broker.get_assets(sorted(set(symbols) | held))
    prices = {**quotes, **{p.symbol: p.price_usd for p in positions}}
    holdings = tuple(Holding(p.symbol, p.qty, p.price_usd, p.market_value_usd) for p in positions)
    portfolio = Portfolio(account.cash_usd, holdings)
    return MarketView(portfolio, positions, assets, prices, account.account_number)


def trading_day(now: datetime) -> date:
    """The date in New York, where the market (and the broker's books) keep time."""
    return now.astimezone(NEW_YORK).date()


def require_value(portfolio: Portfolio, deposit_usd: Decimal = ZERO) -> None:
    """Refuse an account with nothing to rebalance: no cash, no positions, no deposit.

    Raises:
        EmptyAccount: When the account (with the announced deposit) is worth 0.
    """
    if portfolio.total_value_usd + deposit_usd <= 0:
        raise EmptyAccount("the account has no value to rebalance")


def goal_status(settings: UserSettings, value_usd: Decimal, now: datetime) -> GoalProgress | None:
    """The goal's progress as every reader reports it (schedule, drift check, nightly).

    Measured on the New York date of `now`, against the portfolio's value now, so the
    three answers agree at any moment.
    """
    goal = settings.goal
    return goal_progress(goal, value_usd, trading_day(now)) if goal else None


def lot_book(broker: Broker, market: MarketView, settings: UserSettings, today: date) -> LotBook:
    """Tax lots replayed from the broker's fills, reconciled with the positions it reports.

    Shares the fills do not explain get the position's remaining basis (the broker's
    total cost basis less the replayed lots' basis), not its average cost.
    """
    method = settings.tax.lot_method
    book = replay_fills(broker.get_fills(), method, today)
    for position in market.positions:
        book = reconcile(
            book, position.symbol, position.qty, position.cost_basis_usd, today, method
        )
    return book


def planning_input(
    user: UserView,
    market: MarketView,
    today: date,
    cash_to_invest_usd: Decimal = ZERO,
    cash_to_raise_usd: Decimal = ZERO,
) -> PlanningInput:
    """Everything a planner needs, lots included (one more broker read: the fills)."""
    return PlanningInput(
        portfolio=market.portfolio,
        targets=tuple(user.targets),
        assets=market.assets,
        prices_usd=market.prices_usd,
        lots=lot_book(user.broker, market, user.settings, today),
        settings=user.settings,
        as_of=today,
        cash_to_invest_usd=cash_to_invest_usd,
        cash_to_raise_usd=cash_to_raise_usd,
    )
