"""What a planner takes (a market snapshot with lots and settings) and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rebalancer.domain.drift import DriftReport, band_percent
from rebalancer.domain.errors import EmptyAccount, InvalidInput
from rebalancer.domain.models import HUNDRED, ZERO, AssetInfo, Portfolio, Side, Target
from rebalancer.domain.settings import Strategy, UserSettings
from rebalancer.domain.tax import LotBook, TaxSettings, net_tax


@dataclass(frozen=True)
class PlanningInput:
    """Everything a plan depends on; time and prices are arguments, never read."""

    portfolio: Portfolio
    targets: tuple[Target, ...]
    assets: Mapping[str, AssetInfo]
    prices_usd: Mapping[str, Decimal]
    lots: LotBook
    settings: UserSettings
    as_of: date
    cash_to_invest_usd: Decimal = ZERO
    cash_to_raise_usd: Decimal = ZERO

    def __post_init__(self) -> None:
        # A disabled target counts as no target: plan only with the enabled ones.
        object.__setattr__(self, "targets", tuple(t for t in self.targets if t.enabled))

    @property
    def cash_usd(self) -> Decimal:
        """Cash the plan may use: the account's plus the announced deposit."""
        return self.portfolio.cash_usd + self.cash_to_invest_usd

    @property
    def value_usd(self) -> Decimal:
        """Portfolio value with the deposit."""
        return self.portfolio.total_value_usd + self.cash_to_invest_usd

    @property
    def post_value_usd(self) -> Decimal:
        """Portfolio value after the withdrawal leaves: what post-trade weights measure."""
        return self.value_usd - self.cash_to_raise_usd

    @property
    def reserve_usd(self) -> Decimal:
        """Cash that must stay: the buffer plus the withdrawal."""
        return self.settings.costs.buffer_usd(self.post_value_usd) + self.cash_to_raise_usd

    @property
    def investable_usd(self) -> Decimal:
        """What the targets divide: the post-trade value less the buffer."""
        return self.post_value_usd - self.settings.costs.buffer_usd(self.post_value_usd)

    def check_plannable(self) -> None:
        """Refuse what no plan can answer, with a domain error rather than a crash.

        Raises:
            EmptyAccount: When the account (with the deposit) holds no value.
            InvalidInput: When the withdrawal is more than the account is worth (all of
                it is a legitimate withdrawal: the plan sells everything).
        """
        if self.value_usd <= 0:
            raise EmptyAccount()
        if self.cash_to_raise_usd > self.value_usd:
            raise InvalidInput(
                "cash_to_raise",
                f"${self.cash_to_raise_usd:.2f} is more than the account is worth "
                f"(${self.value_usd:.2f})",
            )

    def held_value_usd(self, symbol: str) -> Decimal:
        """Market value held of one symbol."""
        holding = self.portfolio.holding(symbol)
        return holding.market_value_usd if holding else ZERO

    def held_qty(self, symbol: str) -> Decimal:
        """Shares held of one symbol."""
        holding = self.portfolio.holding(symbol)
        return holding.qty if holding else ZERO

    def group_key(self, symbol: str) -> str:
        """The symbol a holding's drift row is under: its target's, or its own."""
        target = self.target_of(symbol)
        return target.symbol if target else symbol

    def group_value_usd(self, symbol: str) -> Decimal:
        """What the group of `symbol` (its target with substitutes, or itself) holds now."""
        target = self.target_of(symbol)
        members = target.members if target else (symbol,)
        return sum((self.held_value_usd(m) for m in members), ZERO)

    def can_buy(self, symbol: str) -> bool:
        """True when `symbol` is tradable, priced and not barred by a wash sale."""
        asset = self.assets.get(symbol)
        return (
            asset is not None
            and asset.tradable
            and symbol in self.prices_usd
            and not self.lots.sold_at_loss_within(symbol, self.as_of)
        )

    def target_of(self, symbol: str) -> Target | None:
        """The enabled target whose group `symbol` belongs to."""
        return next((t for t in self.targets if symbol in t.members), None)

    def band_usd(self, target: Target | None) -> tuple[Decimal, Decimal]:
        """The dollar values a target's group may hold after the plan, inside its band."""
        threshold = self.settings.threshold_percent
        if target is not None and target.threshold_percent is not None:
            threshold = target.threshold_percent
        percent = target.target_percent if target else ZERO
        low, high = band_percent(percent, threshold, self.settings.drift_method)
        return low * self.post_value_usd / HUNDRED, high * self.post_value_usd / HUNDRED

    def target_usd(self, target: Target) -> Decimal:
        """A target's dollar value after the plan (the buffer kept in cash)."""
        return target.target_percent * self.investable_usd / HUNDRED

    def symbols(self) -> list[str]:
        """Every symbol the plan may touch: targets with substitutes, then other holdings."""
        seen = [m for t in self.targets for m in t.members]
        return seen + [h.symbol for h in self.portfolio.holdings if h.symbol not in seen]


@dataclass(frozen=True)
class PlannedTrade:
    """One order of a plan, with its value, cost and (for sells) realized gains and tax."""

    symbol: str
    side: Side
    qty: Decimal
    price_usd: Decimal
    estimated_value_usd: Decimal
    estimated_cost_usd: Decimal
    short_term_gain_usd: Decimal
    long_term_gain_usd: Decimal
    estimated_tax_usd: Decimal
    drift_removed_percent: Decimal
    reason: str
    fractionable: bool = True
    crypto: bool = False
    drift_percent: Decimal = ZERO

    @property
    def tax_per_drift_point_usd(self) -> Decimal | None:
        """Estimated tax per percentage point of drift this trade removes."""
        if self.side is Side.BUY or self.drift_removed_percent <= 0:
            return None
        return self.estimated_tax_usd / self.drift_removed_percent


@dataclass(frozen=True)
class PlanNote:
    """Something the user should know: a dropped trade, a tax rule that bound, a band missed."""

    symbol: str
    kind: str
    message: str
    rule: str | None = None


@dataclass(frozen=True)
class Plan:
    """Trades in submission order (sells first), the drift before and after, and totals."""

    strategy: Strategy
    trades: tuple[PlannedTrade, ...]
    notes: tuple[PlanNote, ...]
    drift_before: DriftReport
    drift_after: DriftReport
    projected_cash_usd: Decimal
    tax_rates: TaxSettings  # what `estimated_tax_usd` nets the gains at
    tax_limit_exceeded: bool = False
    solver: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def total(self, attribute: str, side: Side | None = None) -> Decimal:
        """Sum one Decimal attribute over the trades (of one side, if given)."""
        return sum(
            (getattr(t, attribute) for t in self.trades if side is None or t.side is side), ZERO
        )

    @property
    def turnover_usd(self) -> Decimal:
        """Value bought plus value sold."""
        return self.total("estimated_value_usd")

    @property
    def estimated_tax_usd(self) -> Decimal:
        """Estimated tax of every sell, netted by character (negative when a loss is left)."""
        short, long = self.total("short_term_gain_usd"), self.total("long_term_gain_usd")
        return net_tax(short, long, self.tax_rates)
