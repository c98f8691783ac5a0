"""Typed reads of control-request fields; a bad field is a 400 whose message names it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from paper_broker.errors import bad_control
from paper_broker.money import ZERO, to_decimal
from paper_broker.timeutil import parse_time


def decimal_field(
    body: Mapping[str, Any], name: str, *, positive: bool = False, label: str | None = None
) -> Decimal | None:
    """Return an optional decimal (number or string); non-negative, or > 0 if ``positive``."""
    raw = body.get(name)
    if raw is None:
        return None
    number = to_decimal(raw)
    where = label or name
    if number is None:
        raise bad_control(where, f"must be a decimal number, got {raw!r}")
    if number < ZERO or (positive and number == ZERO):
        raise bad_control(where, "must be > 0" if positive else "must not be negative")
    return number


def required_decimal(
    body: Mapping[str, Any], name: str, *, positive: bool = False, label: str | None = None
) -> Decimal:
    """Return a decimal field that must be present."""
    number = decimal_field(body, name, positive=positive, label=label)
    if number is None:
        raise bad_control(label or name, "is required")
    return number


def int_field(body: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """Return an optional integer within ``[low, high]``."""
    raw = body.get(name, default)
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise bad_control(name, f"must be an integer from {low} to {high}, got {raw!r}")
    return raw


def str_field(body: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    """Return an optional non-empty string."""
    raw = body.get(name, default)
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise bad_control(name, f"must be a non-empty string, got {raw!r}")
    return raw.strip()


def bool_field(body: Mapping[str, Any], name: str) -> bool | None:
    """Return an optional boolean."""
    raw = body.get(name)
    if raw is not None and not isinstance(raw, bool):
        raise bad_control(name, f"must be true or false, got {raw!r}")
    return raw


def time_field(body: Mapping[str, Any], name: str, label: str | None = None) -> datetime | None:
    """Return an optional RFC 3339 timestamp (or date, at midnight New York time)."""
    raw = body.get(name)
    if raw is None:
        return None
    moment = parse_time(raw) if isinstance(raw, str) else None
    if moment is None:
        raise bad_control(label or name, f"must be an RFC 3339 timestamp, got {raw!r}")
    return moment


def only_fields(body: Mapping[str, Any], allowed: tuple[str, ...], where: str = "body") -> None:
    """Refuse fields a control request does not know, so typos do not pass silently."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_control(unknown[0], f"unknown field in {where}; known: {', '.join(allowed)}")
