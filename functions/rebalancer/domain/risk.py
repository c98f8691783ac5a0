"""The admin kill-switch: whether an order may go to the broker right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class KillSwitch:
    """`systemStatus/risk_management` as read; a missing document means enabled."""

    trading_enabled: bool = True
    drawdown_recovery_mode: bool = False
    reason: str | None = None
    updated_by: str | None = None  # who flipped it last (the operator CLI records it)
    updated_at: datetime | None = None

    @property
    def allows_orders(self) -> bool:
        """True when orders may be placed."""
        return self.trading_enabled and not self.drawdown_recovery_mode

    @property
    def refusal(self) -> str | None:
        """Why orders are refused, or None when they are allowed."""
        if not self.trading_enabled:
            return _with_reason("trading disabled by the kill-switch", self.reason)
        if self.drawdown_recovery_mode:
            return _with_reason("drawdown recovery mode is on", self.reason)
        return None


UNREADABLE = "kill-switch could not be read; trading refused (fail closed)"


def _with_reason(what: str, reason: str | None) -> str:
    return f"{what}: {reason}" if reason else what
