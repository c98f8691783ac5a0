"""A manual trade (`execute_trade`) as recorded in the user's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rebalancer.domain.models import OrderIntent, OrderResult


@dataclass(frozen=True)
class ManualTrade:
    """One `execute_trade` call: the order asked for and what became of it."""

    intent: OrderIntent
    result: OrderResult
    created_at: datetime
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RecordedTrade:
    """A manual trade read back: the order asked for and the orders recorded."""

    intent: OrderIntent
    orders: tuple[OrderResult, ...]

    @property
    def placed_order(self) -> OrderResult | None:
        """The order the broker accepted, if any."""
        return next((o for o in self.orders if o.order_id), None)
