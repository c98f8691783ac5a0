"""The `rebalancer` console script end to end: the real executable, on the local stack.

Each test sets up its user as the app does (signed up, paper account linked through the
callable, targets set) and runs `functions/venv/bin/rebalancer` as a subprocess with the
emulator environment `firebase emulators:exec` gives (FIRESTORE_EMULATOR_HOST, ...).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.firebase import PROJECT

from .conftest import Client

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("rebalancer")
ANSI = "\033["


@dataclass(frozen=True)
class Ran:
    """A finished CLI run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def one_error_line(self) -> str:
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("rebalancer: error: "), self.err
        assert "Traceback" not in self.err + self.out
        return lines[0]


def rebalancer(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Ran:
    """Run the console script; stdin is not a terminal (a pipe or /dev/null)."""
    assert SCRIPT.exists(), f"{SCRIPT} missing: run scripts/bootstrap"
    assert os.environ.get("FIRESTORE_EMULATOR_HOST"), "run under the emulators"
    done = subprocess.run(
        [str(SCRIPT), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def generated_plan(client: Client, *extra: str) -> dict[str, Any]:
    ran = rebalancer("generate", "--uid", client.user.uid, "--format", "json", *extra)
    assert ran.code == 0, ran
    plan: dict[str, Any] = ran.json()
    return plan


@pytest.fixture
def client(demo_client: Client, stack: Any) -> Client:
    """A user linked to the drifted demo portfolio with targets SPY 40 QQQ 30 TLT 20 GLD 10."""
    return demo_client


def test_check_prints_the_drift_table_with_bars_and_never_trades(client: Client) -> None:
    ran = rebalancer("check", "--uid", client.user.uid)
    assert ran.code == 0, ran
    lines = ran.out.splitlines()
    assert lines[0].split()[:4] == ["symbol", "target", "%", "actual"]
    spy = next(line for line in lines if line.startswith("SPY"))
    assert "+10.05" in spy and "sell" in spy and "CRITICAL" in spy and "|++++" in spy
    qqq = next(line for line in lines if line.startswith("QQQ"))
    assert "-6.33" in qqq and "buy" in qqq and "--|" in qqq
    assert "needs rebalance: yes (critical)" in ran.out
    assert ANSI not in ran.out  # not a terminal: no colour unless asked

    coloured = rebalancer("check", "--uid", client.user.uid, "--color")
    assert "\033[31m" in coloured.out and "\033[32m" in coloured.out

    as_json = rebalancer("check", "--uid", client.user.uid, "--json")
    assert as_json.code == 0, as_json
    answer = as_json.json()
    assert [row["symbol"] for row in answer["drift_analysis"]] == ["SPY", "QQQ", "TLT", "GLD"]
    assert answer["needs_rebalance"] is True and answer["dry_run"] is True
    assert answer["trades_executed"] == [] and answer["drift_log_id"]
    assert client.orders_placed() == 0


def test_generate_prints_the_plan_and_the_basket_as_json_and_csv(
    client: Client, db: Any, tmp_path: Path
) -> None:
    uid = client.user.uid
    table = rebalancer("generate", "--uid", uid, "--strategy", "threshold")
    assert table.code == 0, table
    assert "(threshold, proposed: nothing is placed)" in table.out
    assert "sell  SPY" in table.out and "estimated tax $273.78" in table.out

    as_json = generated_plan(client, "--strategy", "tax_aware", "--basket", str(tmp_path / "b.csv"))
    assert as_json["strategy"] == "tax_aware"
    basket = as_json["basket"]
    assert {row["side"] for row in basket} == {"buy", "sell"}
    assert set(basket[0]) == {
        "plan_id",
        "symbol",
        "side",
        "qty",
        "estimated_value",
        "estimated_tax",
    }
    stored = db.document(f"users/{uid}/rebalanceHistory/{as_json['plan_id']}").get().to_dict()
    assert stored["status"] == "proposed" and stored["strategy"] == "tax_aware"
    written = list(csv.DictReader(io.StringIO((tmp_path / "b.csv").read_text())))
    assert [row["symbol"] for row in written] == [row["symbol"] for row in basket]

    as_csv = rebalancer("generate", "--uid", uid, "--format", "csv", "--invest", "1000")
    assert as_csv.code == 0, as_csv
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert rows and set(rows[0]) == set(basket[0])
    assert all(row["plan_id"] == rows[0]["plan_id"] for row in rows)

    full = rebalancer("generate", "--uid", uid, "--json").json()
    assert full["status"] == "proposed" and "totals" in full and "drift_after" in full
    assert client.orders_placed() == 0


def test_execute_runs_a_generated_plan_and_prints_its_legs(client: Client) -> None:
    uid = client.user.uid
    plan_id = generated_plan(client, "--strategy", "threshold")["plan_id"]

    unconfirmed = rebalancer("execute", "--uid", uid, "--plan", plan_id)
    assert unconfirmed.code == 2
    assert "--yes" in unconfirmed.one_error_line()
    assert client.orders_placed() == 0

    ran = rebalancer("execute", "--uid", uid, "--plan", plan_id, "--yes")
    assert ran.code == 0, ran
    assert ran.out.splitlines()[0] == f"plan {plan_id}: completed_success"
    legs = [line.split() for line in ran.out.splitlines()[2:]]
    assert [leg[:2] for leg in legs] == [["sell", "SPY"], ["buy", "QQQ"], ["buy", "TLT"]]
    assert all(leg[3] == "filled" for leg in legs)
    assert client.orders_placed() == 3

    again = rebalancer("execute", "--uid", uid, "--plan", plan_id, "--yes", "--json")
    assert again.code == 0, again
    answer = again.json()
    assert answer["status"] == "completed_success"
    assert [leg["status"] for leg in answer["legs"]] == ["filled"] * 3
    assert client.orders_placed() == 3  # a finished plan is shown, never run again


def test_kill_switch_off_refuses_execution_then_on_again(client: Client, kill_switch: Any) -> None:
    uid = client.user.uid
    off = rebalancer("kill-switch", "off", "--reason", "e2e drill", "--by", "ops-tester")
    assert off.code == 0, off
    assert off.out.startswith("trading is OFF (kill-switch engaged)")
    stored = kill_switch.get().to_dict()
    assert stored["trading_enabled"] is False and stored["reason"] == "e2e drill"
    assert stored["updated_by"] == "ops-tester" and stored["updated_at"] is not None

    status = rebalancer("kill-switch", "status")
    assert status.code == 0
    assert "trading is OFF (kill-switch engaged)" in status.out
    assert "e2e drill" in status.out and "ops-tester" in status.out
    state = rebalancer("kill-switch", "status", "--json").json()
    assert state["trading"] == "off" and state["kill_switch_engaged"] is True
    assert state["reason"] == "e2e drill" and state["updated_by"] == "ops-tester"
    assert state["updated_at"].startswith("20") and state["project"] == PROJECT

    plan_id = generated_plan(client)["plan_id"]  # a proposal places nothing: allowed
    refused = rebalancer("execute", "--uid", uid, "--plan", plan_id, "--yes")
    assert refused.code == 1
    line = refused.one_error_line()
    assert "trading disabled by the kill-switch: e2e drill" in line and refused.out == ""
    assert client.orders_placed() == 0

    on = rebalancer("kill-switch", "on", "--reason", "drill over", "--by", "ops-tester")
    assert on.code == 0 and on.out.startswith("trading is ON (kill-switch released)")
    assert kill_switch.get().to_dict()["trading_enabled"] is True
    ran = rebalancer("execute", "--uid", uid, "--plan", plan_id, "--yes", "--json")
    assert ran.code == 0, ran
    assert ran.json()["status"] in {"completed_success", "completed_adjusted"}


@pytest.mark.parametrize(
    "document",
    [{"trading_enabled": "true"}, {"trading_enabled": 1}, {"drawdown_recovery_mode": "no"}],
)
def test_status_reads_a_switch_as_the_engine_does_a_wrong_type_is_off(
    kill_switch: Any, document: dict[str, Any]
) -> None:
    kill_switch.set(document)  # written straight to Firestore, not by the CLI
    state = rebalancer("kill-switch", "status", "--json").json()
    assert state["trading"] == "off" and state["kill_switch_engaged"] is True


def test_nightly_runs_one_users_night(client: Client, db: Any) -> None:
    uid = client.user.uid
    off = rebalancer("nightly", "--uid", uid, "--json")
    assert off.code == 1
    assert "rebalancing is off" in off.one_error_line()
    assert off.json()["skipped"] == "rebalancing is off"  # one document: the answer

    client.ok("update_settings", {"rebalancing_enabled": True})
    ran = rebalancer("nightly", "--uid", uid, "--json")
    assert ran.code == 0, ran
    night = ran.json()
    assert night["skipped"] is None and night["due"] is True
    assert night["reason"] and night["plan_status"] == "proposed"
    log = db.document(f"users/{uid}/driftLogs/{night['drift_log_id']}").get()
    assert log.exists and log.to_dict()["plan_id"] == night["plan_id"]
    assert db.document(night["alert"]).get().exists  # auto_execute off: an alert
    assert client.orders_placed() == 0

    text = rebalancer("nightly", "--uid", uid)
    assert text.code == 0, text
    assert f"drift log: {night['drift_log_id']}" in text.out
    assert "decision: not due: already ran today" in text.out  # once a trading day


def test_bad_input_is_one_line_and_exit_2(client: Client) -> None:
    uid = client.user.uid
    for args in [
        ("generate", "--uid", uid, "--invest", "-5"),
        ("generate", "--uid", uid, "--strategy", "yolo"),
        ("check",),
        ("kill-switch", "sideways"),
        ("nightly", "--uid", uid, "--night", "2024-13-01"),
        ("frobnicate",),
    ]:
        ran = rebalancer(*args)
        assert ran.code == 2, (args, ran)
        ran.one_error_line()
        assert ran.out == ""


def test_unknown_plan_and_missing_broker_exit_3(client: Client, new_client: Any) -> None:
    ran = rebalancer("execute", "--uid", client.user.uid, "--plan", "no-such-plan", "--yes")
    assert ran.code == 3, ran
    assert "plan no-such-plan not found" in ran.one_error_line()

    unlinked = new_client()
    ran = rebalancer("check", "--uid", unlinked.user.uid, "--json")
    assert ran.code == 3, ran
    assert "link_broker" in ran.one_error_line()
    assert ran.json()["error"]["exit_code"] == 3


def test_an_unreachable_emulator_is_exit_4() -> None:
    ran = rebalancer("kill-switch", "status", env={"FIRESTORE_EMULATOR_HOST": "127.0.0.1:9"})
    assert ran.code == 4, ran
    assert "127.0.0.1:9 is unreachable" in ran.one_error_line()


def test_simulate_prints_the_policies_and_the_recommendation(client: Client, db: Any) -> None:
    uid = client.user.uid
    ran = rebalancer(
        "simulate", "--uid", uid, "--years", "2", "--policy", "threshold:5",
        "--policy", "calendar:quarterly/full", "--policy", "none",
    )  # fmt: skip
    assert ran.code == 0, ran
    assert "threshold:5" in ran.out and "calendar:quarterly/full" in ran.out
    assert "recommended (*): " in ran.out and "why: " in ran.out
    stored_line = ran.out.splitlines()[-1]
    assert stored_line.startswith(f"stored: users/{uid}/simulations/")
    assert db.document(stored_line.removeprefix("stored: ")).get().exists

    as_json = rebalancer("simulate", "--uid", uid, "--years", "2", "--json", "--no-save")
    assert as_json.code == 0, as_json
    answer = as_json.json()
    assert answer["simulation_id"] is None and len(answer["results"]) >= 10
    names = {r["policy"]["name"] for r in answer["results"]}
    assert answer["recommendation"]["best"] in names

    bad = rebalancer("simulate", "--uid", uid, "--policy", "threshold:500")
    assert bad.code == 2, bad
    assert "threshold_percent" in bad.one_error_line()
