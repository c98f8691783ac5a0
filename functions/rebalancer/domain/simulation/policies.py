"""The policies a simulation compares: a default set, and a validated one from plain data.

The default set follows the questions research asks of rebalancing (Vanguard, "Best
practices for portfolio rebalancing"): never, calendar resets of every frequency, drift
thresholds of several widths (absolute and relative), calendar-or-threshold combined,
trading to the band's edge instead of the target, and the tax-aware planner. The
schedule has no semiannual frequency (`schedule.Frequency`), so none is offered;
"annual check, 5 % bands" (Vanguard's suggested default) is the annual calendar with
the `threshold` strategy: on the check day only assets outside their band trade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from rebalancer.domain.drift import DriftMethod
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.schedule import Frequency, ScheduleSettings, Trigger
from rebalancer.domain.settings import Strategy
from rebalancer.domain.simulation.model import Policy

MAX_POLICIES = 20
MAX_NAME = 60
MIN_THRESHOLD = Decimal("0.01")
MAX_THRESHOLD = Decimal(100)
E = TypeVar("E", bound=StrEnum)
SPEC_FIELDS = ("name", "trigger", "frequency", "threshold_percent", "drift_method", "strategy")


def _policy(
    name: str,
    trigger: Trigger,
    strategy: Strategy,
    *,
    frequency: Frequency = Frequency.MONTHLY,
    threshold: int = 5,
    method: DriftMethod = DriftMethod.ABSOLUTE,
) -> Policy:
    schedule = ScheduleSettings(trigger=trigger, frequency=frequency)
    return Policy(name, schedule, strategy, Decimal(threshold), method)


def default_policies() -> tuple[Policy, ...]:
    """The comparison set a simulation runs when none is given (13 policies).

    Calendar resets trade everything back to target (`full`); threshold policies watch
    the bands every trading day and trade only what left its band (`threshold`), or only
    back to the band's edge (`band`), or the least tax that restores the bands
    (`tax_aware`).

    Returns:
        The policies, buy-and-hold first; the first 12 are the benchmark's set.
    """
    cal, thr, comb = Trigger.CALENDAR, Trigger.THRESHOLD, Trigger.COMBINED
    rel = DriftMethod.RELATIVE
    return (
        _policy("never (buy and hold)", Trigger.MANUAL, Strategy.THRESHOLD),
        _policy("monthly to target", cal, Strategy.FULL, frequency=Frequency.MONTHLY),
        _policy("quarterly to target", cal, Strategy.FULL, frequency=Frequency.QUARTERLY),
        _policy("annually to target", cal, Strategy.FULL, frequency=Frequency.ANNUALLY),
        _policy("threshold 3 % absolute", thr, Strategy.THRESHOLD, threshold=3),
        _policy("threshold 5 % absolute", thr, Strategy.THRESHOLD, threshold=5),
        _policy("threshold 10 % absolute", thr, Strategy.THRESHOLD, threshold=10),
        _policy("threshold 20 % relative", thr, Strategy.THRESHOLD, threshold=20, method=rel),
        _policy("threshold 25 % relative", thr, Strategy.THRESHOLD, threshold=25, method=rel),
        _policy("annually or 5 %, to target", comb, Strategy.FULL, frequency=Frequency.ANNUALLY),
        _policy("5 % band, to its edge", thr, Strategy.BAND),
        _policy("tax-aware, 5 % band", thr, Strategy.TAX_AWARE),
        _policy("annual check, 5 % bands", cal, Strategy.THRESHOLD, frequency=Frequency.ANNUALLY),
    )


def policy_from_spec(spec: Mapping[str, object], field: str = "policy") -> Policy:
    """A policy from plain data (a request's or the CLI's), every field validated.

    Args:
        spec: `name` (text, required), `trigger` (threshold, calendar, combined or manual;
            required), `frequency` (weekly, monthly, quarterly or annually; default
            monthly), `threshold_percent` (a number in [0.01, 100]; default 5),
            `drift_method` (absolute or relative; default absolute), `strategy` (full,
            threshold, band, cash_flow or tax_aware; default threshold).
        field: The request field the spec came from, prefixed to every error's field
            (`policies.2`).

    Returns:
        The policy.

    Raises:
        InvalidInput: The spec is not a mapping, has an unknown key, or a field is missing,
            of the wrong type, not finite or out of range; the error names the field
            (`policies.2.threshold_percent`).
    """
    if not isinstance(spec, Mapping):
        raise InvalidInput(field, "must be an object")
    unknown = sorted(str(k) for k in spec if k not in SPEC_FIELDS)
    if unknown:
        raise InvalidInput(
            f"{field}.{unknown[0]}", f"unknown field (known: {', '.join(SPEC_FIELDS)})"
        )
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{field}.name", "must be a non-empty string")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{field}.name", f"must be at most {MAX_NAME} characters")
    if "trigger" not in spec:
        raise InvalidInput(f"{field}.trigger", "is required")
    trigger = _choice(spec, "trigger", Trigger, None, field)
    frequency = _choice(spec, "frequency", Frequency, Frequency.MONTHLY, field)
    method = _choice(spec, "drift_method", DriftMethod, DriftMethod.ABSOLUTE, field)
    strategies = tuple(s for s in Strategy if s is not Strategy.AUTO)
    strategy = _choice(spec, "strategy", Strategy, Strategy.THRESHOLD, field, strategies)
    threshold = _threshold(spec.get("threshold_percent", 5), f"{field}.threshold_percent")
    schedule = ScheduleSettings(trigger=Trigger(trigger), frequency=Frequency(frequency))
    return Policy(name.strip(), schedule, Strategy(strategy), threshold, DriftMethod(method))


def policies_from_specs(specs: object, field: str = "policies") -> tuple[Policy, ...]:
    """Policies from a list of specs (1 to 20, distinct names).

    Args:
        specs: A list of `policy_from_spec` mappings.
        field: The request field, prefixed to every error's field.

    Returns:
        The policies, in the given order.

    Raises:
        InvalidInput: Not a list, empty, more than 20, a bad spec, or a repeated name.
    """
    if not isinstance(specs, list | tuple):
        raise InvalidInput(field, "must be a list of policies")
    if not 1 <= len(specs) <= MAX_POLICIES:
        raise InvalidInput(field, f"must hold 1 to {MAX_POLICIES} policies")
    policies = tuple(policy_from_spec(s, f"{field}.{i}") for i, s in enumerate(specs))
    names = [p.name for p in policies]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InvalidInput(f"{field}.{i}.name", f"{name!r} is used twice")
    return policies


def policy_spec(policy: Policy) -> dict[str, object]:
    """A policy as plain data (what `policy_from_spec` reads back)."""
    return {
        "name": policy.name,
        "trigger": policy.schedule.trigger.value,
        "frequency": policy.schedule.frequency.value,
        "threshold_percent": float(policy.threshold_percent),
        "drift_method": policy.drift_method.value,
        "strategy": policy.strategy.value,
    }


def _choice(
    spec: Mapping[str, object],
    key: str,
    kind: type[E],
    default: E | None,
    field: str,
    allowed: tuple[E, ...] | None = None,
) -> E:
    options = allowed if allowed is not None else tuple(kind)
    if key not in spec and default is not None:
        return default
    value = spec.get(key)
    chosen = [o for o in options if isinstance(value, str) and o.value == value]
    if not chosen:
        names = ", ".join(o.value for o in options)
        raise InvalidInput(f"{field}.{key}", f"must be one of {names}, got {value!r}")
    return chosen[0]


def _threshold(value: object, field: str) -> Decimal:
    # A bool is an int to Python, but `true` is no threshold.
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidInput(field, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(field, "must be a finite number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(field, "must be a number") from None
    if not number.is_finite():
        raise InvalidInput(field, "must be a finite number")
    if not MIN_THRESHOLD <= number <= MAX_THRESHOLD:
        raise InvalidInput(field, f"must be from {MIN_THRESHOLD} to {MAX_THRESHOLD}")
    return number
