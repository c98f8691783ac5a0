"""simulate_rebalancing over HTTP: the user's portfolio replayed under each policy."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.firebase import Stack

from .conftest import Client

pytestmark = pytest.mark.e2e

THRESHOLD_5 = {"name": "5 % bands", "trigger": "threshold", "threshold_percent": 5}
QUARTERLY = {
    "name": "quarterly",
    "trigger": "calendar",
    "frequency": "quarterly",
    "strategy": "full",
}


def simulations(db: Any, client: Client) -> list[Any]:
    return list(db.collection(f"users/{client.user.uid}/simulations").stream())


@pytest.mark.dates  # the history ends the day before the clock's: any date
def test_the_default_policies_are_compared_on_the_users_own_lots_and_stored(
    demo_client: Client, db: Any
) -> None:
    result = demo_client.ok("simulate_rebalancing", {"years": 3})
    names = [r["policy"]["name"] for r in result["results"]]
    assert len(names) == 13 and names[0] == "never (buy and hold)"
    assert result["recommendation"]["best"] in names
    assert result["recommendation"]["runner_up"] in names
    assert result["days"] > 700  # about 252 trading days a year
    never = result["results"][0]
    assert never["rebalances"] == 0 and never["orders"] == 0
    assert any(r["rebalances"] > 0 and r["tax_paid"] >= 0 for r in result["results"][1:])
    assert all(len(r["series"]) > 10 for r in result["results"])
    forward = result["forward"]
    assert {a["symbol"] for a in forward["assets"]} == {"SPY", "QQQ", "TLT", "GLD"}
    assert all(a["breach_within_90_days"] >= a["breach_within_30_days"] for a in forward["assets"])
    (stored,) = simulations(db, demo_client)
    assert stored.id == result["simulation_id"]
    assert stored.to_dict()["recommendation"] == result["recommendation"]
    assert demo_client.orders_placed() == 0  # a simulation never trades


def test_given_policies_are_run_and_the_same_request_answers_the_same(
    demo_client: Client,
) -> None:
    request = {"years": 2, "policies": [THRESHOLD_5, QUARTERLY], "monthly_flow": 500}
    first = demo_client.ok("simulate_rebalancing", request)
    again = demo_client.ok("simulate_rebalancing", request)
    assert [r["policy"]["name"] for r in first["results"]] == ["5 % bands", "quarterly"]
    assert first["simulation_id"] != again["simulation_id"]
    strip = lambda r: {k: v for k, v in r.items() if k not in {"simulation_id", "seconds"}}  # noqa: E731
    assert strip(first) == strip(again)


def test_a_template_starts_a_user_with_only_cash(new_client: Any) -> None:
    client: Client = new_client("50000")
    client.link()
    client.ok(
        "set_targets",
        {
            "allocations": [
                {"symbol": "SPY", "target_percent": 60},
                {"symbol": "TLT", "target_percent": 40},
            ]
        },
    )
    result = client.ok(
        "simulate_rebalancing", {"years": 1, "template_value": 10000, "policies": [THRESHOLD_5]}
    )
    (only,) = result["results"]
    assert abs(only["series"][0]["value"] - 10000) < 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"years": 11}, "years"),
        ({"years": 0}, "years"),
        ({"years": "5"}, "years"),
        ({"years": 2.5}, "years"),
        ({"monthly_flow": 1e25}, "monthly_flow"),
        ({"monthly_flow": "100"}, "monthly_flow"),
        ({"template_value": -1}, "template_value"),
        ({"template_value": 1e-25}, "template_value"),
        ({"tracking_penalty_bps": -5}, "tracking_penalty_bps"),
        ({"policies": []}, "policies"),
        ({"policies": [THRESHOLD_5] * 21}, "policies"),
        ({"policies": ["threshold"]}, "policies.0"),
        ({"policies": [{**THRESHOLD_5, "threshold_percent": -1}]}, "policies.0.threshold_percent"),
        (
            {"policies": [{**THRESHOLD_5, "threshold_percent": 1e-25}]},
            "policies.0.threshold_percent",
        ),
        ({"policies": [{**THRESHOLD_5, "trigger": "hourly"}]}, "policies.0.trigger"),
        ({"policies": [THRESHOLD_5, {**QUARTERLY, "uid": "x"}]}, "policies.1.uid"),
        ({"uid": "someone-else"}, "uid"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    demo_client: Client, db: Any, data: dict[str, Any], field: str
) -> None:
    status, code, message = demo_client.error("simulate_rebalancing", data)
    assert (status, code) == (400, "INVALID_ARGUMENT") and message.startswith(f"{field}"), message
    assert simulations(db, demo_client) == []


def test_without_targets_or_auth_nothing_runs(new_client: Any, stack: Stack) -> None:
    client: Client = new_client("1000")
    client.link()
    status, code, _ = client.error("simulate_rebalancing", {})
    assert code == "FAILED_PRECONDITION"
    status, body = stack.call("simulate_rebalancing", {}, None)
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")
