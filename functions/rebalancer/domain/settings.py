"""A user's rebalancing preferences (`userSettings/{uid}`), with the documented defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rebalancer.domain.allocation_rules import MIN_PERCENT, MIN_USD
from rebalancer.domain.costs import CostModel
from rebalancer.domain.drift import DriftMethod, DriftSettings
from rebalancer.domain.models import HUNDRED, ZERO, OrderType
from rebalancer.domain.progress import Goal
from rebalancer.domain.schedule import Frequency, ScheduleSettings, Trigger
from rebalancer.domain.tax import LotMethod, TaxSettings


class Strategy(StrEnum):
    """How a plan is built; `auto` means the user's configured strategy."""

    FULL = "full"
    THRESHOLD = "threshold"
    BAND = "band"
    CASH_FLOW = "cash_flow"
    TAX_AWARE = "tax_aware"
    AUTO = "auto"


class UnfilledOrders(StrEnum):
    """What happens to orders still open when a plan's fill window ends."""

    CANCEL = "cancel"
    KEEP = "keep"


class BandTarget(StrEnum):
    """Where the `band` strategy takes a drifted asset: the band's edge or its target."""

    EDGE = "edge"
    TARGET = "target"


@dataclass(frozen=True)
class ExecutionSettings:
    """How plans are executed.

    Defaults: market orders (limit orders at the latest price +/- 10 bp when chosen),
    wait up to 20 s for fills polling every 0.5 s, cancel what is still open at the end
    of the window, 4 attempts at a broker request that got a 429 or a 5xx.
    """

    order_type: OrderType = OrderType.MARKET
    limit_buffer_bps: Decimal = Decimal(10)
    fill_wait_s: float = 20.0
    poll_s: float = 0.5
    unfilled_orders: UnfilledOrders = UnfilledOrders.CANCEL
    max_attempts: int = 4


@dataclass(frozen=True)
class UserSettings:
    """The preferences the planner and the drift check use.

    Defaults: threshold 5, critical 10, absolute drift, `threshold` strategy, band trades
    to the edge, the default costs and taxes, and no band margin: `tax_aware` may stop
    on a band's edge (`band_margin_percent` is the share of the band's width it aims
    inside each edge instead).
    """

    threshold_percent: Decimal = Decimal(5)
    critical_percent: Decimal = Decimal(10)
    drift_method: DriftMethod = DriftMethod.ABSOLUTE
    strategy: Strategy = Strategy.THRESHOLD
    band_target: BandTarget = BandTarget.EDGE
    band_margin_percent: Decimal = ZERO
    costs: CostModel = field(default_factory=CostModel)
    tax: TaxSettings = field(default_factory=TaxSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    rebalancing_enabled: bool = False
    paused: bool = False
    auto_execute: bool = False
    goal: Goal | None = None
    last_auto_run_on: date | None = None

    @property
    def nightly(self) -> bool:
        """True when the nightly run should look at this user at all."""
        return self.rebalancing_enabled and not self.paused

    @property
    def min_trade_usd(self) -> Decimal:
        """Smallest trade worth placing."""
        return self.costs.min_trade_usd

    @property
    def drift(self) -> DriftSettings:
        """The drift-check part of the settings."""
        return DriftSettings(self.threshold_percent, self.critical_percent, self.drift_method)


MAX_USD = Decimal(1_000_000_000)

# The ranges `update_settings` accepts (rebalancer.api); a stored value outside its range
# (written before a floor existed, or by hand) is unreadable and takes the default.
SETTING_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "threshold_percent": (MIN_PERCENT, HUNDRED),
    "critical_percent": (MIN_PERCENT, HUNDRED),
    "harvest_threshold_percent": (MIN_PERCENT, HUNDRED),
    "min_trade_usd": (ZERO, Decimal(1_000_000)),
    "commission_usd": (ZERO, Decimal(100)),
    "cash_buffer_bps": (ZERO, Decimal(5_000)),
    "spread_bps": (ZERO, Decimal(500)),
    "short_term_tax_rate": (ZERO, Decimal(1)),
    "long_term_tax_rate": (ZERO, Decimal(1)),
    "tax_limit_usd": (ZERO, MAX_USD),
    "limit_buffer_bps": (ZERO, Decimal(1_000)),
    "band_margin_percent": (ZERO, Decimal(25)),
}


