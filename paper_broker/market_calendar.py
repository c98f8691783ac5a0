"""NYSE trading days, holidays, early closes and regular session times.

Only the regular holiday rules are modelled (with their start years); one-off closures such
as days of mourning or storms are not.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from paper_broker.timeutil import ET

FIRST_YEAR = 1970
LAST_YEAR = 2029
OPEN = time(9, 30)
CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
SATURDAY, SUNDAY = 5, 6
MONDAY, THURSDAY = 0, 3
# The longest run of closed weekdays the rules can produce is short; this bounds searches.
_SEARCH_DAYS = 15


@dataclass(frozen=True)
class Session:
    """One regular trading session: its date and its open and close instants (aware)."""

    day: date
    open: datetime
    close: datetime

    @property
    def early_close(self) -> bool:
        """Whether the session closes at 13:00 New York time."""
        return self.close.astimezone(ET).time() == EARLY_CLOSE


def _easter(year: int) -> date:
    """Return Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    lam = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lam) // 451
    month = (h + lam - 7 * m + 114) // 31
    day = (h + lam - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """Return the nth (1-based; -1 for last) given weekday of a month."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Move a Saturday holiday to Friday and a Sunday holiday to Monday."""
    if day.weekday() == SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == SUNDAY:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def holidays(year: int) -> frozenset[date]:
    """Return the NYSE full-day holidays of a year under the regular rules."""
    days = {
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, MONDAY, 1),  # Labor Day
        _nth_weekday(year, 11, THURSDAY, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
        _easter(year) - timedelta(days=2),  # Good Friday
    }
    new_year = date(year, 1, 1)
    # A Saturday New Year's Day is not made up on the Friday: that is the year-end session.
    if new_year.weekday() != SATURDAY:
        days.add(_observed(new_year))
    if year >= 1998:
        days.add(_nth_weekday(year, 1, MONDAY, 3))  # Martin Luther King Jr. Day
    if year >= 1971:
        days.add(_nth_weekday(year, 2, MONDAY, 3))  # Washington's Birthday
        days.add(_nth_weekday(year, 5, MONDAY, -1))  # Memorial Day
    else:
        days.add(_observed(date(year, 2, 22)))
        days.add(_observed(date(year, 5, 30)))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    if year <= 1980 and year % 4 == 0:
        # Presidential election day: the Tuesday after the first Monday of November.
        days.add(_nth_weekday(year, 11, MONDAY, 1) + timedelta(days=1))
    return frozenset(days)


def is_trading_day(day: date) -> bool:
    """Whether the exchange holds a regular session on this date."""
    return day.weekday() < SATURDAY and day not in holidays(day.year)


def is_early_close(day: date) -> bool:
    """Whether a trading day closes at 13:00: July 3, Black Friday and Christmas Eve."""
    if not is_trading_day(day):
        return False
    black_friday = _nth_weekday(day.year, 11, THURSDAY, 4) + timedelta(days=1)
    return day in (date(day.year, 7, 3), black_friday, date(day.year, 12, 24))


def session(day: date) -> Session | None:
    """Return the session held on a date, or None when the market stays closed."""
    if not is_trading_day(day):
        return None
    close = EARLY_CLOSE if is_early_close(day) else CLOSE
    return Session(day, datetime.combine(day, OPEN, ET), datetime.combine(day, close, ET))


@lru_cache(maxsize=128)
def year_sessions(year: int) -> tuple[Session, ...]:
    """Return the sessions of a year, in order."""
    day, sessions = date(year, 1, 1), []
    while day.year == year:
        found = session(day)
        if found is not None:
            sessions.append(found)
        day += timedelta(days=1)
    return tuple(sessions)


def sessions_between(start: date, end: date) -> Iterator[Session]:
    """Yield the sessions from ``start`` to ``end`` inclusive, in order."""
    for year in range(start.year, end.year + 1):
        sessions = year_sessions(year)
        first = bisect.bisect_left(sessions, start, key=lambda s: s.day)
        for found in sessions[first:]:
            if found.day > end:
                return
            yield found


def _sessions_after(moment: datetime) -> Iterator[Session]:
    """Yield sessions from the one on the (New York) date of ``moment`` onwards."""
    day = moment.astimezone(ET).date()
    yield from sessions_between(day, day + timedelta(days=_SEARCH_DAYS))


def is_open(moment: datetime) -> bool:
    """Whether the regular session is under way at an instant."""
    today = session(moment.astimezone(ET).date())
    return today is not None and today.open <= moment < today.close


def next_open(moment: datetime) -> datetime:
    """Return the first session open strictly after an instant."""
    return next(s.open for s in _sessions_after(moment) if s.open > moment)


def next_close(moment: datetime) -> datetime:
    """Return the first session close strictly after an instant."""
    return next(s.close for s in _sessions_after(moment) if s.close > moment)


def open_at_or_after(moment: datetime) -> datetime:
    """Return the instant itself when the market is open then, else the next open."""
    return moment if is_open(moment) else next_open(moment)


def latest_session(moment: datetime) -> Session:
    """Return the session under way at an instant, or the last one before it."""
    day = moment.astimezone(ET).date()
    for back in range(_SEARCH_DAYS):
        found = session(day - timedelta(days=back))
        if found is not None and found.open <= moment:
            return found
    raise LookupError(f"no session in the {_SEARCH_DAYS} days before {moment}")


def previous_session(moment: datetime) -> Session:
    """Return the session before the one under way (or last held) at an instant."""
    return latest_session(latest_session(moment).open - timedelta(microseconds=1))


def calendar_json(start: date, end: date) -> list[dict[str, str]]:
    """Return Alpaca's ``/v2/calendar`` entries for the sessions in a date range."""
    start = max(start, date(FIRST_YEAR, 1, 1))
    end = min(end, date(LAST_YEAR, 12, 31))
    return [
        {
            "date": s.day.isoformat(),
            "open": s.open.astimezone(ET).strftime("%H:%M"),
            "close": s.close.astimezone(ET).strftime("%H:%M"),
            "session_open": "0400",
            "session_close": "2000",
        }
        for s in sessions_between(start, end)
    ]
