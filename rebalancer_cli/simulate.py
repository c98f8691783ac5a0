"""`rebalancer simulate`: what-if rebalancing policies on the user's own portfolio.

A `--policy SPEC` is either `key=value` pairs (the fields of `policy_from_spec`:
`name`, `trigger`, `frequency`, `threshold_percent`, `drift_method`, `strategy`), e.g.
`trigger=threshold,threshold_percent=3,strategy=band`, or a shorthand
`TRIGGER[:ARG...][/STRATEGY]`: `threshold:5`, `threshold:20:relative/band`,
`calendar:quarterly/full`, `combined:annually:5`, `none` (buy and hold). A number is the
threshold, a frequency name the calendar, `relative`/`absolute` the drift method. The
spec itself is the policy's name unless `name=` says otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from rebalancer_cli.failures import Exit
from rebalancer_cli.output import Column, Out, money, number, table
from rebalancer_cli.wiring import Target, ports

FREQUENCIES = {"weekly", "monthly", "quarterly", "annually"}
METHODS = {"absolute", "relative"}
HOLD = {"none", "never", "hold", "manual"}


def spec_fields(spec: str) -> dict[str, object]:
    """The plain fields of one `--policy` (validated later by `policies_from_specs`)."""
    text = spec.strip()
    if "=" in text:
        fields: dict[str, object] = {"name": text}
        for pair in text.split(","):
            key, _, value = pair.partition("=")
            fields[key.strip()] = value.strip()
        return fields
    body, _, strategy = text.partition("/")
    trigger, *rest = [part.strip() for part in body.split(":")]
    trigger = trigger.lower()
    fields = {"name": text, "trigger": "manual" if trigger in HOLD else trigger}
    if strategy:
        fields["strategy"] = strategy.strip()
    for arg in rest:
        if arg.lower() in FREQUENCIES:
            fields["frequency"] = arg.lower()
        elif arg.lower() in METHODS:
            fields["drift_method"] = arg.lower()
        else:
            fields["threshold_percent"] = arg  # a number, checked by the domain
    return fields


def run(args: argparse.Namespace, target: Target, out: Out) -> Exit:
    """Replay the history under each policy (`simulate_for_user`), store the run, show it."""
    from rebalancer.adapters.documents import simulation_report_document
    from rebalancer.domain.simulation.policies import policies_from_specs
    from rebalancer.service.simulations import simulate_for_user

    policies = None
    if args.policy:
        policies = policies_from_specs([spec_fields(s) for s in args.policy], "policy")
    result = simulate_for_user(
        args.uid,
        ports(target),
        years=args.years,
        policies=policies,
        monthly_flow_usd=args.monthly,
        save=not args.no_save,
    )
    answer = {
        "uid": args.uid,
        "simulation_id": result.simulation_id,
        **simulation_report_document(result.report),
    }
    if out.json:
        out.document(answer)
    else:
        print_report(answer, args, out)
    return Exit.OK


COLUMNS = [
    Column(""),
    Column("policy"),
    Column("rebalances", right=True),
    Column("orders", right=True),
    Column("turnover", right=True),
    Column("costs", right=True),
    Column("tax paid", right=True),
    Column("harvested", right=True),
    Column("track. err %", right=True),
    Column("max drift", right=True),
    Column("after-tax value", right=True),
    Column("score", right=True),
]


def print_report(answer: dict[str, Any], args: argparse.Namespace, out: Out) -> None:
    """The policies table, the recommendation, and the look ahead."""
    best = answer["recommendation"]
    marks = {best["best"]: "*", best["runner_up"]: "2"}
    out.line(
        f"{args.years}-year what-if for {answer['uid']}: {answer['days']} trading days, "
        f"{len(answer['results'])} policies ({answer['seconds']:.1f} s)"
    )
    table(
        COLUMNS,
        (
            [
                marks.get(r["policy"]["name"], ""),
                r["policy"]["name"],
                str(r["rebalances"]),
                str(r["orders"]),
                money(r["turnover"]),
                money(r["costs"]),
                money(r["tax_paid"]),
                money(r["losses_harvested"]),
                number(r["tracking_error_percent"]),
                number(r["max_drift_percent"]),
                money(r["after_tax_ending_value"]),
                money(r["score"]),
            ]
            for r in answer["results"]
        ),
        out,
    )
    runner = (
        f"; runner-up {best['runner_up']}, {money(best['gap'])} behind" if best["runner_up"] else ""
    )
    out.line(f"recommended (*): {best['best']}{runner}")
    out.line(f"why: {best['reason']}")
    forward = answer.get("forward")
    if forward:
        out.line(
            f"ahead ({forward['paths']} paths, seed {forward['seed']}): any band breached "
            f"within 30 days {percent(forward['any_breach_within_30_days'])}, "
            f"within 90 days {percent(forward['any_breach_within_90_days'])}"
        )
        for band in forward["assets"]:
            days = band["expected_days_to_breach"]
            expected = "beyond the horizon" if days is None else f"~{days:.0f} days"
            out.line(
                f"  {band['symbol']:<6} 30d {percent(band['breach_within_30_days']):>6}  "
                f"90d {percent(band['breach_within_90_days']):>6}  next breach {expected}"
            )
    if answer["simulation_id"]:
        out.line(f"stored: users/{answer['uid']}/simulations/{answer['simulation_id']}")


def percent(probability: float) -> str:
    """0.123 as 12.3 %."""
    return f"{probability * 100:.1f} %"
