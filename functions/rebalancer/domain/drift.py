"""Drift of a portfolio from its targets: per asset, absolute and relative, and aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rebalancer.domain.models import HUNDRED, ZERO, Portfolio, Target

DEFAULT_THRESHOLD_PERCENT = Decimal(5)
DEFAULT_CRITICAL_PERCENT = Decimal(10)


class DriftMethod(StrEnum):
    """Which drift the thresholds compare against."""

    ABSOLUTE = "absolute"
    RELATIVE = "relative"


@dataclass(frozen=True)
class DriftSettings:
    """Thresholds of a drift check; per-asset overrides live on the targets."""

    threshold_percent: Decimal = DEFAULT_THRESHOLD_PERCENT
    critical_percent: Decimal = DEFAULT_CRITICAL_PERCENT
    method: DriftMethod = DriftMethod.ABSOLUTE


@dataclass(frozen=True)
class AssetDrift:
    """One asset's drift; `drift_percent` is actual minus target in percent points."""

    symbol: str
    target_percent: Decimal
    actual_percent: Decimal
    drift_percent: Decimal
    relative_drift_percent: Decimal | None
    market_value_usd: Decimal
    target_value_usd: Decimal
    threshold_percent: Decimal
    breach: bool
    critical: bool

    @property
    def action(self) -> str:
        """`sell` when over the band, `buy` when under it, else `hold`."""
        if not self.breach:
            return "hold"
        return "sell" if self.drift_percent > 0 else "buy"


@dataclass(frozen=True)
class DriftReport:
    """The drift of every targeted or held asset, and the aggregates over them."""

    portfolio_value_usd: Decimal
    cash_usd: Decimal
    cash_percent: Decimal
    assets: tuple[AssetDrift, ...]
    max_drift_percent: Decimal
    mean_drift_percent: Decimal
    rmse_drift_percent: Decimal
    total_drift_percent: Decimal

    @property
    def needs_rebalance(self) -> bool:
        """True when any asset is outside its band."""
        return any(a.breach for a in self.assets)

    @property
    def critical(self) -> bool:
        """True when any asset is past the critical level."""
        return any(a.critical for a in self.assets)


def measure_drift(
    portfolio: Portfolio, targets: list[Target], settings: DriftSettings | None = None
) -> DriftReport:
    """Measure how far each asset sits from its target weight.

    Holdings without an enabled target count with target 0; holdings of a target's
    substitutes count toward that target; cash counts in the portfolio value, so
    uninvested cash shows as every target being underweight.

    Args:
        portfolio: Cash and holdings at current prices.
        targets: The user's targets; disabled ones count as target 0.
        settings: Threshold, critical level and drift method; defaults when None.

    Returns:
        A report with one row per symbol (targets first, in their order, then other
        holdings) and the aggregates max, mean and RMSE of the absolute drifts, and
        total drift (half the sum of absolute drifts, cash included, i.e. the one-way
        turnover needed).

    Raises:
        ValueError: If the portfolio value is not positive.
    """
    settings = settings or DriftSettings()
    total = portfolio.total_value_usd
    if total <= 0:
        raise ValueError("portfolio value must be positive to measure drift")
    enabled = {t.symbol: t for t in targets if t.enabled}
    grouped = {member for t in enabled.values() for member in t.members}
    symbols = list(enabled) + [h.symbol for h in portfolio.holdings if h.symbol not in grouped]
    rows = tuple(_asset_drift(s, enabled.get(s), portfolio, total, settings) for s in symbols)

    drifts = [abs(row.drift_percent) for row in rows]
    count = Decimal(len(drifts)) if drifts else Decimal(1)
    cash_percent = portfolio.cash_usd / total * HUNDRED
    return DriftReport(
        portfolio_value_usd=total,
        cash_usd=portfolio.cash_usd,
        cash_percent=cash_percent,
        assets=rows,
        max_drift_percent=max(drifts, default=ZERO),
        mean_drift_percent=sum(drifts, ZERO) / count,
        rmse_drift_percent=(sum((d * d for d in drifts), ZERO) / count).sqrt(),
        total_drift_percent=(sum(drifts, ZERO) + abs(cash_percent)) / 2,
    )


def _asset_drift(
    symbol: str,
    target: Target | None,
    portfolio: Portfolio,
    total: Decimal,
    settings: DriftSettings,
) -> AssetDrift:
    members = target.members if target else (symbol,)
    value = sum((h.market_value_usd for h in portfolio.holdings if h.symbol in members), ZERO)
    target_percent = target.target_percent if target else ZERO
    actual = value / total * HUNDRED
    drift = actual - target_percent
    relative = drift / target_percent * HUNDRED if target_percent else None
    threshold = (
        target.threshold_percent
        if target and target.threshold_percent is not None
        else settings.threshold_percent
    )
    measured = _measured(drift, relative, settings.method)
    return AssetDrift(
        symbol=symbol,
        target_percent=target_percent,
        actual_percent=actual,
        drift_percent=drift,
        relative_drift_percent=relative,
        market_value_usd=value,
        target_value_usd=total * target_percent / HUNDRED,
        threshold_percent=threshold,
        breach=measured > threshold,
        critical=measured > settings.critical_percent,
    )


def _measured(drift: Decimal, relative: Decimal | None, method: DriftMethod) -> Decimal:
    # A holding with no target has no relative drift; any amount of it is fully off target.
    if method is DriftMethod.RELATIVE:
        return abs(relative) if relative is not None else (HUNDRED if drift else ZERO)
    return abs(drift)


def band_percent(
    target_percent: Decimal, threshold_percent: Decimal, method: DriftMethod
) -> tuple[Decimal, Decimal]:
    """The weights (in percent) an asset may hold without breaching its threshold.

    Args:
        target_percent: The target weight (0 for holdings without a target).
        threshold_percent: The asset's threshold.
        method: Absolute bands are target +/- threshold points; relative bands are
            target times (1 +/- threshold / 100).

    Returns:
        The low and high edge, clipped to 0 and 100.
    """
    if method is DriftMethod.RELATIVE:
        spread = target_percent * threshold_percent / HUNDRED
    else:
        spread = threshold_percent
    return max(ZERO, target_percent - spread), min(HUNDRED, target_percent + spread)
