"""Shared fixtures for tests that need the Firebase emulators (integration and e2e).

They fail, never skip, when the stack is missing: run them through scripts/test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from devstack.broker import PaperBroker
from devstack.firebase import PROJECT, Stack, StackMissing


def require_stack() -> Stack:
    """The running emulators, or a loud failure that says how to start them."""
    try:
        stack = Stack.discover()
    except StackMissing as missing:
        pytest.fail(f"Firebase emulators missing: {missing}. Run scripts/test.", pytrace=False)
    if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        pytest.fail("FIRESTORE_EMULATOR_HOST is not set; run scripts/test.", pytrace=False)
    return stack


CALLABLES = [
    "link_broker",
    "unlink_broker",
    "set_targets",
    "get_targets",
    "check_rebalance_drift",
    "execute_trade",
    "propose_plan",
    "update_settings",
    "get_settings",
    "execute_plan",
    "cancel_plan",
    "get_plan",
    "get_schedule",
]
# Everything the e2e tests call; an import error in main.py loads none of them.
FUNCTIONS = {*CALLABLES, "executePlanTask", "rebalanceUser"}


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The emulators, with every function loaded."""
    found = require_stack()
    try:
        found.wait_for_functions(FUNCTIONS)
    except StackMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    return found


@pytest.fixture(scope="session")
def db() -> Any:
    """A Firestore client on the emulator (anonymous credentials), for assertions."""
    require_stack()
    from google.cloud.firestore import Client

    return Client(project=PROJECT)


SIM_ENV = "REBALANCER_SIM_START"


@pytest.fixture(scope="session")
def sim_start() -> datetime | None:
    """The simulated instant the stack runs at (`REBALANCER_SIM_START`), or None for now.

    `scripts/test` runs the date-sensitive tests once more at each date of its matrix.
    """
    text = os.environ.get(SIM_ENV)
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        pytest.fail(f"{SIM_ENV} needs a UTC offset: {text}", pytrace=False)
    return moment


@pytest.fixture(scope="session")
def paper() -> Iterator[PaperBroker]:
    """The paper broker on the port functions/.env.local names."""
    try:
        broker = PaperBroker.start()
    except RuntimeError as error:
        pytest.fail(f"{error} (is another scripts/dev running?)", pytrace=False)
    broker.open_market()
    yield broker
    broker.stop()


@pytest.fixture
def kill_switch(db: Any) -> Iterator[Any]:
    """The kill-switch document; removed again (trading enabled) after the test."""
    ref = db.collection("systemStatus").document("risk_management")
    ref.delete()
    yield ref
    ref.delete()
