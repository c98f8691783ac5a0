"""Params and secrets, each declared once (firebase_functions raises on a second declaration).

Read `.value` only inside a function call, never at import: deploy-time discovery
imports this module without values.
"""

from __future__ import annotations

from firebase_functions.params import BoolParam, IntParam, SecretParam, StringParam

ALPACA_URL_OVERRIDE = StringParam(
    "ALPACA_URL_OVERRIDE",
    default="",
    description="Base URL that replaces Alpaca's trading and data hosts (local paper broker).",
)
BROKER_TIMEOUT_SECONDS = IntParam(
    "BROKER_TIMEOUT_SECONDS",
    default=10,
    description="HTTP timeout of every broker request, in seconds.",
)
NIGHTLY_TIMEZONE = StringParam(
    "NIGHTLY_TIMEZONE",
    default="America/New_York",
    description="Timezone of the nightly schedule (cron 0 2 * * *).",
)
NIGHTLY_MAX_CONCURRENT = IntParam(
    "NIGHTLY_MAX_CONCURRENT",
    default=100,
    description="rebalanceUser tasks dispatched at once (Cloud Tasks rate limit).",
)
ENFORCE_APP_CHECK = BoolParam(
    "ENFORCE_APP_CHECK",
    default=False,
    description="Refuse callable requests without a valid App Check token (unauthenticated).",
)
BROKER_CREDENTIALS_KEY = SecretParam(
    "BROKER_CREDENTIALS_KEY",
    description="Fernet key that encrypts linked broker credentials at rest.",
)
