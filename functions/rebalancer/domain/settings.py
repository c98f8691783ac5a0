"""A user's rebalancing preferences (`userSettings/{uid}`), declared once.

`PREFERENCES` is the one declaration: `update_settings`' request schema (rebalancer.api),
the document mapping below and the README's preferences table (devstack.settings_table)
are all derived from it. The defaults are the dataclasses' own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

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


class GoalPriority(StrEnum):
    """How much a goal matters to its owner (reported, not acted on)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


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
_DEFAULTS = UserSettings()


class Kind(StrEnum):
    """What a preference holds, as a JSON request and the stored document carry it."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    GOAL = "goal"


@dataclass(frozen=True)
class Preference:
    """One user preference: its name, what it accepts, and where `UserSettings` keeps it.

    A number is accepted in [low, high], or as 0 too when `zero_allowed` (0 then means
    none: a floor keeps 1e-25 out). The request field and the document field are the same
    name unless `stored_as` says otherwise. The default is the dataclasses' own.
    """

    name: str
    kind: Kind
    attribute: tuple[str, ...]
    description: str
    low: Decimal | None = None
    high: Decimal | None = None
    zero_allowed: bool = False
    choices: tuple[StrEnum, ...] = ()
    nullable: bool = False
    as_float: bool = False
    stored_as: str = ""

    @property
    def document_field(self) -> str:
        """The field of `userSettings/{uid}` that holds this preference."""
        return self.stored_as or self.name

    @property
    def default(self) -> object:
        """The value a user who never set this preference has."""
        value: object = _DEFAULTS
        for part in self.attribute:
            value = getattr(value, part)
        return value

    def accepts(self, value: Decimal) -> bool:
        """True when a number (or integer) is within this preference's range.

        Args:
            value: A finite number.

        Returns:
            Whether `update_settings` takes it (and a stored one is read).
        """
        if self.zero_allowed and value == 0:
            return True
        too_low = self.low is not None and value < self.low
        return not (too_low or (self.high is not None and value > self.high))

    def read(self, value: object) -> object:
        """A stored value as `UserSettings` holds it; unreadable or out of range: the default.

        Args:
            value: The document field's value (None when absent).

        Returns:
            The domain value (Decimal, float, int, bool, enum member, Goal or None).
        """
        default = self.default
        if self.kind is Kind.BOOLEAN:
            return value if isinstance(value, bool) else default
        if self.kind is Kind.CHOICE:
            # Only the choices `update_settings` offers: a stored "auto" strategy is not one.
            chosen = [c for c in self.choices if isinstance(value, str) and c.value == value]
            return chosen[0] if chosen else default
        if self.kind is Kind.GOAL:
            return _goal(value)
        if self.kind is Kind.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return default
            whole = value == int(value) if math.isfinite(value) else False
            return int(value) if whole and self.accepts(Decimal(int(value))) else default
        number = stored_decimal(value, Decimal("NaN"))
        if not number.is_finite() or not self.accepts(number):
            return default
        return float(number) if self.as_float else number

    def write(self, value: object) -> object:
        """A `UserSettings` value as the document (and `get_settings`) carries it.

        Args:
            value: What `UserSettings` holds at `attribute`.

        Returns:
            A JSON value: numbers as numbers, choices as their strings, a goal as a map.
        """
        if self.kind is Kind.GOAL:
            return goal_document(value if isinstance(value, Goal) else None)
        if isinstance(value, StrEnum):
            return value.value
        if self.kind is Kind.NUMBER and isinstance(value, Decimal | float):
            return float(value)
        return value


def _number(
    name: str,
    attribute: tuple[str, ...],
    low: Decimal,
    high: Decimal,
    description: str,
    **options: Any,
) -> Preference:
    return Preference(name, Kind.NUMBER, attribute, description, low, high, **options)


def _integer(
    name: str, attribute: tuple[str, ...], low: int, high: int, description: str
) -> Preference:
    return Preference(name, Kind.INTEGER, attribute, description, Decimal(low), Decimal(high))


def _boolean(name: str, attribute: tuple[str, ...], description: str) -> Preference:
    return Preference(name, Kind.BOOLEAN, attribute, description)


def _choice(
    name: str, attribute: tuple[str, ...], choices: tuple[StrEnum, ...], description: str
) -> Preference:
    return Preference(name, Kind.CHOICE, attribute, description, choices=choices)


# The preferences of `update_settings` and `get_settings`, in the order they are listed.
PREFERENCES: tuple[Preference, ...] = (
    _number(
        "threshold_percent",
        ("threshold_percent",),
        MIN_PERCENT,
        HUNDRED,
        "drift that takes an asset out of its band (a target may set its own)",
    ),
    _number(
        "critical_percent",
        ("critical_percent",),
        MIN_PERCENT,
        HUNDRED,
        "drift that makes a breach critical; at least `threshold_percent`",
    ),
    _choice(
        "drift_method",
        ("drift_method",),
        tuple(DriftMethod),
        "`absolute`: in points of the portfolio; `relative`: in % of the asset's target",
    ),
    _choice(
        "strategy",
        ("strategy",),
        tuple(s for s in Strategy if s is not Strategy.AUTO),
        "what `propose_plan` and the nightly run plan with (the strategies above)",
    ),
    _choice(
        "band_target",
        ("band_target",),
        tuple(BandTarget),
        "where `band` takes a drifted asset: the band's edge or its target",
    ),
    _number(
        "band_margin_percent",
        ("band_margin_percent",),
        MIN_PERCENT,
        Decimal(25),
        "share of a band's width `tax_aware` aims inside each edge (0: the edge, the least tax)",
        zero_allowed=True,
    ),
    _number(
        "min_trade_usd",
        ("costs", "min_trade_usd"),
        MIN_USD,
        Decimal(1_000_000),
        "smallest trade worth placing",
        zero_allowed=True,
    ),
    _number(
        "cash_buffer_bps",
        ("costs", "cash_buffer_bps"),
        ZERO,
        Decimal(5_000),
        "cash kept uninvested, in basis points of the portfolio value",
    ),
    _number(
        "commission_usd",
        ("costs", "commission_usd"),
        MIN_USD,
        Decimal(100),
        "commission per order",
        zero_allowed=True,
    ),
    _number(
        "spread_bps",
        ("costs", "spread_bps"),
        ZERO,
        Decimal(500),
        "spread and slippage a trade is expected to cost, in basis points",
    ),
    _choice(
        "lot_method",
        ("tax", "lot_method"),
        tuple(LotMethod),
        "how the broker relieves lots (set the same at Alpaca)",
    ),
    _boolean(
        "avoid_short_term_gains",
        ("tax", "avoid_short_term_gains"),
        "never realize a short-term gain",
    ),
    _boolean(
        "harvest_losses",
        ("tax", "harvest_losses"),
        "`tax_aware` counts a loss past `harvest_threshold_percent` as a reason to sell",
    ),
    _number(
        "harvest_threshold_percent",
        ("tax", "harvest_threshold_percent"),
        MIN_PERCENT,
        HUNDRED,
        "a lot's loss, as % of its cost, worth harvesting",
    ),
    _number(
        "short_term_tax_rate",
        ("tax", "short_term_rate"),
        ZERO,
        Decimal(1),
        "tax rate on gains held one year or less",
    ),
    _number(
        "long_term_tax_rate",
        ("tax", "long_term_rate"),
        ZERO,
        Decimal(1),
        "tax rate on gains held longer",
    ),
    _number(
        "tax_limit_usd",
        ("tax", "tax_limit_usd"),
        MIN_USD,
        MAX_USD,
        "a plan whose estimated tax exceeds it is flagged; `null` removes it",
        zero_allowed=True,
        nullable=True,
    ),
    _choice(
        "order_type",
        ("execution", "order_type"),
        tuple(OrderType),
        "`limit`: at the latest price plus or minus `limit_buffer_bps`",
    ),
    _number(
        "limit_buffer_bps",
        ("execution", "limit_buffer_bps"),
        ZERO,
        Decimal(1_000),
        "how far past the latest price a limit order reaches, in basis points",
    ),
    _number(
        "fill_wait_seconds",
        ("execution", "fill_wait_s"),
        ZERO,
        Decimal(300),
        "how long a plan's run waits for its orders to fill",
        as_float=True,
    ),
    _choice(
        "unfilled_orders",
        ("execution", "unfilled_orders"),
        tuple(UnfilledOrders),
        "what happens to orders still open when the wait ends",
    ),
    _boolean(
        "rebalancing_enabled",
        ("rebalancing_enabled",),
        "the nightly run looks at this account",
    ),
    _boolean("paused", ("paused",), "the nightly run skips this account for now"),
    _boolean(
        "auto_execute",
        ("auto_execute",),
        "the nightly run executes its plan (else the plan stays `proposed`, with an alert)",
    ),
    _choice(
        "trigger",
        ("schedule", "trigger"),
        tuple(Trigger),
        "what makes a nightly run due (see Triggers)",
    ),
    _choice(
        "calendar_frequency",
        ("schedule", "frequency"),
        tuple(Frequency),
        "how often a calendar trigger fires",
    ),
    _integer(
        "calendar_weekday", ("schedule", "weekday"), 0, 6, "day of a weekly calendar (0: Monday)"
    ),
    _integer(
        "calendar_day",
        ("schedule", "day"),
        1,
        31,
        "day of the month (the last day when the month is shorter)",
    ),
    _integer("calendar_month", ("schedule", "month"), 1, 12, "month of an annual calendar"),
    _integer(
        "cooldown_days",
        ("schedule", "cooldown_days"),
        0,
        365,
        "days after an automatic run before the next one",
    ),
    Preference(
        "goal",
        Kind.GOAL,
        ("goal",),
        "a savings goal `get_schedule` and the drift checks measure progress against",
        nullable=True,
    ),
)

# The fields of a goal `update_settings` accepts (`?`: optional); start_date is set by it.
GOAL_FIELDS = (
    "name",
    "target_amount",
    "target_date",
    "priority?",
    "monthly_contribution?",
    "start_value?",
)

# The number ranges, by preference: a stored value outside its range (written before a
# floor existed, or by hand) is unreadable and takes the default.
SETTING_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    p.name: (ZERO if p.zero_allowed else p.low, p.high)
    for p in PREFERENCES
    if p.kind is Kind.NUMBER and p.low is not None and p.high is not None
}


def stored_decimal(
    value: object, default: Decimal, low: Decimal | None = None, high: Decimal | None = None
) -> Decimal:
    """A stored number as a Decimal; unreadable (bool, NaN, text, outside [low, high]): default.

    Args:
        value: What the document holds.
        default: The answer when it is unreadable.
        low: The smallest readable value, if any.
        high: The largest readable value, if any.

    Returns:
        The number, or `default`.
    """
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


def settings_from_document(data: Mapping[str, object]) -> UserSettings:
    """Read `userSettings/{uid}`; missing or unreadable fields take their defaults.

    Args:
        data: The document (empty when there is none).

    Returns:
        The settings, every preference read through its declaration.
    """
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {}
    for preference in PREFERENCES:
        value = preference.read(data.get(preference.document_field))
        if len(preference.attribute) == 1:
            top[preference.attribute[0]] = value
        else:
            group, name = preference.attribute
            parts.setdefault(group, {})[name] = value
    for group, values in parts.items():
        top[group] = replace(getattr(_DEFAULTS, group), **values)
    # Written by the nightly run, not a preference: kept, never returned.
    top["last_auto_run_on"] = _date(data.get("last_auto_run_on"))
    return UserSettings(**top)


def settings_to_document(settings: UserSettings) -> dict[str, object]:
    """The settings as `userSettings/{uid}` stores them (numbers as numbers).

    Args:
        settings: A user's settings.

    Returns:
        Every preference under its document field; `get_settings` answers with it too.
    """
    document: dict[str, object] = {}
    for preference in PREFERENCES:
        value: object = settings
        for part in preference.attribute:
            value = getattr(value, part)
        document[preference.document_field] = preference.write(value)
    return document


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _goal(value: object) -> Goal | None:
    """A stored goal; an unreadable one counts as none.

    Unreadable: no real target date, or a target amount outside [0.01, 1e9] (a goal of
    1e-20 dollars was once accepted). A contribution or start value outside 0 or
    [0.01, 1e9] counts as unset; a priority outside low, medium, high as medium.
    """
    if not isinstance(value, Mapping):
        return None
    target_date = _date(value.get("target_date"))
    amount = stored_decimal(value.get("target_amount"), ZERO, MIN_USD, MAX_USD)
    if target_date is None or amount < MIN_USD:
        return None
    stored = value.get("priority")
    priorities = [p for p in GoalPriority if p.value == stored]
    return Goal(
        name=str(value.get("name") or "Goal"),
        target_amount_usd=amount,
        target_date=target_date,
        priority=priorities[0] if priorities else GoalPriority.MEDIUM,
        monthly_contribution_usd=_goal_usd(value.get("monthly_contribution")),
        start_date=_date(value.get("start_date")),
        start_value_usd=_goal_usd(value.get("start_value")),
    )


def _goal_usd(value: object) -> Decimal | None:
    """A goal's optional dollar amount: 0 or in [0.01, 1e9], else unset."""
    if value is None:
        return None
    amount = stored_decimal(value, Decimal(-1), ZERO, MAX_USD)
    return amount if amount == 0 or amount >= MIN_USD else None


def goal_document(goal: Goal | None) -> dict[str, object] | None:
    """A goal as `userSettings/{uid}.goal` stores it.

    Args:
        goal: The goal, or None.

    Returns:
        The map stored (dates as ISO strings, amounts as numbers), or None.
    """
    if goal is None:
        return None
    return {
        "name": goal.name,
        "target_amount": float(goal.target_amount_usd),
        "target_date": goal.target_date.isoformat(),
        "priority": str(goal.priority),
        "monthly_contribution": None
        if goal.monthly_contribution_usd is None
        else float(goal.monthly_contribution_usd),
        "start_date": None if goal.start_date is None else goal.start_date.isoformat(),
        "start_value": None if goal.start_value_usd is None else float(goal.start_value_usd),
    }
