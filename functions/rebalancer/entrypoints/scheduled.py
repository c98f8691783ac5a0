"""The nightly scheduled function: fan out one task per user whose rebalancing is on."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from firebase_functions import scheduler_fn

from rebalancer.bootstrap import ports
from rebalancer.config import NIGHTLY_TIMEZONE
from rebalancer.service import nightly

log = logging.getLogger("rebalancer")


@scheduler_fn.on_schedule(schedule="0 2 * * *", timezone=NIGHTLY_TIMEZONE, timeout_sec=1800)
def nightly_rebalance(event: scheduler_fn.ScheduledEvent) -> None:
    """Enqueue tonight's `rebalanceUser` tasks (task ids make a second run add nothing)."""
    night = event.schedule_time.astimezone(ZoneInfo(NIGHTLY_TIMEZONE.value)).date()
    result = nightly.fan_out(ports(), night)
    log.info(
        "night %s: %s users, %s tasks enqueued, %s already queued, %.1f s",
        night,
        result.users,
        result.enqueued,
        result.already_queued,
        result.seconds,
    )
