"""Per-user abuse limits: a rolling window of attempts, decided without I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Admission:
    """Whether one more attempt is allowed, what to keep counting, and when to retry."""

    allowed: bool
    attempts: tuple[datetime, ...]
    retry_at: datetime | None = None


def admit(previous: Iterable[datetime], now: datetime, limit: int, window: timedelta) -> Admission:
    """Count an attempt at `now` unless `limit` were made in the `window` before it.

    Attempts older than the window are forgotten; a refused attempt is not counted, so
    the caller can retry at `retry_at`, when the oldest counted attempt leaves the window.
    """
    recent = sorted(t for t in previous if t > now - window)
    if len(recent) >= limit:
        return Admission(False, tuple(recent), recent[len(recent) - limit] + window)
    return Admission(True, (*recent, now))
