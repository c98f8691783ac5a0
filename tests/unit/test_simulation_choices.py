"""The simulator's policies from plain data, the recommendation, and the look ahead."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.models import Target
from rebalancer.domain.schedule import Frequency, ScheduleSettings, Trigger
from rebalancer.domain.settings import Strategy
from rebalancer.domain.simulation.forward import forward_view
from rebalancer.domain.simulation.model import Policy, PolicyResult, PriceHistory
from rebalancer.domain.simulation.policies import (
    default_policies,
    policies_from_specs,
    policy_from_spec,
    policy_spec,
)
from rebalancer.domain.simulation.recommend import recommend, score_usd

pytestmark = pytest.mark.unit


def test_default_policies_are_a_named_set_of_at_most_20() -> None:
    policies = default_policies()
    assert 12 <= len(policies) <= 20
    assert len({p.name for p in policies}) == len(policies)
    assert policies[0].schedule.trigger is Trigger.MANUAL
    assert any(p.strategy is Strategy.TAX_AWARE for p in policies)


def test_every_default_policy_reads_back_from_its_spec() -> None:
    for policy in default_policies():
        back = policy_from_spec(policy_spec(policy))
        assert back == replace(
            policy,
            schedule=ScheduleSettings(
                trigger=policy.schedule.trigger, frequency=policy.schedule.frequency
            ),
        )


def test_a_spec_takes_defaults_for_what_it_leaves_out() -> None:
    policy = policy_from_spec({"name": " monthly ", "trigger": "calendar"})
    assert policy == Policy(
        "monthly", ScheduleSettings(Trigger.CALENDAR, Frequency.MONTHLY), Strategy.THRESHOLD, D(5)
    )


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ([], "policy"),
        ({"trigger": "threshold"}, "policy.name"),
        ({"name": "", "trigger": "threshold"}, "policy.name"),
        ({"name": 3, "trigger": "threshold"}, "policy.name"),
        ({"name": "x"}, "policy.trigger"),
        ({"name": "x", "trigger": "hourly"}, "policy.trigger"),
        ({"name": "x", "trigger": "calendar", "frequency": "semiannually"}, "policy.frequency"),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": -5},
            "policy.threshold_percent",
        ),
        ({"name": "x", "trigger": "threshold", "threshold_percent": 0}, "policy.threshold_percent"),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": 101},
            "policy.threshold_percent",
        ),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": float("nan")},
            "policy.threshold_percent",
        ),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": "NaN"},
            "policy.threshold_percent",
        ),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": "five"},
            "policy.threshold_percent",
        ),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": True},
            "policy.threshold_percent",
        ),
        (
            {"name": "x", "trigger": "threshold", "threshold_percent": [5]},
            "policy.threshold_percent",
        ),
        ({"name": "x", "trigger": "threshold", "drift_method": "log"}, "policy.drift_method"),
        ({"name": "x", "trigger": "threshold", "strategy": "auto"}, "policy.strategy"),
        ({"name": "x", "trigger": "threshold", "strategy": 1}, "policy.strategy"),
        ({"name": "x", "trigger": "threshold", "colour": "red"}, "policy.colour"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(spec: object, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        policy_from_spec(spec)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_a_list_of_specs_names_the_policy_at_fault() -> None:
    good = {"name": "a", "trigger": "threshold"}
    with pytest.raises(InvalidInput) as raised:
        policies_from_specs([good, {"name": "b", "trigger": "threshold", "threshold_percent": -1}])
    assert raised.value.field == "policies.1.threshold_percent"
    with pytest.raises(InvalidInput) as raised:
        policies_from_specs([good, good])
    assert raised.value.field == "policies.1.name"
    with pytest.raises(InvalidInput) as raised:
        policies_from_specs([good] * 21)
    assert raised.value.field == "policies"


def result(
    name: str, after_tax: int, ending: int, te: str, penalty: D, orders: int = 1
) -> PolicyResult:
    policy = Policy(name, ScheduleSettings(), Strategy.THRESHOLD)
    z = D(0)
    return PolicyResult(
        policy,
        D(te),
        z,
        z,
        1,
        orders,
        z,
        z,
        z,
        z,
        z,
        z,
        D(ending),
        D(after_tax),
        score_usd(D(after_tax), D(ending), D(te), penalty),
        (),
        (),
    )


def test_the_penalty_can_turn_the_order_and_the_gap_is_the_score_difference() -> None:
    # Drifter: $110,000 after tax, $112,000 before, 4 % TE; tracker: $109,000, $110,000,
    # 0.5 %. At 10 bp a point: 110,000 - 0.001 x 4 x 112,000 = 109,552 against
    # 109,000 - 0.001 x 0.5 x 110,000 = 108,945: the drifter, $607 ahead.
    # At 50 bp: 110,000 - 2,240 = 107,760 against 109,000 - 275 = 108,725: the tracker,
    # $965 ahead.
    for bps, best, runner, gap in (
        (D(10), "drifter", "tracker", D(607)),
        (D(50), "tracker", "drifter", D(965)),
    ):
        results = (
            result("drifter", 110_000, 112_000, "4", bps),
            result("tracker", 109_000, 110_000, "0.5", bps),
        )
        chosen = recommend(results, bps)
        assert (chosen.best, chosen.runner_up, chosen.gap_usd) == (best, runner, gap)
        assert best in chosen.reason and f"{bps} bp" in chosen.reason


def test_a_tie_goes_to_fewer_orders() -> None:
    results = (
        result("busy", 100, 100, "0", D(10), orders=9),
        result("calm", 100, 100, "0", D(10), orders=2),
    )
    assert recommend(results, D(10)).best == "calm"


def test_a_policy_that_stays_beyond_the_critical_drift_is_not_recommended() -> None:
    # Over 100 days: the drifter is past 10 points off target on 40 of them (more than 5 %),
    # the tracker on 5 (exactly 5 %): the drifter scores higher but is not recommended.
    drifter = replace(result("drifter", 110_000, 112_000, "4", D(10)), days_beyond_critical=40)
    tracker = replace(result("tracker", 109_000, 110_000, "0.5", D(10)), days_beyond_critical=5)
    chosen = recommend((drifter, tracker), D(10), days=100, critical_drift_percent=D(10))
    assert (chosen.best, chosen.runner_up) == ("tracker", None)
    assert "drifter scores higher" in chosen.reason and "40 % of the days" in chosen.reason
    # When no policy stays within, the best score is recommended, and the reason says so.
    both_out = (drifter, replace(tracker, days_beyond_critical=50))
    fallback = recommend(both_out, D(10), days=100, critical_drift_percent=D(10))
    assert fallback.best == "drifter" and "no policy kept every asset" in fallback.reason


def history(days: int = 250) -> PriceHistory:
    import numpy as np

    rng = np.random.default_rng(3)
    logs = rng.standard_normal((days, 2)) * [0.02, 0.01]
    closes = 100 * np.exp(np.cumsum(logs, axis=0))
    first = date(2024, 1, 1)
    return PriceHistory(
        tuple(first + timedelta(days=k) for k in range(days)),
        {s: tuple(D(str(round(c, 4))) for c in closes[:, k]) for k, s in enumerate("AB")},
    )


TARGETS = (Target("A", D(60)), Target("B", D(40)))
BANDS = {"A": (D(55), D(65)), "B": (D(35), D(45))}


def test_the_forward_view_is_reproducible_and_monotone() -> None:
    weights = {"A": D(60), "B": D(40)}
    one = forward_view(history(), TARGETS, weights, BANDS, paths=500, seed=5)
    two = forward_view(history(), TARGETS, weights, BANDS, paths=500, seed=5)
    assert one == two
    other = forward_view(history(), TARGETS, weights, BANDS, paths=500, seed=6)
    assert other != one
    for asset in one.assets:
        assert 0 <= asset.breach_within_30_days <= asset.breach_within_90_days <= 1
    assert one.any_breach_within_30_days <= one.any_breach_within_90_days
    assert one.any_breach_within_90_days > 0  # 2 % daily vol: a 5-point band does go


def test_an_asset_outside_its_band_today_has_breached() -> None:
    view = forward_view(history(), TARGETS, {"A": D(70), "B": D(30)}, BANDS, paths=50, seed=1)
    assert view.assets[0].breach_within_30_days == 1
    assert view.assets[0].expected_days_to_breach == 0
    assert view.any_breach_within_30_days == 1
