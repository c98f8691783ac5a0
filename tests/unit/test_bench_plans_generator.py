from __future__ import annotations

from decimal import Decimal

import pytest

from devstack import bench_plans
from devstack.bench_plans import Scenario, generate_scenario, report

pytestmark = pytest.mark.unit

SMALL = Scenario(5, 3, 6, drift_sigma=0.3)
EXACT = Scenario(30, 1, 4, exact_lots=True)


def test_same_seed_same_portfolios() -> None:
    assert generate_scenario(SMALL, 7) == generate_scenario(SMALL, 7)
    assert generate_scenario(EXACT, 7) == generate_scenario(EXACT, 7)
    assert generate_scenario(SMALL, 7) != generate_scenario(SMALL, 8)


@pytest.mark.parametrize("scenario", [SMALL, EXACT])
def test_targets_sum_to_exactly_100(scenario: Scenario) -> None:
    for inp in generate_scenario(scenario, 3):
        assert sum(t.target_percent for t in inp.targets) == Decimal(100)
        assert all(t.target_percent > 0 for t in inp.targets)
        assert len(inp.targets) == scenario.assets


@pytest.mark.parametrize("scenario", [SMALL, EXACT])
def test_holdings_equal_the_sum_of_their_lots(scenario: Scenario) -> None:
    for inp in generate_scenario(scenario, 3):
        assert 0 <= inp.portfolio.cash_usd <= inp.portfolio.total_value_usd * Decimal("0.05")
        for holding in inp.portfolio.holdings:
            lots = inp.lots.of(holding.symbol)
            assert sum(lot.qty for lot in lots) == holding.qty
            assert all(lot.qty > 0 for lot in lots)
            assert holding.market_value_usd == holding.qty * holding.price_usd
            assert holding.price_usd == holding.price_usd.quantize(Decimal("0.01"))
            if scenario.exact_lots:
                assert len(lots) == scenario.max_lots
            else:
                assert 1 <= len(lots) <= scenario.max_lots
            if not inp.assets[holding.symbol].fractionable:
                assert all(lot.qty == lot.qty.to_integral_value() for lot in lots)


def test_lots_hold_gains_and_losses_short_and_long_term() -> None:
    lots = [
        (inp.prices_usd[symbol], lot, inp.as_of)
        for inp in generate_scenario(EXACT, 5)
        for symbol, symbol_lots in inp.lots.lots.items()
        for lot in symbol_lots
    ]
    assert any(price > lot.cost_per_share_usd for price, lot, _ in lots)
    assert any(price < lot.cost_per_share_usd for price, lot, _ in lots)
    assert any(lot.is_long_term(on) for _, lot, on in lots)
    assert any(not lot.is_long_term(on) for _, lot, on in lots)


def test_a_tiny_run_reports_every_target() -> None:
    text = report([SMALL, Scenario(20, 1, 3, drift_sigma=0.5)], seed=1)
    lines = text.splitlines()
    for tag in ("(a)", "(b)"):
        assert any(line.startswith(("- PASS", "- FAIL")) and tag in line for line in lines)
    for tag in ("(c)", "(d)"):  # the timing sizes are not in this run
        assert any(line.startswith("- SKIP") and tag in line for line in lines)
    for strategy in bench_plans.STRATEGIES:
        assert sum(line.startswith(f"| {strategy.value}") for line in lines) == 2


def test_main_with_quick_prints_the_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_plans, "QUICK_RUN", (Scenario(5, 1, 3),))
    assert bench_plans.main(["--quick", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Planner benchmark")
    assert "## Targets" in out
    assert "(a) tax_aware keeps every asset inside its band" in out


def test_the_whole_share_set_has_only_whole_share_assets_and_its_own_section() -> None:
    whole = Scenario(4, 3, 3, drift_sigma=0.3, whole_share=1.0)
    for inp in generate_scenario(whole, 4):
        assert not any(asset.fractionable for asset in inp.assets.values())
        assert all(h.qty == h.qty.to_integral_value() for h in inp.portfolio.holdings)
    assert generate_scenario(whole, 4) != generate_scenario(Scenario(4, 3, 3, drift_sigma=0.3), 4)
    text = report([whole], seed=2)
    assert "## Whole shares only (3 portfolios)" in text
    for strategy in bench_plans.STRATEGIES:
        assert any(
            line.startswith(f"| {strategy.value} | ") and "/ 3 (" in line
            for line in text.splitlines()
        )
