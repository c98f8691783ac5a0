"""The nightly fan-out and each user's night, on in-memory adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from rebalancer.domain.errors import BrokerUnavailable
from rebalancer.domain.schedule import Frequency, ScheduleSettings, Trigger
from rebalancer.domain.settings import UserSettings
from rebalancer.service.nightly import (
    USER_TASK,
    fan_out,
    night_of,
    rebalance_user,
    task_id,
    trading_night,
)

from .test_services import UID, make

pytestmark = pytest.mark.unit

NIGHT = date(2026, 11, 20)  # a Friday (the in-memory clock's day)
TZ = "America/New_York"


def two_am(ports: object, day: date) -> None:
    """Put the in-memory clock at 02:00 in New York on `day` (07:00 UTC in winter)."""
    ports.clock.at = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)  # type: ignore[attr-defined]


def nightly_user(**settings: object) -> tuple:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    store.settings[UID] = replace(UserSettings(), rebalancing_enabled=True, **settings)
    return ports, store, broker


def test_fan_out_enqueues_one_task_per_enabled_user_and_a_second_run_nothing() -> None:
    ports, store, _ = nightly_user()
    for n in range(7):
        store.settings[f"on-{n}"] = replace(UserSettings(), rebalancing_enabled=True)
    store.settings["off"] = UserSettings()
    store.settings["paused"] = replace(UserSettings(), rebalancing_enabled=True, paused=True)
    first = fan_out(ports, NIGHT, page_size=3, workers=4)
    assert (first.users, first.enqueued, first.already_queued) == (8, 8, 0)
    second = fan_out(ports, NIGHT, page_size=3, workers=4)
    assert (second.enqueued, second.already_queued) == (0, 8)
    functions = {task[0] for task in ports.tasks.tasks.values()}
    assert functions == {USER_TASK}
    uids = {task[1]["uid"] for task in ports.tasks.tasks.values()}
    assert "off" not in uids and "paused" not in uids
    assert task_id(UID, NIGHT) in ports.tasks.tasks and len(task_id(UID, NIGHT)) <= 500


def test_a_breach_proposes_a_plan_and_writes_an_alert_when_auto_execute_is_off() -> None:
    ports, store, broker = nightly_user()
    result = rebalance_user(UID, NIGHT, ports, TZ)
    assert result.decision and result.decision.reason == "Drift trigger"
    assert result.plan_status == "proposed" and result.alert and broker.orders == []
    assert store.history[UID][result.plan_id]["reason"] == "Drift trigger"
    alert = store.documents[f"users/{UID}/driftAlerts/20261120"]
    assert alert["plan_id"] == result.plan_id and "awaits your review" in alert["message"]
    log = store.documents[f"users/{UID}/driftLogs/nightly-20261120"]
    assert log["trigger"] == "nightly" and log["decision"]["due"] is True
    assert store.settings[UID].last_auto_run_on == NIGHT


def test_auto_execute_queues_the_plan_for_the_open() -> None:
    ports, store, broker = nightly_user(auto_execute=True)
    broker.market_open = False  # 2 AM
    result = rebalance_user(UID, NIGHT, ports, TZ)
    assert result.plan_status == "queued" and not result.alert and broker.orders == []
    assert len(ports.tasks.tasks) == 1


def test_a_task_delivered_twice_writes_one_log_and_one_plan() -> None:
    ports, store, broker = nightly_user()
    first = rebalance_user(UID, NIGHT, ports, TZ)
    second = rebalance_user(UID, NIGHT, ports, TZ)
    logs = [p for p in store.documents if "/driftLogs/" in p]
    assert logs == [f"users/{UID}/driftLogs/nightly-20261120"]
    assert list(store.history[UID]) == [first.plan_id]
    assert second.decision and second.decision.reason == "already ran today"


def test_a_calendar_user_runs_on_its_day_and_the_weekend_belongs_to_monday() -> None:
    monday = ScheduleSettings(Trigger.CALENDAR, Frequency.WEEKLY, weekday=0)
    ports, store, _ = nightly_user(schedule=monday)
    saturday = date(2026, 11, 21)
    two_am(ports, saturday)
    result = rebalance_user(UID, saturday, ports, TZ)
    assert result.decision and result.decision.reason == "Weekly reset"
    assert store.settings[UID].last_auto_run_on == date(2026, 11, 23)
    two_am(ports, date(2026, 11, 23))
    again = rebalance_user(UID, date(2026, 11, 23), ports, TZ)  # Monday's own night
    assert again.decision and not again.decision.due


def test_users_with_rebalancing_off_are_not_touched() -> None:
    ports, store, broker = make("1000", SPY="100")
    result = rebalance_user(UID, NIGHT, ports, TZ)
    assert result.skipped == "rebalancing is off" and UID not in store.history
    assert store.documents == {} and broker.orders == []


def test_a_failing_user_fails_alone() -> None:
    ports, store, broker = nightly_user()
    broker.fail_next.append(BrokerUnavailable("broker error 500", status=500))
    with pytest.raises(BrokerUnavailable):
        rebalance_user(UID, NIGHT, ports, TZ)
    assert store.documents == {}  # nothing half-written; the task is retried
    assert rebalance_user(UID, NIGHT, ports, TZ).plan_id


def test_a_task_delivered_after_its_night_writes_nothing() -> None:
    ports, store, broker = nightly_user()
    two_am(ports, date(2026, 11, 30))  # the real date the two-logs failure was seen
    result = rebalance_user(UID, date(2026, 11, 21), ports, TZ)
    assert result.skipped and "stale task" in result.skipped
    assert store.documents == {} and UID not in store.history and broker.orders == []


def test_a_weekend_task_still_runs_on_sunday_night_and_writes_mondays_log() -> None:
    ports, store, _ = nightly_user()
    two_am(ports, date(2026, 11, 22))  # Saturday's task redelivered on Sunday night
    rebalance_user(UID, date(2026, 11, 21), ports, TZ)
    assert [p for p in store.documents if "/driftLogs/" in p] == [
        f"users/{UID}/driftLogs/nightly-20261123"
    ]


@pytest.mark.parametrize(
    ("instant", "night"),
    [
        ("2026-11-21T07:00:00+00:00", date(2026, 11, 21)),  # 02:00 EST Saturday
        ("2027-03-14T07:00:00+00:00", date(2027, 3, 14)),  # 03:00 EDT: 02:00 never happens
        ("2027-11-07T06:00:00+00:00", date(2027, 11, 7)),  # 01:00 EDT, before falling back
        ("2027-01-01T04:59:59+00:00", date(2026, 12, 31)),  # New Year in UTC, not in New York
        ("2028-02-29T07:00:00+00:00", date(2028, 2, 29)),
    ],
)
def test_the_night_is_the_date_in_the_schedules_timezone(instant: str, night: date) -> None:
    assert night_of(datetime.fromisoformat(instant), TZ) == night


def test_a_night_belongs_to_the_next_trading_day() -> None:
    trading = {date(2026, 12, 24), date(2026, 12, 28), date(2027, 1, 4)}
    assert trading_night(date(2026, 12, 24), trading) == date(2026, 12, 24)
    assert trading_night(date(2026, 12, 25), trading) == date(2026, 12, 28)  # holiday
    assert trading_night(date(2027, 1, 1), trading) == date(2027, 1, 4)
