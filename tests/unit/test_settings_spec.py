"""The preferences are declared once (`PREFERENCES`); the request schema, the stored
document and the README table are derived from it (issue 12: they had drifted apart)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from devstack import settings_table
from rebalancer import api
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.settings import (
    GOAL_FIELDS,
    PREFERENCES,
    SETTING_RANGES,
    Kind,
    Strategy,
    UserSettings,
    settings_from_document,
    settings_to_document,
)

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"
NUMBERS = [p for p in PREFERENCES if p.kind in (Kind.NUMBER, Kind.INTEGER)]


def test_the_readme_holds_the_table_rendered_from_the_declaration() -> None:
    table = settings_table.table()
    assert table in README.read_text(), (
        "README's preferences table is stale: paste the output of "
        "`functions/venv/bin/python -m devstack.settings_table`"
    )
    assert table.count("\n") == len(PREFERENCES) + 2


def test_update_settings_accepts_exactly_the_declared_preferences() -> None:
    assert list(api.UpdateSettingsRequest.model_fields) == [p.name for p in PREFERENCES]
    assert len({p.name for p in PREFERENCES}) == len(PREFERENCES)


def test_the_document_holds_every_preference_under_its_field_and_reads_back() -> None:
    stored = settings_to_document(UserSettings())
    assert list(stored) == [p.document_field for p in PREFERENCES]
    assert settings_from_document(stored) == UserSettings()
    assert settings_from_document({}) == UserSettings()


def test_every_declared_default_is_what_a_new_user_reads() -> None:
    empty = settings_to_document(settings_from_document({}))
    for preference in PREFERENCES:
        assert empty[preference.document_field] == preference.write(preference.default)
        if preference.kind is Kind.NUMBER and preference.default is not None:
            assert preference.accepts(Decimal(str(preference.default))), preference.name


@pytest.mark.parametrize("preference", NUMBERS, ids=lambda p: p.name)
def test_the_request_and_the_stored_reader_agree_on_every_bound(preference: Any) -> None:
    low, high = preference.low, preference.high
    unit = Decimal(1) if preference.kind is Kind.INTEGER else Decimal("0.001")
    edges = [low, high] + ([Decimal(0)] if preference.zero_allowed else [])
    outside = [high + unit, low - unit] + ([unit] if preference.zero_allowed else [])
    number = int if preference.kind is Kind.INTEGER else float
    for value in edges:
        sent = {preference.name: number(value)}
        assert api.parse(api.UpdateSettingsRequest, sent).changes() == sent
        read = settings_to_document(settings_from_document(sent))
        assert read[preference.document_field] == number(value), value
    for value in outside:
        with pytest.raises(InvalidInput, match=f"^{preference.name}: "):
            api.parse(api.UpdateSettingsRequest, {preference.name: number(value)})
        read = settings_to_document(settings_from_document({preference.name: number(value)}))
        assert read == settings_to_document(UserSettings()), value


@pytest.mark.parametrize("preference", PREFERENCES, ids=lambda p: p.name)
def test_every_refusal_names_the_field_and_what_it_expected(preference: Any) -> None:
    wrong: object = [1] if preference.kind is Kind.GOAL else {"x": 1}
    with pytest.raises(InvalidInput) as refused:
        api.parse(api.UpdateSettingsRequest, {preference.name: wrong})
    expected = {
        Kind.NUMBER: "must be a number",
        Kind.INTEGER: "must be a whole number",
        Kind.BOOLEAN: "must be a boolean",
        Kind.CHOICE: "Input should be " + ", ".join(f"'{c}'" for c in preference.choices[:-1]),
        Kind.GOAL: "must be an object",
    }[preference.kind]
    assert str(refused.value).startswith(f"{preference.name}: {expected}"), str(refused.value)


def test_a_null_is_refused_except_where_null_means_none() -> None:
    for preference in PREFERENCES:
        if preference.nullable:
            assert api.parse(api.UpdateSettingsRequest, {preference.name: None}).changes() == {
                preference.name: None
            }
        else:
            with pytest.raises(InvalidInput, match=f"^{preference.name}: must not be null"):
                api.parse(api.UpdateSettingsRequest, {preference.name: None})


def test_the_strategy_choices_are_the_enum_less_auto_and_a_stored_auto_is_not_read() -> None:
    (strategy,) = [p for p in PREFERENCES if p.name == "strategy"]
    assert set(strategy.choices) == set(Strategy) - {Strategy.AUTO}
    with pytest.raises(InvalidInput, match=r"^strategy: Input should be 'full'"):
        api.parse(api.UpdateSettingsRequest, {"strategy": "auto"})
    assert settings_from_document({"strategy": "auto"}).strategy is Strategy.THRESHOLD


def test_every_choice_is_an_enum_and_reads_as_its_member() -> None:
    for preference in (p for p in PREFERENCES if p.kind is Kind.CHOICE):
        kind = type(preference.choices[0])
        for choice in preference.choices:
            read = preference.read(choice.value)
            assert type(read) is kind and read is choice
        assert preference.read(["unhashable"]) == preference.default


def test_odd_stored_values_take_the_default_instead_of_failing() -> None:
    odd: list[object] = [math.nan, math.inf, -math.inf, "seven", True, [1], {"a": 1}, 1e300]
    for preference in PREFERENCES:
        halves = [1.5] if preference.kind is Kind.INTEGER else []
        for value in [*odd, -1e300, *halves]:
            if preference.kind is Kind.BOOLEAN and value is True:
                continue
            read = settings_from_document({preference.document_field: value})
            assert settings_to_document(read) == settings_to_document(UserSettings()), (
                preference.name,
                value,
            )


def test_an_unreadable_tax_limit_means_no_limit_and_a_stored_one_is_kept() -> None:
    assert settings_from_document({"tax_limit_usd": "abc"}).tax.tax_limit_usd is None
    assert settings_from_document({"tax_limit_usd": -5}).tax.tax_limit_usd is None
    assert settings_from_document({"tax_limit_usd": 0}).tax.tax_limit_usd == 0
    assert settings_from_document({"tax_limit_usd": 500}).tax.tax_limit_usd == 500


def test_a_stored_fill_wait_outside_what_update_settings_accepts_takes_the_default() -> None:
    assert settings_from_document({"fill_wait_seconds": 300}).execution.fill_wait_s == 300.0
    assert settings_from_document({"fill_wait_seconds": 1e25}).execution.fill_wait_s == 20.0
    assert isinstance(settings_from_document({"fill_wait_seconds": 3}).execution.fill_wait_s, float)


def test_a_stored_cooldown_reads_within_what_update_settings_accepts() -> None:
    api.parse(api.UpdateSettingsRequest, {"cooldown_days": 365})
    with pytest.raises(InvalidInput, match="cooldown_days"):
        api.parse(api.UpdateSettingsRequest, {"cooldown_days": 366})
    assert settings_from_document({"cooldown_days": 365}).schedule.cooldown_days == 365
    default = UserSettings().schedule.cooldown_days
    assert settings_from_document({"cooldown_days": 366}).schedule.cooldown_days == default


def test_the_goal_fields_are_those_the_request_accepts() -> None:
    assert [f.rstrip("?") for f in GOAL_FIELDS] == list(api.GoalIn.model_fields)
    required = {n for n, f in api.GoalIn.model_fields.items() if f.is_required()}
    assert {f for f in GOAL_FIELDS if not f.endswith("?")} == required


def test_a_goal_priority_is_stored_as_text_and_an_unknown_one_reads_as_medium() -> None:
    goal = {"name": "House", "target_amount": 1000, "target_date": "2030-01-01"}
    sent = api.parse(api.UpdateSettingsRequest, {"goal": {**goal, "priority": "high"}}).changes()
    assert sent == {"goal": {**goal, "target_amount": 1000.0, "priority": "high"}}
    assert type(sent["goal"]["priority"]) is str  # type: ignore[index]
    read = settings_from_document({"goal": {**goal, "priority": "urgent"}}).goal
    assert read is not None and read.priority == "medium"


def test_the_ranges_other_modules_read_are_the_declared_ones() -> None:
    for preference in PREFERENCES:
        if preference.kind is Kind.NUMBER:
            low = Decimal(0) if preference.zero_allowed else preference.low
            assert SETTING_RANGES[preference.name] == (low, preference.high)


def test_the_settings_schema_is_built_on_first_use_not_on_import() -> None:
    import subprocess
    import sys

    code = (
        "import rebalancer.api as a\n"
        "assert a._update_settings_request.cache_info().currsize == 0\n"
        "a.UpdateSettingsRequest\n"
        "assert a._update_settings_request.cache_info().currsize == 1\n"
    )
    functions = Path(__file__).resolve().parents[2] / "functions"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=functions)
