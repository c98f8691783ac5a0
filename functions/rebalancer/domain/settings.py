"""A user's rebalancing preferences (`userSettings/{uid}`), with the documented defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rebalancer.domain.costs import CostModel
from rebalancer.domain.drift import DriftMethod, DriftSettings
from rebalancer.domain.tax import LotMethod, TaxSettings


class Strategy(StrEnum):
    """How a plan is built; `auto` means the user's configured strategy."""

    FULL = "full"
    THRESHOLD = "threshold"
    BAND = "band"
    CASH_FLOW = "cash_flow"
    TAX_AWARE = "tax_aware"
    AUTO = "auto"


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

    order_type: str = "market"
    limit_buffer_bps: Decimal = Decimal(10)
    fill_wait_s: float = 20.0
    poll_s: float = 0.5
    unfilled_orders: str = "cancel"
    max_attempts: int = 4


@dataclass(frozen=True)
class UserSettings:
    """The preferences the planner and the drift check use.

    Defaults: threshold 5, critical 10, absolute drift, `threshold` strategy, band trades
    to the edge, the default costs and taxes.
    """

    threshold_percent: Decimal = Decimal(5)
    critical_percent: Decimal = Decimal(10)
    drift_method: DriftMethod = DriftMethod.ABSOLUTE
    strategy: Strategy = Strategy.THRESHOLD
    band_target: BandTarget = BandTarget.EDGE
    costs: CostModel = field(default_factory=CostModel)
    tax: TaxSettings = field(default_factory=TaxSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)

    @property
    def min_trade_usd(self) -> Decimal:
        """Smallest trade worth placing."""
        return self.costs.min_trade_usd

    @property
    def drift(self) -> DriftSettings:
        """The drift-check part of the settings."""
        return DriftSettings(self.threshold_percent, self.critical_percent, self.drift_method)


def _decimal(value: object, default: Decimal) -> Decimal:
    """A stored number as a Decimal; anything unreadable (bools, NaN, text) is the default."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        parsed = Decimal(str(value))
    except ArithmeticError:
        return default
    return parsed if parsed.is_finite() else default


def _choice(value: object, kind: type[StrEnum], default: StrEnum) -> StrEnum:
    return kind(value) if value in {m.value for m in kind} else default


def settings_from_document(data: Mapping[str, object]) -> UserSettings:
    """Read `userSettings/{uid}`; missing or unreadable fields take their defaults."""
    d = UserSettings()
    limit = data.get("tax_limit_usd")
    strategy = _choice(data.get("strategy"), Strategy, d.strategy)
    return UserSettings(
        threshold_percent=_decimal(data.get("threshold_percent"), d.threshold_percent),
        critical_percent=_decimal(data.get("critical_percent"), d.critical_percent),
        drift_method=DriftMethod(_choice(data.get("drift_method"), DriftMethod, d.drift_method)),
        strategy=Strategy(strategy),
        band_target=BandTarget(_choice(data.get("band_target"), BandTarget, d.band_target)),
        costs=CostModel(
            commission_usd=_decimal(data.get("commission_usd"), d.costs.commission_usd),
            spread_bps=_decimal(data.get("spread_bps"), d.costs.spread_bps),
            min_trade_usd=_decimal(data.get("min_trade_usd"), d.costs.min_trade_usd),
            cash_buffer_bps=_decimal(data.get("cash_buffer_bps"), d.costs.cash_buffer_bps),
        ),
        tax=TaxSettings(
            short_term_rate=_decimal(data.get("short_term_tax_rate"), d.tax.short_term_rate),
            long_term_rate=_decimal(data.get("long_term_tax_rate"), d.tax.long_term_rate),
            lot_method=LotMethod(_choice(data.get("lot_method"), LotMethod, d.tax.lot_method)),
            avoid_short_term_gains=data.get("avoid_short_term_gains") is True,
            harvest_losses=data.get("harvest_losses") is True,
            harvest_threshold_percent=_decimal(
                data.get("harvest_threshold_percent"), d.tax.harvest_threshold_percent
            ),
            tax_limit_usd=None if limit is None else _decimal(limit, Decimal(0)),
        ),
        execution=ExecutionSettings(
            order_type="limit" if data.get("order_type") == "limit" else "market",
            limit_buffer_bps=_decimal(data.get("limit_buffer_bps"), d.execution.limit_buffer_bps),
            fill_wait_s=float(
                _decimal(data.get("fill_wait_seconds"), Decimal(str(d.execution.fill_wait_s)))
            ),
            unfilled_orders="keep" if data.get("unfilled_orders") == "keep" else "cancel",
        ),
    )


def settings_to_document(settings: UserSettings) -> dict[str, object]:
    """The settings as `userSettings/{uid}` stores them (numbers as numbers)."""
    tax = settings.tax
    return {
        "threshold_percent": float(settings.threshold_percent),
        "critical_percent": float(settings.critical_percent),
        "drift_method": settings.drift_method.value,
        "strategy": settings.strategy.value,
        "band_target": settings.band_target.value,
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
        "order_type": settings.execution.order_type,
        "limit_buffer_bps": float(settings.execution.limit_buffer_bps),
        "fill_wait_seconds": settings.execution.fill_wait_s,
        "unfilled_orders": settings.execution.unfilled_orders,
    }
