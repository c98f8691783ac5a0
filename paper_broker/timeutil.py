"""RFC 3339 parsing and formatting in UTC and America/New_York."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Python keeps microseconds; Alpaca and Go clients may send nanoseconds.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
_SPACED_OFFSET = re.compile(r"(:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$")


def utc_now() -> datetime:
    """Return the real time as an aware UTC datetime."""
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """Format an instant as RFC 3339 in UTC with microseconds and a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_z_opt(moment: datetime | None) -> str | None:
    """Format an optional instant, keeping None as JSON null."""
    return None if moment is None else iso_z(moment)


def iso_seconds_z(moment: datetime) -> str:
    """Format an instant as RFC 3339 in UTC to the second, as market data does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_et(moment: datetime) -> str:
    """Format an instant in America/New_York with its offset, as the Alpaca clock does."""
    return moment.astimezone(ET).isoformat()


def parse_time(text: str, date_zone: tzinfo = ET) -> datetime | None:
    """Parse RFC 3339 (or a bare date, at midnight in ``date_zone``); None when invalid.

    A ``+`` that a query string turned into a space is put back, and naive times are UTC.
    """
    text = text.strip()
    if _DATE_ONLY.match(text):
        day = parse_date(text)
        return None if day is None else datetime.combine(day, time(0), date_zone).astimezone(UTC)
    text = _LONG_FRACTION.sub(r"\1", _SPACED_OFFSET.sub(r"\1+\2", text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date(text: str) -> date | None:
    """Parse ``YYYY-MM-DD`` (the first ten characters of a timestamp also work)."""
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def activity_stamp(moment: datetime) -> str:
    """Return the ``YYYYMMDDHHMMSSmmm`` prefix of an activity id, in New York time."""
    local = moment.astimezone(ET)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"
