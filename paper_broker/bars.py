"""Bars built from the price history, bucketed over regular trading sessions.

Daily bars of the sessions before a symbol's recorded prices begin come from its
synthetic history (``history``); intraday bars always come from the recorded prices.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from paper_broker import errors, history
from paper_broker import market_calendar as mc
from paper_broker.history import BarValues, SyntheticHistory
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
    # The trading days of a daily bucket.
    days: tuple[date, ...] = ()


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


@lru_cache(maxsize=65536)
def _midnight(day: date) -> tuple[datetime, str]:
    """Return New York midnight of a date (in UTC) and its RFC 3339 text."""
    moment = datetime.combine(day, time(0), ET).astimezone(UTC)
    return moment, iso_seconds_z(moment)


def _day_bucket(group: list[mc.Session], start: datetime, last: datetime) -> Iterator[Bucket]:
    """Yield the bucket of a group of sessions, stamped at New York midnight of the first."""
    stamp = _midnight(group[0].day)[0]
    if start <= stamp <= last and group[0].open <= last:
        yield Bucket(stamp, group[0].open, group[-1].close, tuple(s.day for s in group))


def recorded_bar(
    state: BrokerState, symbol: str, start: datetime, end: datetime, now: datetime
) -> BarValues:
    """Return the OHLC of the prices set in ``[start, end)``, else flat at the last price."""
    points = state.prices_of(symbol)
    low = bisect.bisect_left(points, start, key=lambda p: p.at)
    high = min(
        bisect.bisect_left(points, end, key=lambda p: p.at),
        bisect.bisect_right(points, now, key=lambda p: p.at),
    )
    inside = [p.price for p in points[low:high]] or [points[max(low - 1, 0)].price]
    return (
        float(inside[0]),
        float(max(inside)),
        float(min(inside)),
        float(inside[-1]),
        _SHARES_PER_TRADE * len(inside),
        len(inside),
        round(float(sum(inside, Decimal(0)) / len(inside)), 4),
    )


def synthetic_history(state: BrokerState, symbol: str, now: datetime) -> SyntheticHistory:
    """Return the symbol's synthetic history before its recorded prices, as things stand."""
    points = state.prices_of(symbol)
    asset = state.assets[symbol]
    params = history.Params(
        seed=state.history_seed,
        symbol=symbol,
        kind=asset.kind,
        volatility=asset.volatility,
        drift=asset.drift,
        anchor_day=history.anchor(points[1].at if len(points) > 1 else None, now),
        anchor_price=points[0].price,
    )
    return history.history(params)


def _merge(parts: list[BarValues]) -> BarValues:
    """Return one bar spanning several, in time order."""
    volume = sum(p[4] for p in parts)
    vwap = sum(p[6] * p[4] for p in parts) / volume if volume else parts[-1][3]
    return (
        parts[0][0],
        max(p[1] for p in parts),
        min(p[2] for p in parts),
        parts[-1][3],
        volume,
        sum(p[5] for p in parts),
        round(vwap, 4),
    )


def bucket_bar(
    state: BrokerState,
    symbol: str,
    bucket: Bucket,
    now: datetime,
    past: SyntheticHistory | None,
) -> BarValues | None:
    """Return a bucket's bar: synthetic days before the anchor, recorded ones after it.

    None when the bucket lies wholly before the synthetic history begins.
    """
    if past is None or not bucket.days or bucket.days[0] >= past.anchor_day:
        return recorded_bar(state, symbol, bucket.start, bucket.end, now)
    if len(bucket.days) == 1:
        return past.bar(bucket.days[0])
    parts = [bar for day in bucket.days if (bar := past.bar(day)) is not None]
    recorded = [day for day in bucket.days if day >= past.anchor_day]
    if recorded:
        opened = mc.session(recorded[0])
        assert opened is not None
        parts.append(recorded_bar(state, symbol, opened.open, bucket.end, now))
    return _merge(parts) if parts else None


def bar_dict(bucket: Bucket, values: BarValues) -> dict[str, Any]:
    """Return a bar with Alpaca's short keys."""
    o, h, l, c, v, n, vw = values  # noqa: E741
    stamp = _midnight(bucket.days[0])[1] if bucket.days else iso_seconds_z(bucket.t)
    return {"t": stamp, "o": o, "h": h, "l": l, "c": c, "v": v, "n": n, "vw": vw}


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
        past = synthetic_history(state, symbol, now) if tf.unit == "Day" else None
        if past is not None and past.bars:
            # No bars before the synthetic history begins (sessions there have none).
            begin = max(begin, datetime.combine(past.first_day, time(0), ET))
        for bucket in buckets(tf, begin, end, now):
            if resume is not None and symbol == resume[0] and bucket.t < resume[1]:
                continue
            values = bucket_bar(state, symbol, bucket, now, past)
            if values is None:
                continue
            if count == limit:
                return page, encode_token(symbol, bucket.t)
            page.setdefault(symbol, []).append(bar_dict(bucket, values))
            count += 1
    return page, None
