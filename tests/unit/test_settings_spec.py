"""The preferences are declared once in the request schema; the README table and the
stored-settings defaults must agree with it (issue 12: they had drifted apart)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rebalancer import api
from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.settings import UserSettings, settings_from_document, settings_to_document

pytestmark = pytest.mark.unit

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_settings() -> set[str]:
    """The preference names the README's `update_settings` table lists."""
    text = README.read_text()
    table = text[text.index("| preference (`update_settings`)") :]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    rows = rows[: next((i for i, r in enumerate(rows) if not r.startswith("| `")), len(rows))]
    return {name for row in rows for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_the_readme_table_lists_exactly_the_preferences_update_settings_accepts() -> None:
    assert readme_settings() == set(api.UpdateSettingsRequest.model_fields)


def test_every_preference_is_stored_and_read_back_under_its_own_name() -> None:
    stored = settings_to_document(UserSettings())
    accepted = set(api.UpdateSettingsRequest.model_fields)
    assert accepted - set(stored) <= {"goal", "tax_limit_usd"}  # absent when unset
    assert settings_from_document(stored) == UserSettings()


def test_a_stored_cooldown_reads_within_what_update_settings_accepts() -> None:
    api.parse(api.UpdateSettingsRequest, {"cooldown_days": 365})
    with pytest.raises(InvalidInput, match="cooldown_days"):
        api.parse(api.UpdateSettingsRequest, {"cooldown_days": 366})
    assert settings_from_document({"cooldown_days": 365}).schedule.cooldown_days == 365
    default = UserSettings().schedule.cooldown_days
    assert settings_from_document({"cooldown_days": 366}).schedule.cooldown_days == default
