"""Use case: read and update a user's rebalancing preferences."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.settings import (
    UserSettings,
    settings_from_document,
    settings_to_document,
)
from rebalancer.service.context import Ports
from rebalancer.service.market import trading_day


def update_settings(uid: str, changes: Mapping[str, object], ports: Ports) -> UserSettings:
    """Merge validated fields into the user's settings and return the result.

    Raises:
        InvalidInput: If the merged settings contradict themselves (critical below threshold).
    """
    current = ports.users.get_settings(uid)
    goal = changes.get("goal")
    if isinstance(goal, Mapping) and not goal.get("start_date"):
        # The straight line a goal is measured against starts the day it is set.
        start = trading_day(ports.clock.now()).isoformat()
        changes = {**changes, "goal": {"start_value": None, **goal, "start_date": start}}
    merged = settings_from_document({**settings_to_document(current), **changes})
    if merged.critical_percent < merged.threshold_percent:
        field = "critical_percent" if "critical_percent" in changes else "threshold_percent"
        raise InvalidInput(
            field,
            f"critical_percent ({_plain(merged.critical_percent)}) must be at least "
            f"threshold_percent ({_plain(merged.threshold_percent)})",
        )
    if changes:
        ports.users.update_settings(uid, changes, ports.clock.now())
    return merged


def get_settings(uid: str, ports: Ports) -> UserSettings:
    """The user's preferences, defaults filled in."""
    return ports.users.get_settings(uid)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
