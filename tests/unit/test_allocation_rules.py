"""Stored allocations and numbers: every rule, every nasty value, never an INTERNAL error."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rebalancer.api import (
    ExecuteTradeRequest,
    GoalIn,
    ProposePlanRequest,
    SetTargetsRequest,
    UpdateSettingsRequest,
    parse,
)
from rebalancer.domain.allocation_rules import (
    MAX_SUBSTITUTES,
    MAX_TARGETS,
    check_allocation,
    check_document_count,
    target_from_document,
)
from rebalancer.domain.errors import InvalidAllocation, InvalidInput, RebalancerError
from rebalancer.domain.models import Target
from rebalancer.domain.settings import (
    SETTING_RANGES,
    Strategy,
    UserSettings,
    settings_from_document,
    settings_to_document,
)
from rebalancer.service.drift_check import check_drift
from rebalancer.service.nightly import rebalance_user
from rebalancer.service.proposals import propose_plan
from rebalancer.service.schedule_state import get_schedule
from rebalancer.service.targets import get_targets

from .test_nightly import NIGHT, TZ
from .test_services import UID, make

pytestmark = pytest.mark.unit

DOC = "userSettings/u1/allocation/SPY"


def doc(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SPY", "target_percent": 40, "enabled": True, **fields}


def refused(data: dict[str, Any], doc_id: str = "SPY") -> str:
    with pytest.raises(InvalidAllocation) as caught:
        target_from_document(f"userSettings/u1/allocation/{doc_id}", doc_id, data)
    return caught.value.message


# --- one document -------------------------------------------------------------------


def test_a_valid_document_reads_as_its_target() -> None:
    data = doc(threshold_percent=3.5, substitutes=["IVV", "VOO"], enabled=False)
    assert target_from_document(DOC, "SPY", data) == Target(
        "SPY", D(40), D("3.5"), False, ("IVV", "VOO")
    )
    pair = target_from_document("p/BTC-USD", "BTC-USD", doc(symbol="BTC/USD"))
    assert pair.symbol == "BTC/USD"
    # Older documents: no symbol (the id), no enabled (true), null optional fields.
    old = target_from_document(DOC, "SPY", {"target_percent": 0.01, "threshold_percent": None})
    assert old == Target("SPY", D("0.01"))
    assert target_from_document(DOC, "SPY", doc(target_percent=100, substitutes=None)).enabled


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "target_percent: is required"),
        ("40", "target_percent: must be a number"),
        (True, "target_percent: must be a number"),
        ([40], "target_percent: must be a number"),
        ({"v": 40}, "target_percent: must be a number"),
        (math.nan, "target_percent: must be a finite number"),
        (math.inf, "target_percent: must be a finite number"),
        (-math.inf, "target_percent: must be a finite number"),
        (1e300, "target_percent: must be at most 100"),
        (100.0001, "target_percent: must be at most 100"),
        (-1, "target_percent: must be at least 0.01"),
        (0, "target_percent: must be at least 0.01"),
        (1e-25, "target_percent: must be at least 0.01"),
        (0.0099, "target_percent: must be at least 0.01"),
    ],
)
def test_target_percent_of_a_wrong_type_or_range_is_refused(value: Any, message: str) -> None:
    data = doc(target_percent=value)
    if value is None:
        del data["target_percent"]
    assert refused(data).startswith(f"{DOC}: {message}")


@pytest.mark.parametrize("value", ["3", False, math.nan, math.inf, -3, 0, 1e-25, 100.5, 1e300, [3]])
def test_threshold_percent_of_a_wrong_type_or_range_is_refused(value: Any) -> None:
    assert refused(doc(threshold_percent=value)).startswith(f"{DOC}: threshold_percent: must")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"symbol": "QQQ"}, "symbol: QQQ does not match the document id"),
        ({"symbol": "spy"}, "symbol: 'spy' is not a valid symbol"),
        ({"symbol": 7}, "symbol: 7 is not a valid symbol"),
        ({"symbol": "SPY\n"}, "symbol: 'SPY\\n' is not a valid symbol"),
        ({"enabled": "yes"}, "enabled: must be true or false"),
        ({"enabled": 1}, "enabled: must be true or false"),
        ({"substitutes": "QQQ"}, "substitutes: must be a list of symbols"),
        ({"substitutes": 5}, "substitutes: must be a list of symbols"),
        ({"substitutes": {"a": "QQQ"}}, "substitutes: must be a list of symbols"),
        ({"substitutes": [5]}, "substitutes.0: 5 is not a valid symbol"),
        ({"substitutes": ["IVV", None]}, "substitutes.1: None is not a valid symbol"),
        ({"substitutes": ["IVV", "bad sym"]}, "substitutes.1: 'bad sym' is not a valid symbol"),
        (
            {"substitutes": ["x" * 500]},
            "substitutes.0: 'xxxxxxxxxxxxxxxxxxxx... is not a valid symbol",
        ),
        ({"substitutes": ["SPY"]}, "substitutes: SPY is the target's own symbol"),
        ({"substitutes": ["IVV", "VOO", "IVV"]}, "substitutes: IVV is listed twice"),
        (
            {"substitutes": ["A", "B", "C", "D", "E", "F"]},
            f"substitutes: at most {MAX_SUBSTITUTES} allowed, found 6",
        ),
    ],
)
def test_each_rule_of_one_document_names_the_document_and_field(
    fields: dict[str, Any], message: str
) -> None:
    assert refused(doc(**fields)) == f"{DOC}: {message}"


def test_five_substitutes_are_allowed() -> None:
    target = target_from_document(DOC, "SPY", doc(substitutes=["A", "B", "C", "D", "E"]))
    assert len(target.substitutes) == 5


# --- the whole allocation -----------------------------------------------------------


def allocation(*targets: Target) -> dict[str, Target]:
    return {f"userSettings/u1/allocation/{t.symbol}": t for t in targets}


def test_a_substitute_that_is_another_target_is_refused_naming_the_document() -> None:
    with pytest.raises(InvalidAllocation) as caught:
        check_allocation(
            allocation(Target("SPY", D(60), substitutes=("QQQ",)), Target("QQQ", D(40)))
        )
    assert caught.value.message == f"{DOC}: substitutes: QQQ is itself a target"
    assert caught.value.code == "failed-precondition"


def test_a_disabled_target_counts_as_a_target_too() -> None:
    with pytest.raises(InvalidAllocation, match="GLD is itself a target"):
        check_allocation(
            allocation(
                Target("SPY", D(100), substitutes=("GLD",)), Target("GLD", D(5), enabled=False)
            )
        )


def test_a_substitute_listed_by_two_targets_is_refused() -> None:
    with pytest.raises(InvalidAllocation) as caught:
        check_allocation(
            allocation(
                Target("SPY", D(60), substitutes=("IVV",)),
                Target("QQQ", D(40), substitutes=("VOO", "IVV")),
            )
        )
    assert caught.value.message == (
        "userSettings/u1/allocation/SPY: substitutes: "
        "IVV is also a substitute in userSettings/u1/allocation/QQQ"
    )


def test_the_rules_of_one_document_apply_to_targets_held_in_memory_too() -> None:
    with pytest.raises(InvalidAllocation, match=r"target_percent: must be at least 0\.01"):
        check_allocation(allocation(Target("SPY", D("1e-25")), Target("QQQ", D(100))))
    with pytest.raises(InvalidAllocation, match="SPY is the target's own symbol"):
        check_allocation(allocation(Target("SPY", D(100), substitutes=("SPY",))))


def test_a_valid_allocation_passes_in_document_order() -> None:
    spy, qqq = (
        Target("SPY", D(60), substitutes=("IVV",)),
        Target("QQQ", D(40), D(3), True, ("QQQM",)),
    )
    assert check_allocation(allocation(spy, qqq)) == [qqq, spy]


def test_at_most_fifty_documents_are_read() -> None:
    check_document_count("userSettings/u1/allocation", MAX_TARGETS)
    with pytest.raises(InvalidAllocation) as caught:
        check_document_count("userSettings/u1/allocation", MAX_TARGETS + 1)
    assert caught.value.message.startswith("userSettings/u1/allocation: more than 50 documents")


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["SPY", "QQQ", "IVV", "BTC/USD"]),
    lambda inner: st.lists(inner, max_size=7) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "symbol": JSONISH,
            "target_percent": JSONISH,
            "threshold_percent": JSONISH,
            "enabled": JSONISH,
            "substitutes": JSONISH,
        },
    )
)
def test_any_document_a_client_can_write_is_a_valid_target_or_a_named_refusal(
    data: dict[str, Any],
) -> None:
    try:
        target = target_from_document(DOC, "SPY", data)
    except InvalidAllocation as error:
        assert error.message.startswith(f"{DOC}: ")
        return
    assert D("0.01") <= target.target_percent <= 100
    assert target.symbol == "SPY" and "SPY" not in target.substitutes


# --- the schema and the stored rules agree -------------------------------------------


BROKEN = [
    [{"symbol": "SPY", "target_percent": 100, "substitutes": ["SPY"]}],
    [{"symbol": "SPY", "target_percent": 100, "substitutes": ["IVV", "IVV"]}],
    [{"symbol": "SPY", "target_percent": 100, "substitutes": ["A", "B", "C", "D", "E", "F"]}],
    [{"symbol": "SPY", "target_percent": 100, "substitutes": ["bad sym"]}],
    [
        {"symbol": "SPY", "target_percent": 60, "substitutes": ["QQQ"]},
        {"symbol": "QQQ", "target_percent": 40},
    ],
    [
        {"symbol": "SPY", "target_percent": 60, "substitutes": ["IVV"]},
        {"symbol": "QQQ", "target_percent": 40, "substitutes": ["IVV"]},
    ],
    [{"symbol": "SPY", "target_percent": 1e-25}, {"symbol": "QQQ", "target_percent": 100}],
    [{"symbol": "SPY", "target_percent": 100, "threshold_percent": 1e-25}],
]


@pytest.mark.parametrize("allocations", BROKEN)
def test_what_set_targets_refuses_a_stored_allocation_refuses_too(
    allocations: list[dict[str, Any]],
) -> None:
    with pytest.raises(InvalidInput):
        parse(SetTargetsRequest, {"allocations": allocations})
    stored = {
        f"a/{a['symbol']}": target_from_document(f"a/{a['symbol']}", a["symbol"], a)
        for a in allocations
        if _readable(a)
    }
    if len(stored) == len(allocations):
        with pytest.raises(InvalidAllocation):
            check_allocation(stored)


def _readable(data: dict[str, Any]) -> bool:
    try:
        target_from_document("a/x", data["symbol"], data)
    except InvalidAllocation:
        return False
    return True


# --- the services answer failed-precondition, never a plan, never INTERNAL ------------


def _each_reader(ports: Any) -> list[tuple[str, Any]]:
    return [
        ("check (dry run)", lambda: check_drift(UID, ports, dry_run=True)),
        ("check", lambda: check_drift(UID, ports, dry_run=False)),
        *[(f"propose {s.value}", _proposer(ports, s)) for s in Strategy],
        ("schedule", lambda: get_schedule(UID, ports)),
        ("nightly", lambda: rebalance_user(UID, NIGHT, ports, TZ)),
        ("get_targets", lambda: get_targets(UID, ports)),
    ]


def _proposer(ports: Any, strategy: Strategy) -> Any:
    return lambda: propose_plan(UID, ports, strategy)


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        (
            [Target("SPY", D(60), substitutes=("QQQ",)), Target("QQQ", D(40))],
            f"userSettings/{UID}/allocation/SPY: substitutes: QQQ is itself a target",
        ),
        (
            [Target("SPY", D(100), substitutes=("SPY",))],
            f"userSettings/{UID}/allocation/SPY: substitutes: SPY is the target's own symbol",
        ),
        (
            [Target("SPY", D("1e-25")), Target("QQQ", D(60)), Target("TLT", D(40))],
            f"userSettings/{UID}/allocation/SPY: target_percent: must be at least 0.01",
        ),
        (
            [Target(f"S{n}", D(2)) for n in range(51)],
            f"userSettings/{UID}/allocation: more than 50 documents",
        ),
    ],
)
def test_a_broken_allocation_fails_every_reader_before_any_order(
    targets: list[Target], message: str
) -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    store.targets[UID] = targets
    store.settings[UID] = replace(UserSettings(), rebalancing_enabled=True, auto_execute=True)
    for name, call in _each_reader(ports):
        with pytest.raises(InvalidAllocation) as caught:
            call()
        assert caught.value.message.startswith(message), name
    assert broker.orders == [] and UID not in store.history and UID not in store.drift_logs


NASTY = [1e-25, -1e-25, 0, -1, 1e25, 1e300, -1e300, math.nan, math.inf, "12", True, [1]]


@pytest.mark.parametrize("name", sorted(SETTING_RANGES))
def test_no_stored_setting_makes_a_reader_fail_unexpectedly(name: str) -> None:
    for value in NASTY:
        document = {**settings_to_document(UserSettings()), name: value, "strategy": "full"}
        _every_reader_answers_or_refuses(settings_from_document(document), f"{name}={value!r}")


@pytest.mark.parametrize(
    "goal",
    [
        {"target_amount": 1e-20},
        {"target_amount": 0.001},
        {"target_amount": 1e30},
        {"target_amount": "1000"},
        {"monthly_contribution": 1e-20},
        {"monthly_contribution": -5},
        {"start_value": 1e-20},
        {"start_value": 1e300},
        {"start_value": -1e300},
        {"start_value": math.nan},
    ],
)
def test_no_stored_goal_makes_a_reader_fail_unexpectedly(goal: dict[str, Any]) -> None:
    stored = {"name": "g", "target_amount": 1000, "target_date": "2030-01-01", **goal}
    stored["start_date"] = "2020-01-01"
    settings = settings_from_document({"goal": stored})
    _every_reader_answers_or_refuses(settings, repr(goal))


def test_a_stored_goal_below_a_cent_counts_as_no_goal_and_odd_amounts_as_unset() -> None:
    goal = {"name": "g", "target_amount": 1e-20, "target_date": "2030-01-01"}
    assert settings_from_document({"goal": goal}).goal is None
    goal = {**goal, "target_amount": 5000, "monthly_contribution": 1e-20, "start_value": 1e300}
    read = settings_from_document({"goal": goal}).goal
    assert read is not None and read.target_amount_usd == 5000
    assert read.monthly_contribution_usd is None and read.start_value_usd is None
    goal = {**goal, "monthly_contribution": 0, "start_value": 0.01}
    read = settings_from_document({"goal": goal}).goal
    assert read is not None and read.monthly_contribution_usd == 0
    assert read.start_value_usd == D("0.01") and read.target_date == date(2030, 1, 1)


def test_stored_settings_outside_the_accepted_range_take_their_defaults() -> None:
    read = settings_from_document({"threshold_percent": 1e-25, "critical_percent": 1e25})
    assert (read.threshold_percent, read.critical_percent) == (5, 10)
    read = settings_from_document({"spread_bps": 501, "min_trade_usd": -1, "commission_usd": 7})
    assert read.costs.spread_bps == UserSettings().costs.spread_bps
    assert read.costs.min_trade_usd == UserSettings().min_trade_usd
    assert read.costs.commission_usd == 7


def _every_reader_answers_or_refuses(stored: UserSettings, label: str) -> None:
    ports, store, broker = make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")
    store.settings[UID] = replace(stored, rebalancing_enabled=True)
    for name, call in _each_reader(ports):
        try:
            call()
        except RebalancerError:
            pass
        except Exception as error:
            pytest.fail(f"{name} with {label}: {type(error).__name__}: {error}")


# --- the callables' schema: floors before any broker call ----------------------------


def test_the_setting_ranges_match_what_update_settings_accepts() -> None:
    for name, (low, high) in SETTING_RANGES.items():
        for accepted in (low, high):
            parse(UpdateSettingsRequest, {name: float(accepted)})
        for too_far in (float(high) * 1.01 + 0.01, -1.0):
            with pytest.raises(InvalidInput, match=name):
                parse(UpdateSettingsRequest, {name: too_far})


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (
            SetTargetsRequest,
            {"allocations": [{"symbol": "SPY", "target_percent": 1e-25}]},
            "allocations.0.target_percent: must be at least 0.01",
        ),
        (
            SetTargetsRequest,
            {"allocations": [{"symbol": "SPY", "target_percent": 100, "threshold_percent": 0.001}]},
            "allocations.0.threshold_percent: must be at least 0.01",
        ),
        (
            UpdateSettingsRequest,
            {"goal": {"name": "g", "target_amount": 1e-20, "target_date": "2030-01-01"}},
            "goal.target_amount: must be at least 0.01",
        ),
        (
            UpdateSettingsRequest,
            {
                "goal": {
                    "name": "g",
                    "target_amount": 100,
                    "target_date": "2030-01-01",
                    "monthly_contribution": 0.001,
                }
            },
            "goal.monthly_contribution: must be 0 or at least 0.01",
        ),
        (
            UpdateSettingsRequest,
            {"threshold_percent": 1e-25},
            "threshold_percent: must be at least",
        ),
        (UpdateSettingsRequest, {"min_trade_usd": 0.001}, "min_trade_usd: must be 0 or at least"),
        (UpdateSettingsRequest, {"tax_limit_usd": 1e-9}, "tax_limit_usd: must be 0 or at least"),
        (ProposePlanRequest, {"cash_to_invest": 1e-20}, "cash_to_invest: must be 0 or at least"),
        (ProposePlanRequest, {"cash_to_raise": 0.001}, "cash_to_raise: must be 0 or at least"),
        (
            ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "qty": 1e-300},
            "qty: must be at least 1E-9",
        ),
        (
            ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "qty": 1.0000000001},
            "qty: must have at most 9 decimals",
        ),
        (
            ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "qty": -1},
            "qty: must be greater than 0",
        ),
        (
            ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "notional": 0.001},
            "notional: must be at least 0.01",
        ),
        (
            ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "qty": 1, "order_type": "limit", "limit_price": 1e-9},
            "limit_price: must be at least 0.01",
        ),
    ],
)
def test_tiny_numbers_are_refused_naming_the_field(
    model: Any, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(model, data)
    assert caught.value.message.startswith(message)


def test_the_smallest_accepted_numbers() -> None:
    trade = parse(ExecuteTradeRequest, {"symbol": "SPY", "side": "buy", "qty": 1e-9})
    assert trade.qty == D("1e-9")
    assert parse(ExecuteTradeRequest, {"symbol": "SPY", "side": "buy", "qty": 2.123456789}).qty
    assert parse(ExecuteTradeRequest, {"symbol": "SPY", "side": "buy", "notional": 0.01}).notional
    assert parse(GoalIn, {"name": "g", "target_amount": 0.01, "target_date": "2030-01-01"})
    targets = parse(
        SetTargetsRequest,
        {
            "allocations": [
                {"symbol": "SPY", "target_percent": 99.99},
                {"symbol": "QQQ", "target_percent": 0.01},
            ]
        },
    )
    assert targets.allocations[1].target_percent == D("0.01")
    assert parse(ProposePlanRequest, {"cash_to_invest": 0}).cash_to_invest == 0
