"""Task-queue functions: plans run at the market open (and, later, nightly per-user runs)."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from firebase_functions import https_fn, tasks_fn
from firebase_functions.options import RateLimits, RetryConfig

from rebalancer.config import BROKER_CREDENTIALS_KEY, NIGHTLY_MAX_CONCURRENT, NIGHTLY_TIMEZONE
from rebalancer.domain.errors import (
    BrokerRateLimited,
    BrokerUnavailable,
    ConcurrentExecution,
    RebalancerError,
)
from rebalancer.entrypoints.timeouts import TASK_TIMEOUT_S
from rebalancer.wiring import ports

if TYPE_CHECKING:
    from rebalancer import api
    from rebalancer.service import nightly, stored_plans
else:  # imported by the first task that needs them (cold start: see entrypoints.lazy)
    from rebalancer.entrypoints.lazy import lazy

    api = lazy("rebalancer.api")
    nightly = lazy("rebalancer.service.nightly")
    stored_plans = lazy("rebalancer.service.stored_plans")

log = logging.getLogger("rebalancer")


def retry(error: RebalancerError) -> https_fn.HttpsError:
    """A transient failure as its own status (409, 429 or 503), not INTERNAL.

    Cloud Tasks retries any non-2xx answer; the status says why in the logs.
    """
    return https_fn.HttpsError(https_fn.FunctionsErrorCode(error.code), error.message)


@tasks_fn.on_task_dispatched(
    retry_config=RetryConfig(max_attempts=5, min_backoff_seconds=30, max_backoff_seconds=600),
    rate_limits=RateLimits(max_concurrent_dispatches=50, max_dispatches_per_second=20),
    secrets=[BROKER_CREDENTIALS_KEY],
    timeout_sec=TASK_TIMEOUT_S,
    invoker="private",  # only the queue's service account may call it in production
)
def executePlanTask(req: https_fn.CallableRequest[Any]) -> None:  # noqa: N802
    # Task-queue function names become Cloud Tasks queue ids, which allow no underscore.
    """Run a queued plan or resume a cut-off one; nothing else (see stored_plans.run_plan_task)."""
    task = api.parse(api.PlanTask, req.data)
    try:
        result = stored_plans.run_plan_task(task.uid, task.plan_id, ports())
    except (ConcurrentExecution, BrokerUnavailable, BrokerRateLimited) as error:
        raise retry(error) from None  # transient: Cloud Tasks retries with backoff
    except RebalancerError as error:
        # Permanent (no such plan, no broker linked...): retrying would not help.
        log.warning("plan %s of %s not run: %s", task.plan_id, task.uid, error.code)
        return
    if result is None:
        log.warning(
            "task for plan %s of %s: not queued or executing; ignored", task.plan_id, task.uid
        )
        return
    log.info("plan %s of %s: %s", task.plan_id, task.uid, result.status.value)


@tasks_fn.on_task_dispatched(
    retry_config=RetryConfig(max_attempts=3, min_backoff_seconds=60, max_backoff_seconds=900),
    rate_limits=RateLimits(
        max_concurrent_dispatches=NIGHTLY_MAX_CONCURRENT, max_dispatches_per_second=100
    ),
    secrets=[BROKER_CREDENTIALS_KEY],
    timeout_sec=TASK_TIMEOUT_S,
    invoker="private",
)
def rebalanceUser(req: https_fn.CallableRequest[Any]) -> None:  # noqa: N802
    """One user's night: drift log, trigger decision, plan or alert (see service.nightly)."""
    task = api.parse(api.NightTask, req.data)
    try:
        night = date.fromisoformat(task.night)
        result = nightly.rebalance_user(task.uid, night, ports(), NIGHTLY_TIMEZONE.value)
    except (ConcurrentExecution, BrokerUnavailable, BrokerRateLimited) as error:
        raise retry(error) from None  # transient: Cloud Tasks retries this user only
    except RebalancerError as error:
        log.warning("night of %s not run: %s", task.uid, error.code)
        return
    log.info(
        "night of %s: %s", task.uid, result.decision.reason if result.decision else result.skipped
    )
