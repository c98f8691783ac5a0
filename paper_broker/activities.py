"""Listing FILL account activities with Alpaca's filters and ``page_token`` paging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from paper_broker import errors
from paper_broker.state import Account, Activity
from paper_broker.timeutil import ET, parse_date, parse_time
from paper_broker.views import activity_json

MAX_PAGE_SIZE = 100


def _wanted_types(query: Mapping[str, str], path_type: str | None) -> set[str] | None:
    """Return the activity types asked for, or None for all of them."""
    if path_type is not None:
        return {path_type.strip().upper()}
    if query.get("activity_types"):
        return {t.strip().upper() for t in query["activity_types"].split(",") if t.strip()}
    return None


def _page_size(query: Mapping[str, str]) -> int:
    """Return the page size asked for (default and maximum 100)."""
    try:
        size = int(query.get("page_size", str(MAX_PAGE_SIZE)))
    except ValueError:
        raise errors.invalid("page_size must be an integer") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise errors.invalid(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    return size


def _time(query: Mapping[str, str], name: str) -> datetime | None:
    """Return an optional timestamp parameter, or 422 when it does not parse."""
    if not query.get(name):
        return None
    moment = parse_time(query[name])
    if moment is None:
        raise errors.invalid(f"invalid {name} {query[name]!r}: must be RFC 3339 or a date")
    return moment


def _window(query: Mapping[str, str]) -> Callable[[Activity], bool]:
    """Return a test for the ``after``, ``until`` (exclusive) and ``date`` (New York) filters."""
    after, until = _time(query, "after"), _time(query, "until")
    day = None
    if query.get("date"):
        day = parse_date(query["date"])
        if day is None:
            raise errors.invalid(f"invalid date {query['date']!r}: must be YYYY-MM-DD")

    def inside(activity: Activity) -> bool:
        moment = activity.transaction_time
        return (
            (after is None or moment > after)
            and (until is None or moment < until)
            and (day is None or moment.astimezone(ET).date() == day)
        )

    return inside


def list_activities(
    account: Account, query: Mapping[str, str], path_type: str | None = None
) -> list[dict[str, Any]]:
    """Return one page of an account's activities as JSON."""
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise errors.invalid("direction must be asc or desc")
    size = _page_size(query)
    types = _wanted_types(query, path_type)
    if types is not None and "FILL" not in types:
        return []
    inside = _window(query)
    items = sorted(
        filter(inside, account.activities),
        key=lambda a: (a.transaction_time, a.seq),
        reverse=direction == "desc",
    )
    token = query.get("page_token")
    if token:
        index = next((i for i, a in enumerate(items) if a.id == token), None)
        if index is None:
            raise errors.invalid("page_token names no activity of this query")
        items = items[index + 1 :]
    return [activity_json(a) for a in items[:size]]
