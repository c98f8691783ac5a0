"""The nightly scheduled function: fan out one task per user whose rebalancing is on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from firebase_functions import scheduler_fn

from rebalancer.config import NIGHTLY_TIMEZONE
from rebalancer.wiring import ports

if TYPE_CHECKING:
    from rebalancer.service import nightly
else:  # imported by the first run (cold start: see entrypoints.lazy)
    from rebalancer.entrypoints.lazy import lazy

    nightly = lazy("rebalancer.service.nightly")

log = logging.getLogger("rebalancer")


@scheduler_fn.on_schedule(schedule="0 2 * * *", timezone=NIGHTLY_TIMEZONE, timeout_sec=1800)
def nightly_rebalance(event: scheduler_fn.ScheduledEvent) -> None:
    """Enqueue tonight's `rebalanceUser` tasks (task ids make a second run add nothing)."""
    wired = ports()
    # The night comes from the clock, not from the event (see nightly.night_of).
    night = nightly.night_of(wired.clock.now(), NIGHTLY_TIMEZONE.value)
    if nightly.night_of(event.schedule_time, NIGHTLY_TIMEZONE.value) != night:
        log.warning("scheduled for %s, run on the night of %s", event.schedule_time, night)
    result = nightly.fan_out(wired, night)
    log.info(
        "night %s: %s users, %s tasks enqueued, %s already queued, %.1f s",
        night,
        result.users,
        result.enqueued,
        result.already_queued,
        result.seconds,
    )
