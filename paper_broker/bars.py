"""Bars built from the price history, bucketed over regular trading sessions."""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from paper_broker import errors
from paper_broker import market_calendar as mc
from paper_broker.state import BrokerState
from paper_broker.timeutil import ET, iso_seconds_z

_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D)$")
_UNITS = {"Min": "Min", "T": "Min", "Hour": "Hour", "H": "Hour", "Day": "Day", "D": "Day"}
_MAX_AMOUNT = {"Min": 59, "Hour": 23, "Day": 366}
# Volume is invented: 100 shares per price point in the bucket.
_SHARES_PER_TRADE = 100


@dataclass(frozen=True)
class Timeframe:
    """A bar width: an amount of minutes, hours or trading days."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Parse ``1Min``, ``15Min``, ``1Hour``, ``1Day`` and the like, or 422."""
        match = _TIMEFRAME.match(text)
        unit = _UNITS[match.group(2)] if match else ""
        amount = int(match.group(1)) if match else 0
        if not unit or not 1 <= amount <= _MAX_AMOUNT[unit]:
            raise errors.invalid(f"invalid timeframe {text!r}: use e.g. 1Min, 15Min, 1Hour, 1Day")
        return cls(amount, unit)


@dataclass(frozen=True)
class Bucket:
    """A bar's timestamp and the span of trading time its prices come from."""

    t: datetime
    start: datetime
    end: datetime


def buckets(tf: Timeframe, start: datetime, end: datetime, now: datetime) -> Iterator[Bucket]:
    """Yield, in time order, the buckets whose timestamp lies in ``[start, min(end, now)]``."""
    last = min(end, now)
    sessions = mc.sessions_between(start.astimezone(ET).date(), last.astimezone(ET).date())
    if tf.unit == "Day":
        group: list[mc.Session] = []
        for session in sessions:
            group.append(session)
            if len(group) == tf.amount:
                yield from _day_bucket(group, start, last)
                group = []
        if group:
            yield from _day_bucket(group, start, last)
        return
    step = timedelta(minutes=tf.amount * (60 if tf.unit == "Hour" else 1))
    for session in sessions:
        midnight = datetime.combine(session.day, time(0), ET)
        moment = midnight + step * ((session.open - midnight) // step)
        while moment < session.close:
            if moment > last:
                return
            if moment >= start:
                yield Bucket(moment, max(moment, session.open), min(moment + step, session.close))
            moment += step


def _day_bucket(group: list[mc.Session], start: datetime, last: datetime) -> Iterator[Bucket]:
    """Yield the bucket of a group of sessions, stamped at New York midnight of the first."""
    stamp = datetime.combine(group[0].day, time(0), ET)
    if start <= stamp <= last and group[0].open <= last:
        yield Bucket(stamp, group[0].open, group[-1].close)


def bar_json(state: BrokerState, symbol: str, bucket: Bucket, now: datetime) -> dict[str, Any]:
    """Return a bar: OHLC of the prices set inside the bucket, else flat at the last price."""
    points = state.prices_of(symbol)
    low = bisect.bisect_left(points, bucket.start, key=lambda p: p.at)
    high = min(
        bisect.bisect_left(points, bucket.end, key=lambda p: p.at),
        bisect.bisect_right(points, now, key=lambda p: p.at),
    )
    inside = [p.price for p in points[low:high]] or [points[max(low - 1, 0)].price]
    return {
        "t": iso_seconds_z(bucket.t),
        "o": float(inside[0]),
        "h": float(max(inside)),
        "l": float(min(inside)),
        "c": float(inside[-1]),
        "v": _SHARES_PER_TRADE * len(inside),
        "n": len(inside),
        "vw": round(float(sum(inside, Decimal(0)) / len(inside)), 4),
    }


def encode_token(symbol: str, moment: datetime) -> str:
    """Return an opaque page token pointing at a symbol's bar."""
    return base64.urlsafe_b64encode(f"{symbol}|{moment.isoformat()}".encode()).decode()


def decode_token(token: str) -> tuple[str, datetime]:
    """Read a page token back, or 422."""
    try:
        symbol, stamp = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return symbol, datetime.fromisoformat(stamp)
    except ValueError:
        raise errors.invalid("invalid page_token") from None


def bars_page(
    state: BrokerState,
    symbols: list[str],
    query: tuple[Timeframe, datetime, datetime, int, str | None],
    now: datetime,
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Return up to ``limit`` bars across symbols (in order) and the next page token."""
    tf, start, end, limit, token = query
    resume = decode_token(token) if token else None
    page: dict[str, list[dict[str, Any]]] = {}
    count = 0
    for symbol in symbols:
        if resume is not None and symbol < resume[0]:
            continue
        begin = start
        # Only multi-day buckets depend on start; the others can resume right at the token.
        if resume is not None and symbol == resume[0] and (tf.unit != "Day" or tf.amount == 1):
            begin = max(start, resume[1])
        for bucket in buckets(tf, begin, end, now):
            if resume is not None and symbol == resume[0] and bucket.t < resume[1]:
                continue
            if count == limit:
                return page, encode_token(symbol, bucket.t)
            page.setdefault(symbol, []).append(bar_json(state, symbol, bucket, now))
            count += 1
    return page, None
