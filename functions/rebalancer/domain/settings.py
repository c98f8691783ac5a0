"""A user's rebalancing preferences, with the documented defaults."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rebalancer.domain.drift import DriftMethod, DriftSettings
from rebalancer.domain.planning import DEFAULT_MIN_TRADE_USD


@dataclass(frozen=True)
class UserSettings:
    """`userSettings/{uid}` as the services use it."""

    threshold_percent: Decimal = Decimal(5)
    critical_percent: Decimal = Decimal(10)
    drift_method: DriftMethod = DriftMethod.ABSOLUTE
    min_trade_usd: Decimal = DEFAULT_MIN_TRADE_USD

    @property
    def drift(self) -> DriftSettings:
        """The drift-check part of the settings."""
        return DriftSettings(self.threshold_percent, self.critical_percent, self.drift_method)
