"""Deployed entry points: the Firebase app and the decorated functions, nothing heavy.

Deploy-time discovery (10 s limit) and every cold start import this module, so it only
initialises the Admin SDK and imports the decorated functions; clients are made lazily.
"""

from firebase_admin import initialize_app
from firebase_functions.options import set_global_options

# A fractional CPU forces concurrency 1; one full CPU lets an instance serve many calls.
set_global_options(cpu=1, memory=512, max_instances=20)

# Callables verify the ID token before any @init hook runs, so the app must exist at import.
initialize_app()

from rebalancer.entrypoints.callables import (  # noqa: E402
    cancel_plan,
    check_rebalance_drift,
    execute_plan,
    execute_trade,
    get_plan,
    get_schedule,
    get_settings,
    get_status,
    get_targets,
    link_broker,
    propose_plan,
    set_targets,
    simulate_rebalancing,
    unlink_broker,
    update_settings,
)
from rebalancer.entrypoints.scheduled import nightly_rebalance  # noqa: E402
from rebalancer.entrypoints.tasks import executePlanTask, rebalanceUser  # noqa: E402

__all__ = [
    "cancel_plan",
    "check_rebalance_drift",
    "executePlanTask",
    "execute_plan",
    "execute_trade",
    "get_plan",
    "get_schedule",
    "get_settings",
    "get_status",
    "get_targets",
    "link_broker",
    "nightly_rebalance",
    "propose_plan",
    "rebalanceUser",
    "set_targets",
    "simulate_rebalancing",
    "unlink_broker",
    "update_settings",
]
