"""The README's preferences table, rendered from `PREFERENCES` (print it to regenerate).

`functions/venv/bin/python -m devstack.settings_table` prints the table; README.md holds
it verbatim and tests/unit/test_settings_spec.py fails when the two differ.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from rebalancer.domain.settings import GOAL_FIELDS, PREFERENCES, Kind, Preference

HEADER = (
    "| preference (`update_settings`) | default | accepted | what it does |\n"
    "| --- | --- | --- | --- |\n"
)


def table() -> str:
    """The whole table, header included, one row per preference, ending in a newline."""
    return HEADER + "".join(_row(p) for p in PREFERENCES)


def _row(preference: Preference) -> str:
    cells = [
        f"`{preference.name}`",
        _value(preference.default),
        _accepted(preference),
        preference.description,
    ]
    return "| " + " | ".join(cells) + " |\n"


def _value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, StrEnum):
        return f"`{value.value}`"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float | int):
        return _number(Decimal(str(value)))
    return str(value)


def _number(value: Decimal) -> str:
    # 1,000,000 rather than 1E+6; 0.35 stays 0.35.
    plain = value.normalize()
    return f"{plain:,f}" if plain == plain.to_integral_value() else f"{plain:f}"


def _accepted(preference: Preference) -> str:
    kind = preference.kind
    if kind is Kind.BOOLEAN:
        text = "`true` or `false`"
    elif kind is Kind.CHOICE:
        names = [f"`{c.value}`" for c in preference.choices]
        text = ", ".join(names[:-1]) + " or " + names[-1]
    elif kind is Kind.GOAL:
        text = "`{" + ", ".join(GOAL_FIELDS) + "}`"
    else:
        low, high = preference.low, preference.high
        assert low is not None and high is not None, preference.name
        between = f"[{_number(low)}, {_number(high)}]"
        text = f"0 or {between}" if preference.zero_allowed else between
        if kind is Kind.INTEGER:
            text += " (whole)"
    return text + (" or `null`" if preference.nullable else "")


if __name__ == "__main__":
    print(table(), end="")
