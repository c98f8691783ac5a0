"""The web client in a real Chromium, on the local stack: what a user sees and does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from devstack.seed import DEMO_LOTS
from tests.browser.conftest import Client, nav, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# Records, from the page itself, whether the simulate button was ever disabled and what the
# progress said (a run can be faster than a poll from the test).
WATCH_PROGRESS = """() => {
  window.__progress = { disabled: false, text: "" };
  new MutationObserver(() => {
    const button = [...document.querySelectorAll("button[type=submit]")]
      .find((b) => /Simulating/.test(b.textContent));
    if (button && button.disabled) window.__progress.disabled = true;
    const status = document.querySelector("[data-testid=sim-progress]");
    if (status && status.textContent.trim()) window.__progress.text = status.textContent;
  }).observe(document.body,
    { subtree: true, childList: true, attributes: true, characterData: true });
}"""


def test_sign_up_link_the_paper_account_and_set_targets(page: Page, paper: Any) -> None:
    account = paper.new_account("2500")
    paper.seed_lots(account["id"], DEMO_LOTS)

    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in or create an account")).to_be_visible()
    shot(page, "01-sign-in")
    page.get_by_label("Email").fill(f"browser-{account['id'][:8]}@example.com")
    page.get_by_label("Password").fill("password-123")
    page.get_by_role("button", name="Create account").click()

    # A new user has no broker: get_status says so (the nudge under the navigation), the
    # drift page shows the server's refusal and links to the broker page.
    expect(page.get_by_test_id("link-nudge")).to_contain_text("No broker account is linked")
    expect(page.get_by_role("alert").filter(has_text="no broker account linked")).to_be_visible()
    page.get_by_role("link", name="Link a broker account").click()
    expect(page.get_by_test_id("link-state")).to_have_text(
        "Not linked: no broker account is linked yet."
    )
    page.get_by_label("API key ID").fill(account["api_key_id"])
    page.get_by_label("Secret key").fill(account["secret_key"])
    page.get_by_role("button", name="Link account").click()
    expect(page.get_by_test_id("linked")).to_contain_text(account["account_number"])
    expect(page.get_by_label("Secret key")).to_have_value("")
    assert account["secret_key"] not in page.content()
    # get_status asked again after the link: the page and the navigation know.
    expect(page.get_by_test_id("link-state")).to_have_text(
        f"Linked: account {account['account_number']} (paper)."
    )
    shot(page, "02-broker-linked")

    nav(page, "Drift")
    expect(page.get_by_test_id("link-nudge")).to_have_count(0)
    targets = page.get_by_role("form", name="Target allocation")
    for index, (symbol, percent) in enumerate([("SPY", "40"), ("QQQ", "30"), ("TLT", "20")]):
        if index > 0:
            targets.get_by_role("button", name="Add asset").click()
        row = targets.get_by_role("group", name=f"Target {index + 1}")
        row.get_by_label("Symbol").fill(symbol)
        row.get_by_label("Target %").fill(percent)
    expect(page.get_by_test_id("targets-total")).to_contain_text("Total 90.00 % (10.00 to go)")
    targets.get_by_role("button", name="Save targets").click()
    # The server's message, shown at the field it names (the allocation's total).
    expect(page.get_by_test_id("targets-total-error")).to_have_text(
        "enabled targets must sum to 100 (within 0.01), got 90"
    )
    shot(page, "03-targets-sum-90")

    targets.get_by_role("button", name="Add asset").click()
    row = targets.get_by_role("group", name="Target 4")
    row.get_by_label("Symbol").fill("GLD")
    row.get_by_label("Target %").fill("10")
    row.get_by_label("Band ± (points)").fill("3")
    targets.get_by_role("button", name="Save targets").click()
    expect(targets.get_by_role("status").filter(has_text="Saved.")).to_be_visible()

    table = page.get_by_test_id("drift-table")
    spy = table.get_by_role("row", name=re.compile(r"^SPY"))
    expect(spy).to_contain_text("Sell")
    expect(spy).to_contain_text("Critical")
    expect(table.get_by_role("row", name=re.compile(r"^QQQ"))).to_contain_text("Buy")
    bars = page.get_by_test_id("drift-bars")
    over = re.compile(r"^SPY: \+\d+\.\d+ points, overweight")
    under = re.compile("^TLT: \u2212\\d+\\.\\d+ points, underweight")  # a real minus sign
    expect(bars.get_by_role("img", name=over)).to_be_visible()
    expect(bars.get_by_role("img", name=under)).to_be_visible()
    expect(bars.locator(".bar-over")).to_have_count(1)
    expect(page.get_by_test_id("donuts").locator(".recharts-pie")).to_have_count(2)
    shot(page, "04-drift")


def test_dry_run_compare_execute_and_history(page: Page, demo_client: Client) -> None:
    sign_in(page, demo_client.user.email)
    expect(page.get_by_test_id("drift-table")).to_be_visible()

    nav(page, "Rebalance")
    # Keyboard only: focus the control and press Enter.
    page.get_by_role("button", name="Run a dry run").focus()
    page.keyboard.press("Enter")
    dry = page.get_by_test_id("dry-run-table")
    expect(dry.get_by_role("row", name=re.compile(r"^SPY"))).to_contain_text("Sell")
    expect(page.get_by_test_id("needs-rebalance")).to_have_text("Yes (critical)")

    page.get_by_role("button", name="Compare strategies").click()
    compare = page.get_by_test_id("strategy-compare")
    for strategy in ["Full", "Threshold", "Band", "Tax aware", "Cash flow"]:
        expect(compare.get_by_role("row", name=re.compile(f"^{strategy} "))).to_be_visible()
    compare.get_by_role("button", name="Review Tax aware").click()
    review = page.get_by_test_id("plan-review")
    expect(review).to_contain_text("Strategy Tax aware")
    compare.get_by_role("button", name="Review Threshold").click()
    expect(review).to_contain_text("Strategy Threshold")
    spy_sell = review.get_by_role("row", name=re.compile(r"SPY"))
    expect(spy_sell).to_contain_text("Sell")
    expect(spy_sell).to_contain_text("pts")
    expect(page.get_by_test_id("plan-total-tax")).to_have_text(re.compile(r"^\$\d"))
    shot(page, "05-plan-review")

    page.get_by_role("button", name="Execute this plan").focus()
    page.keyboard.press("Enter")
    status = page.get_by_test_id("plan-status")
    expect(status).to_have_attribute("data-status", "completed_success")
    legs = page.get_by_test_id("live-legs")
    expect(legs.locator("tr[data-leg-status]")).to_have_count(3)
    expect(legs.locator("tr[data-leg-status='filled']")).to_have_count(3)
    final = page.get_by_test_id("final-drift")
    expect(final.get_by_role("row", name=re.compile(r"^SPY"))).to_contain_text("Hold")
    shot(page, "06-executed")

    nav(page, "History")
    history = page.get_by_test_id("history-table")
    done = history.locator("tr[data-status='completed_success']")
    expect(done).to_have_count(1)
    expect(done).to_contain_text("3 placed / 3 planned")
    done.get_by_role("button", name="Orders").click()
    expect(page.get_by_role("table", name="Orders").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("drift-chart").locator(".recharts-line")).not_to_have_count(0)
    shot(page, "07-history")

    nav(page, "Schedule & goal")
    expect(page.get_by_test_id("schedule")).to_contain_text("Threshold")
    shot(page, "08-schedule")

    nav(page, "Settings")
    buffer = page.get_by_label("Cash buffer (bps)")
    buffer.fill("6000")
    page.get_by_role("button", name="Save settings").click()
    # The server's validation, at the field it names.
    expect(buffer).to_have_attribute("aria-invalid", "true")
    expect(buffer).to_have_accessible_description(re.compile("must be at most 5000"))
    expect(page.get_by_test_id("settings-error")).to_contain_text("cash_buffer_bps")
    buffer.fill("50")
    page.get_by_label("Strategy", exact=True).select_option("tax_aware")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_test_id("settings-saved")).to_contain_text("cash_buffer_bps")
    settings = demo_client.ok("get_settings", {})
    assert settings["cash_buffer_bps"] == 50
    assert settings["strategy"] == "tax_aware"
    shot(page, "09-settings")


def test_alert_opens_its_plan_and_the_kill_switch_shows_a_banner(
    page: Page, demo_client: Client, db: Any, kill_switch: Any
) -> None:
    plan = demo_client.ok("propose_plan", {"strategy": "threshold"})
    orders = plan["totals"]["orders"]
    # What the nightly run writes when a rebalance is due and auto-execute is off.
    db.document(f"users/{demo_client.user.uid}/driftAlerts/20260105").set(
        {
            "created_at": demo_client.paper.now(),
            "reason": "Drift trigger",
            "plan_id": plan["plan_id"],
            "max_drift_percent": 10.05,
            "orders": orders,
            "estimated_tax": plan["totals"]["estimated_tax"],
            "message": f"Drift trigger: a plan of {orders} orders awaits your review",
            "read": False,
        }
    )
    kill_switch.set({"trading_enabled": False, "reason": "maintenance"})

    sign_in(page, demo_client.user.email)
    # get_status at start: the banner is up before any action, with the reason.
    banner = page.get_by_test_id("kill-switch-banner")
    expect(banner).to_contain_text("Trading is off")
    expect(banner).to_contain_text("maintenance")
    nav(page, "Alerts")
    expect(page.get_by_test_id("trading-state")).to_contain_text("Off:")
    expect(page.get_by_test_id("trading-state")).to_contain_text("maintenance")
    alert = page.get_by_test_id("alerts").get_by_role("listitem")
    expect(alert).to_contain_text("awaits your review")
    shot(page, "10-alerts")
    alert.get_by_role("link", name="Review the plan").click()
    expect(page.get_by_test_id("plan-review")).to_contain_text("Strategy Threshold")

    # The server still refuses each leg (the banner was a warning, not the guard).
    page.get_by_role("button", name="Execute this plan").click()
    expect(banner).to_contain_text("Trading is off")
    expect(banner).to_contain_text("maintenance")
    legs = page.get_by_test_id("live-legs")
    expect(legs.locator("tr[data-leg-status='refused']").first).to_contain_text("kill-switch")
    assert demo_client.orders_placed() == 0
    shot(page, "11-kill-switch")


def test_what_if_simulation_and_past_runs(page: Page, demo_client: Client) -> None:
    sign_in(page, demo_client.user.email)
    nav(page, "What if")
    expect(page.get_by_test_id("past-simulations").get_by_role("listitem")).to_have_count(0)
    page.get_by_label("Years of history (1\u201310)").fill("2")
    run = page.get_by_role("button", name=re.compile("^(Run the simulation|Simulating)"))
    page.evaluate(WATCH_PROGRESS)
    run.click()
    best = page.get_by_test_id("rec-best")
    expect(best).not_to_be_empty()
    expect(run).to_be_enabled()
    # While it ran (a second or several): the button was disabled, the progress said what.
    seen = page.evaluate("window.__progress")
    assert seen["disabled"] and "Replaying 2 years" in seen["text"], seen
    best_name = best.inner_text()
    expect(page.get_by_test_id("rec-runner-up")).not_to_have_text("\u2014")
    expect(page.get_by_test_id("rec-gap")).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    expect(page.get_by_test_id("rec-reason")).not_to_be_empty()

    table = page.get_by_test_id("policy-table")
    expect(table.locator("tbody tr")).to_have_count(13)
    marked = table.locator("tbody tr[data-best]")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text(best_name)
    expect(marked).to_contain_text("\u2605 Best")  # not only its colour
    # Sorted by score: any row above the best one is marked as not recommended (it stays
    # beyond the critical drift), with words, not only a colour.
    expect(table.locator("tbody tr").nth(12)).to_be_visible()
    names = [row.get_by_role("rowheader").inner_text() for row in table.locator("tbody tr").all()]
    above = next(i for i, name in enumerate(names) if best_name in name)
    for name in names[:above]:
        assert "not recommended: beyond the critical drift" in name, names
    table.get_by_role("button", name="Tax paid ($)").click()
    expect(table.get_by_role("columnheader", name="Tax paid ($)")).to_have_attribute(
        "aria-sort", "descending"
    )
    table.get_by_role("button", name="Score ($)").click()  # back to score order
    expect(table.locator("tbody tr").nth(above)).to_contain_text(best_name)

    for chart in ["drift-over-time", "value-over-time"]:
        lines = page.get_by_test_id(chart).locator("path.recharts-curve")
        expect(lines.first).to_be_visible()
        assert lines.count() >= 2, chart
    forward = page.get_by_test_id("forward-table")
    expect(forward.locator("tbody tr")).to_have_count(4)
    expect(forward.get_by_role("row", name=re.compile(r"^SPY"))).to_contain_text("%")
    shot(page, "12-simulation")

    # Show or hide a policy from its labelled checkbox.
    toggles = page.get_by_role("group", name="Policies on the charts")
    never = toggles.get_by_role("checkbox", name=re.compile(r"^never \(buy and hold\)"))
    shown_before = page.get_by_test_id("drift-over-time").locator("path.recharts-curve").count()
    never.click()
    expected = shown_before - 1 if not never.is_checked() else shown_before + 1
    expect(page.get_by_test_id("drift-over-time").locator("path.recharts-curve")).to_have_count(
        expected
    )

    # A bad custom policy: the server's message at the field it names.
    page.get_by_label("Add a custom policy").check()
    threshold = page.get_by_test_id("custom-policy").get_by_label("Threshold (%)")
    threshold.fill("-1")
    run.click()
    expect(threshold).to_have_attribute("aria-invalid", "true")
    expect(threshold).to_have_accessible_description(re.compile("must be from 0.01 to 100"))
    shot(page, "13-simulation-error")

    # The past runs, live: the good one only (a refused request stores nothing).
    past = page.get_by_test_id("past-simulations").get_by_role("listitem")
    expect(past).to_have_count(1)
    expect(past).to_contain_text(f"best: {best_name}")
    past.get_by_role("button").click()
    expect(page.get_by_test_id("viewing")).to_contain_text("Stored simulation")
    expect(page.get_by_test_id("rec-best")).to_have_text(best_name)
    expect(page.get_by_test_id("policy-table").locator("tbody tr")).to_have_count(13)
    expect(
        page.get_by_test_id("value-over-time").locator("path.recharts-curve").first
    ).to_be_visible()
