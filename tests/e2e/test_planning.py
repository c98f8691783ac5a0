"""propose_plan, update_settings and the configured strategy, over HTTP as a client calls them."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.dates]


def test_settings_have_documented_defaults_and_update_partially(new_client: Any) -> None:
    client: Client = new_client()
    defaults = client.ok("get_settings", {})
    assert defaults["threshold_percent"] == 5 and defaults["strategy"] == "threshold"
    assert defaults["cash_buffer_bps"] == 25 and defaults["lot_method"] == "fifo"
    assert defaults["tax_limit_usd"] is None
    updated = client.ok(
        "update_settings",
        {
            "strategy": "tax_aware",
            "lot_method": "hifo",
            "avoid_short_term_gains": True,
            "tax_limit_usd": 500,
            "short_term_tax_rate": 0.4,
        },
    )
    assert updated == {
        **defaults,
        "strategy": "tax_aware",
        "lot_method": "hifo",
        "avoid_short_term_gains": True,
        "tax_limit_usd": 500.0,
        "short_term_tax_rate": 0.4,
    }
    assert client.ok("get_settings", {}) == updated
    cleared = client.ok("update_settings", {"tax_limit_usd": None})
    assert cleared["tax_limit_usd"] is None and cleared["strategy"] == "tax_aware"


BAD_SETTINGS = [
    ({"threshold_percent": 0}, "threshold_percent: must be greater than 0"),
    ({"threshold_percent": -1}, "threshold_percent: must be greater than 0"),
    ({"threshold_percent": float("nan")}, "threshold_percent: must be a finite number"),
    ({"threshold_percent": "5"}, "threshold_percent: must be a number"),
    ({"threshold_percent": None}, "threshold_percent: must not be null"),
    ({"critical_percent": 1e30}, "critical_percent: must be at most 100"),
    (
        {"critical_percent": 3},
        "critical_percent: critical_percent (3) must be at least threshold_percent (5)",
    ),
    (
        {"strategy": "yolo"},
        "strategy: Input should be 'full', 'threshold', 'band', 'cash_flow' or 'tax_aware'",
    ),
    ({"lot_method": "random"}, "lot_method: Input should be 'fifo', 'lifo' or 'hifo'"),
    ({"short_term_tax_rate": 1.5}, "short_term_tax_rate: must be at most 1"),
    ({"cash_buffer_bps": -25}, "cash_buffer_bps: must be 0 or more"),
    ({"avoid_short_term_gains": "yes"}, "avoid_short_term_gains: must be a boolean"),
    ({"uid": "someone-else"}, "uid: unknown field"),
]


@pytest.mark.parametrize(("change", "message"), BAD_SETTINGS)
def test_bad_settings_name_the_field_and_change_nothing(
    new_client: Any, change: dict[str, Any], message: str
) -> None:
    client: Client = new_client()
    before = client.ok("update_settings", {"strategy": "band"})
    status, code, got = client.error("update_settings", change)
    assert (status, code, got) == (400, "INVALID_ARGUMENT", message)
    assert client.ok("get_settings", {}) == before


def test_propose_plan_stores_a_proposed_plan_and_places_nothing(
    demo_client: Client, db: Any
) -> None:
    plan = demo_client.ok("propose_plan", {})
    assert plan["status"] == "proposed" and plan["strategy"] == "threshold"
    assert [(t["side"], t["symbol"]) for t in plan["trades"]] == [
        ("sell", "SPY"),
        ("buy", "QQQ"),
        ("buy", "TLT"),
    ]  # GLD is inside its band
    sell = plan["trades"][0]
    assert set(sell) >= {
        "qty",
        "estimated_value",
        "estimated_cost",
        "short_term_gain",
        "long_term_gain",
        "estimated_tax",
        "tax_per_drift_point",
        "reason",
    }
    assert sell["long_term_gain"] > 0 and sell["estimated_tax"] > 0  # FIFO: the 2023 lot
    assert plan["totals"]["orders"] == 3 and plan["drift_before"]["needs_rebalance"] is True
    assert plan["drift_after"]["needs_rebalance"] is False
    assert demo_client.orders_placed() == 0
    stored = (
        db.collection("users")
        .document(demo_client.user.uid)
        .collection("rebalanceHistory")
        .document(plan["plan_id"])
        .get()
        .to_dict()
    )
    assert stored["status"] == "proposed" and stored["trades"] == plan["trades"]


def test_lot_relief_order_from_fill_activities_decides_the_tax(demo_client: Client) -> None:
    fifo = demo_client.ok("propose_plan", {"strategy": "full"})
    demo_client.ok("update_settings", {"lot_method": "hifo"})
    hifo = demo_client.ok("propose_plan", {"strategy": "full"})
    fifo_spy = next(t for t in fifo["trades"] if t["symbol"] == "SPY")
    hifo_spy = next(t for t in hifo["trades"] if t["symbol"] == "SPY")
    assert fifo_spy["qty"] == hifo_spy["qty"]
    # FIFO relieves the 2023 lot at $410 (long-term gain); HIFO the 2026 lot at $520
    # (a short-term loss), exactly as the broker would.
    assert fifo_spy["long_term_gain"] > 0 and fifo_spy["short_term_gain"] == 0
    assert hifo_spy["short_term_gain"] < 0 and hifo_spy["estimated_tax"] < 0


def test_tax_aware_costs_less_tax_and_flags_the_tax_limit(demo_client: Client) -> None:
    demo_client.ok("update_settings", {"tax_limit_usd": 10})
    plan = demo_client.ok("propose_plan", {"strategy": "tax_aware"})
    assert plan["solver"].startswith(("highs", "closed form"))
    assert plan["drift_after"]["needs_rebalance"] is False
    assert plan["totals"]["estimated_tax"] > 10 and plan["tax_limit_exceeded"] is True
    assert any(n["kind"] == "tax_limit" for n in plan["notes"])
    full = demo_client.ok("propose_plan", {"strategy": "full"})
    assert 0 < plan["totals"]["estimated_tax"] < full["totals"]["estimated_tax"]


def test_a_deposit_rebalances_with_buys_only(demo_client: Client) -> None:
    plan = demo_client.ok("propose_plan", {"strategy": "cash_flow", "cash_to_invest": 20000})
    assert plan["trades"] and {t["side"] for t in plan["trades"]} == {"buy"}
    bought = [t["symbol"] for t in plan["trades"]]
    assert "SPY" not in bought and bought[0] in {"QQQ", "TLT"}  # most underweight first


def test_a_withdrawal_sells_the_most_overweight_first(demo_client: Client) -> None:
    plan = demo_client.ok("propose_plan", {"strategy": "cash_flow", "cash_to_raise": 5000})
    assert [(t["side"], t["symbol"]) for t in plan["trades"]] == [("sell", "SPY")]
    # $2,500 of cash was there; the sale raises the rest plus the 25 bp buffer, which is
    # what stays once the $5,000 is paid out.
    assert plan["totals"]["sell_value"] >= 2500 + 237
    assert plan["projected_cash"] == pytest.approx((99900 - 5000) * 0.0025, abs=0.5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"strategy": "magic"},
            "strategy: Input should be 'auto', 'full', 'threshold', 'band', "
            "'cash_flow' or 'tax_aware'",
        ),
        ({"cash_to_invest": -5}, "cash_to_invest: must be 0 or more"),
        ({"cash_to_raise": float("inf")}, "cash_to_raise: must be a finite number"),
        ({"cash_to_invest": 1e30}, "cash_to_invest: must be at most 1000000000"),
        (
            {"cash_to_invest": 5, "cash_to_raise": 5},
            "cash_to_raise: give cash_to_invest or cash_to_raise, not both",
        ),
        ({"cash_to_invest": "100"}, "cash_to_invest: must be a number"),
    ],
)
def test_bad_plan_requests_name_the_field(
    demo_client: Client, data: dict[str, Any], message: str, db: Any
) -> None:
    status, code, got = demo_client.error("propose_plan", data)
    assert (code, got) == ("INVALID_ARGUMENT", message)
    history = (
        db.collection("users").document(demo_client.user.uid).collection("rebalanceHistory").get()
    )
    assert history == []


def test_check_rebalance_drift_executes_through_the_configured_strategy(
    new_client: Any,
) -> None:
    from devstack.seed import DEMO_LOTS, DEMO_TARGETS

    results = {}
    for strategy in ("threshold", "full"):
        client: Client = new_client("2500", DEMO_LOTS)
        client.link()
        client.ok("set_targets", {"allocations": DEMO_TARGETS})
        client.ok("update_settings", {"strategy": strategy})
        results[strategy] = client.ok("check_rebalance_drift", {})
    assert results["threshold"]["strategy"] == "threshold"
    assert {t["symbol"] for t in results["threshold"]["trades_executed"]} == {"SPY", "QQQ", "TLT"}
    assert {t["symbol"] for t in results["full"]["trades_executed"]} == {"SPY", "QQQ", "TLT", "GLD"}
    assert set(results["full"]) >= {
        "needs_rebalance",
        "drift_analysis",
        "trades_executed",
        "portfolio_value",
        "message",
    }
