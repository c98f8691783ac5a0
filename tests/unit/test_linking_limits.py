"""Abuse limits: link_broker attempts per user and hour; App Check enforcement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import pytest
from firebase_functions.https_fn import FunctionsErrorCode, HttpsError

from fakes import (
    FixedClock,
    InMemoryBroker,
    InMemoryConnector,
    InMemoryStore,
    InMemoryTaskQueue,
    PlainVault,
)
from rebalancer.domain.errors import InvalidInput, TooManyAttempts
from rebalancer.domain.limits import admit
from rebalancer.entrypoints.error_mapping import answer
from rebalancer.service.context import Ports
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials

pytestmark = pytest.mark.unit

UID = "linker-1"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GOOD = BrokerCredentials("key", "secret")
BAD = BrokerCredentials("stolen", "guess")


class CountingConnector(InMemoryConnector):
    """Counts every broker client handed out (each link attempt makes one)."""

    connects: int = 0

    def connect(self, credentials: BrokerCredentials) -> InMemoryBroker:
        self.connects += 1
        return super().connect(credentials)


def make() -> tuple[Ports, InMemoryStore, CountingConnector, FixedClock]:
    connector = CountingConnector({"key": InMemoryBroker(D(1000), {"SPY": D(500)})})
    store, clock = InMemoryStore(), FixedClock(T0)
    return (
        Ports.over(store, connector, PlainVault(), clock, InMemoryTaskQueue()),
        store,
        connector,
        clock,
    )


def test_the_sixth_attempt_in_an_hour_is_refused_without_a_broker_call() -> None:
    ports, store, connector, clock = make()
    for minute, credentials in enumerate([BAD, BAD, GOOD, BAD, GOOD]):
        clock.at = T0 + timedelta(minutes=10 * minute)
        if credentials is BAD:
            with pytest.raises(InvalidInput):
                link_broker(UID, credentials, ports)
        else:
            link_broker(UID, credentials, ports)
    assert connector.connects == 5
    clock.at = T0 + timedelta(minutes=45)
    with pytest.raises(TooManyAttempts) as refused:
        link_broker(UID, GOOD, ports)
    assert refused.value.code == "resource-exhausted"
    assert refused.value.message == (
        "too many link_broker attempts: at most 5 per hour; "
        "retry after 2026-11-20T16:00:00Z (in 900 s)"
    )
    assert connector.connects == 5  # the broker was not asked
    # Refusals are not counted: the retry time does not move.
    clock.at = T0 + timedelta(minutes=59, seconds=59)
    with pytest.raises(TooManyAttempts, match=r"retry after 2026-11-20T16:00:00Z \(in 1 s\)"):
        link_broker(UID, BAD, ports)
    assert connector.connects == 5


def test_attempts_leave_the_window_after_an_hour() -> None:
    ports, store, connector, clock = make()
    for minute in range(0, 50, 10):
        clock.at = T0 + timedelta(minutes=minute)
        link_broker(UID, GOOD, ports)
    clock.at = T0 + timedelta(minutes=50)
    with pytest.raises(TooManyAttempts, match=r"retry after 2026-11-20T16:00:00Z \(in 600 s\)"):
        link_broker(UID, GOOD, ports)
    clock.at = T0 + timedelta(hours=1)  # the first attempt leaves the window
    assert link_broker(UID, GOOD, ports).account_number == "PA0000000001"
    with pytest.raises(TooManyAttempts, match=r"retry after 2026-11-20T16:10:00Z \(in 600 s\)"):
        link_broker(UID, GOOD, ports)
    assert connector.connects == 6
    kept = store.limits[(UID, "link_broker")]
    assert kept == tuple(T0 + timedelta(minutes=m) for m in (10, 20, 30, 40, 60))


def test_the_limit_is_per_user() -> None:
    ports, store, connector, clock = make()
    for _ in range(5):
        with pytest.raises(InvalidInput):
            link_broker(UID, BAD, ports)
    with pytest.raises(TooManyAttempts):
        link_broker(UID, GOOD, ports)
    assert link_broker("linker-2", GOOD, ports).status == "ACTIVE"


def test_admit_keeps_only_the_window_and_says_when_to_retry() -> None:
    hour = timedelta(hours=1)
    old = [T0 - timedelta(minutes=m) for m in (90, 61, 60)]
    fresh = [T0 - timedelta(minutes=m) for m in (50, 40, 5)]
    allowed = admit(old + fresh, T0, 5, hour)
    assert allowed.allowed and allowed.attempts == (*sorted(fresh), T0)
    assert allowed.retry_at is None
    refused = admit([*fresh, T0 - timedelta(minutes=30), T0 - timedelta(minutes=20)], T0, 5, hour)
    assert not refused.allowed and refused.retry_at == T0 + timedelta(minutes=10)


# App Check, in the one callable wrapper


def request(*, uid: str | None = "u-1", app: Any = None) -> Any:
    auth = None if uid is None else SimpleNamespace(uid=uid)
    return SimpleNamespace(auth=auth, app=app, data={"x": 1})


def handler(uid: str, data: Any) -> dict[str, Any]:
    return {"uid": uid, "data": data}


def test_app_check_is_not_enforced_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENFORCE_APP_CHECK", raising=False)
    assert answer(request(), handler) == {"uid": "u-1", "data": {"x": 1}}
    monkeypatch.setenv("ENFORCE_APP_CHECK", "false")
    assert answer(request(), handler)["uid"] == "u-1"


def test_app_check_enforced_refuses_a_request_without_a_verified_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENFORCE_APP_CHECK", "true")
    with pytest.raises(HttpsError) as refused:
        answer(request(), handler)
    assert refused.value.code is FunctionsErrorCode.UNAUTHENTICATED
    assert refused.value.message == "App Check token missing or invalid"
    verified = SimpleNamespace(app_id="1:123:web:abc", token={"sub": "1:123:web:abc"})
    assert answer(request(app=verified), handler)["uid"] == "u-1"
    # Sign-in is still checked first, with its own message.
    with pytest.raises(HttpsError) as unsigned:
        answer(request(uid=None, app=verified), handler)
    assert unsigned.value.message == "sign in to call this function"