def stored_decimal(
    value: object, default: Decimal, low: Decimal | None = None, high: Decimal | None = None
) -> Decimal:
    """A stored number as a Decimal; unreadable (bool, NaN, text, outside [low, high]): default."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        parsed = Decimal(str(value))
    except ArithmeticError:
        return default
    if not parsed.is_finite():
        return default
    if (low is not None and parsed < low) or (high is not None and parsed > high):
        return default
    return parsed


def _setting(data: Mapping[str, object], name: str, default: Decimal) -> Decimal:
    return stored_decimal(data.get(name), default, *SETTING_RANGES[name])


def _choice(value: object, kind: type[StrEnum], default: StrEnum) -> StrEnum:
    return kind(value) if value in {m.value for m in kind} else default


def settings_from_document(data: Mapping[str, object]) -> UserSettings:
    """Read `userSettings/{uid}`; missing or unreadable fields take their defaults."""
    d = UserSettings()
    limit = data.get("tax_limit_usd")
    strategy = _choice(data.get("strategy"), Strategy, d.strategy)
    return UserSettings(
        threshold_percent=_setting(data, "threshold_percent", d.threshold_percent),
        critical_percent=_setting(data, "critical_percent", d.critical_percent),
        drift_method=DriftMethod(_choice(data.get("drift_method"), DriftMethod, d.drift_method)),
        strategy=Strategy(strategy),
        band_target=BandTarget(_choice(data.get("band_target"), BandTarget, d.band_target)),
        band_margin_percent=_setting(data, "band_margin_percent", d.band_margin_percent),
        costs=CostModel(
            commission_usd=_setting(data, "commission_usd", d.costs.commission_usd),
            spread_bps=_setting(data, "spread_bps", d.costs.spread_bps),
            min_trade_usd=_setting(data, "min_trade_usd", d.costs.min_trade_usd),
            cash_buffer_bps=_setting(data, "cash_buffer_bps", d.costs.cash_buffer_bps),
        ),
        tax=TaxSettings(
            short_term_rate=_setting(data, "short_term_tax_rate", d.tax.short_term_rate),
            long_term_rate=_setting(data, "long_term_tax_rate", d.tax.long_term_rate),
            lot_method=LotMethod(_choice(data.get("lot_method"), LotMethod, d.tax.lot_method)),
            avoid_short_term_gains=data.get("avoid_short_term_gains") is True,
            harvest_losses=data.get("harvest_losses") is True,
            harvest_threshold_percent=_setting(
                data, "harvest_threshold_percent", d.tax.harvest_threshold_percent
            ),
            tax_limit_usd=None if limit is None else _setting(data, "tax_limit_usd", Decimal(0)),
        ),
        execution=ExecutionSettings(
            order_type=OrderType(_choice(data.get("order_type"), OrderType, OrderType.MARKET)),
            limit_buffer_bps=_setting(data, "limit_buffer_bps", d.execution.limit_buffer_bps),
            fill_wait_s=float(
                stored_decimal(data.get("fill_wait_seconds"), Decimal(str(d.execution.fill_wait_s)))
            ),
            unfilled_orders=UnfilledOrders(
                _choice(data.get("unfilled_orders"), UnfilledOrders, UnfilledOrders.CANCEL)
            ),
        ),
        schedule=ScheduleSettings(
            trigger=Trigger(_choice(data.get("trigger"), Trigger, d.schedule.trigger)),
            frequency=Frequency(
                _choice(data.get("calendar_frequency"), Frequency, d.schedule.frequency)
            ),
            weekday=_int(data.get("calendar_weekday"), d.schedule.weekday, 0, 6),
            day=_int(data.get("calendar_day"), d.schedule.day, 1, 31),
            month=_int(data.get("calendar_month"), d.schedule.month, 1, 12),
            cooldown_days=_int(data.get("cooldown_days"), d.schedule.cooldown_days, 0, 365),
        ),
        rebalancing_enabled=data.get("rebalancing_enabled") is True,
        paused=data.get("paused") is True,
        auto_execute=data.get("auto_execute") is True,
        goal=_goal(data.get("goal")),
        last_auto_run_on=_date(data.get("last_auto_run_on")),
    )


def _int(value: object, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    number = int(value)
    return number if low <= number <= high and number == value else default


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _goal(value: object) -> Goal | None:
    """A stored goal; an unreadable one counts as none.

    Unreadable: no real target date, or a target amount outside [0.01, 1e9] (a goal of
    1e-20 dollars was once accepted). A contribution or start value outside 0 or
    [0.01, 1e9] counts as unset.
    """
    if not isinstance(value, Mapping):
        return None
    target_date = _date(value.get("target_date"))
    amount = stored_decimal(value.get("target_amount"), ZERO, MIN_USD, MAX_USD)
    if target_date is None or amount < MIN_USD:
        return None
    monthly = _goal_usd(value.get("monthly_contribution"))
    start_value = _goal_usd(value.get("start_value"))
    return Goal(
        name=str(value.get("name") or "Goal"),
        target_amount_usd=amount,
        target_date=target_date,
        priority=str(value.get("priority") or "medium"),
        monthly_contribution_usd=monthly,
        start_date=_date(value.get("start_date")),
        start_value_usd=start_value,
    )


def _goal_usd(value: object) -> Decimal | None:
    """A goal's optional dollar amount: 0 or in [0.01, 1e9], else unset."""
    if value is None:
        return None
    amount = stored_decimal(value, Decimal(-1), ZERO, MAX_USD)
    return amount if amount == 0 or amount >= MIN_USD else None


