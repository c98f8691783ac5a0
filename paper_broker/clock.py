"""The simulated clock: real time plus an offset, or a frozen instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from paper_broker.timeutil import parse_time, utc_now


class SimClock:
    """A settable clock; it starts at the real time and runs unless frozen."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        return self._frozen_at is not None

    def now(self) -> datetime:
        """Return the simulated instant (aware, UTC)."""
        if self._frozen_at is not None:
            return self._frozen_at
        return utc_now() + self._offset

    def set(self, now: datetime | None = None, frozen: bool | None = None) -> None:
        """Move the clock to ``now`` (default: where it is) and freeze or release it."""
        target = self.now() if now is None else now
        keep_frozen = self.frozen if frozen is None else frozen
        if keep_frozen:
            self._frozen_at = target
        else:
            self._frozen_at = None
            self._offset = target - utc_now()

    def reset(self) -> None:
        """Go back to the real time, running."""
        self._offset = timedelta(0)
        self._frozen_at = None

    def to_json(self) -> dict[str, Any]:
        """Return the clock as JSON; a running clock keeps its offset from real time."""
        return {
            "frozen": self.frozen,
            "now": self.now().isoformat(),
            "offset_seconds": self._offset.total_seconds(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimClock:
        """Rebuild a clock saved by ``to_json``."""
        clock = cls()
        if data.get("frozen"):
            clock._frozen_at = parse_time(str(data["now"]))
        else:
            clock._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
        return clock