def goal_document(goal: Goal | None) -> dict[str, object] | None:
    """A goal as `userSettings/{uid}.goal` stores it."""
    if goal is None:
        return None
    return {
        "name": goal.name,
        "target_amount": float(goal.target_amount_usd),
        "target_date": goal.target_date.isoformat(),
        "priority": goal.priority,
        "monthly_contribution": None
        if goal.monthly_contribution_usd is None
        else float(goal.monthly_contribution_usd),
        "start_date": None if goal.start_date is None else goal.start_date.isoformat(),
        "start_value": None if goal.start_value_usd is None else float(goal.start_value_usd),
    }


def settings_to_document(settings: UserSettings) -> dict[str, object]:
    """The settings as `userSettings/{uid}` stores them (numbers as numbers)."""
    tax = settings.tax
    return {
        "threshold_percent": float(settings.threshold_percent),
        "critical_percent": float(settings.critical_percent),
        "drift_method": settings.drift_method.value,
        "strategy": settings.strategy.value,
        "band_target": settings.band_target.value,
        "band_margin_percent": float(settings.band_margin_percent),
        "min_trade_usd": float(settings.costs.min_trade_usd),
        "cash_buffer_bps": float(settings.costs.cash_buffer_bps),
        "commission_usd": float(settings.costs.commission_usd),
        "spread_bps": float(settings.costs.spread_bps),
        "lot_method": tax.lot_method.value,
        "avoid_short_term_gains": tax.avoid_short_term_gains,
        "harvest_losses": tax.harvest_losses,
        "harvest_threshold_percent": float(tax.harvest_threshold_percent),
        "short_term_tax_rate": float(tax.short_term_rate),
        "long_term_tax_rate": float(tax.long_term_rate),
        "tax_limit_usd": None if tax.tax_limit_usd is None else float(tax.tax_limit_usd),
        "order_type": settings.execution.order_type.value,
        "limit_buffer_bps": float(settings.execution.limit_buffer_bps),
        "fill_wait_seconds": settings.execution.fill_wait_s,
        "unfilled_orders": settings.execution.unfilled_orders.value,
        "rebalancing_enabled": settings.rebalancing_enabled,
        "paused": settings.paused,
        "auto_execute": settings.auto_execute,
        "trigger": settings.schedule.trigger.value,
        "calendar_frequency": settings.schedule.frequency.value,
        "calendar_weekday": settings.schedule.weekday,
        "calendar_day": settings.schedule.day,
        "calendar_month": settings.schedule.month,
        "cooldown_days": settings.schedule.cooldown_days,
        "goal": goal_document(settings.goal),
    }
