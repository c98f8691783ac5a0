"""The web client's copy of the default policies is the server's (it offers them as boxes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rebalancer.domain.simulation.policies import default_policies, policy_from_spec

pytestmark = pytest.mark.unit

WEB_POLICIES = Path(__file__).resolve().parents[2] / "web" / "src" / "simulation" / "policies.ts"


def web_default_specs() -> list[dict[str, object]]:
    """`DEFAULT_POLICIES` of the web client, read as JSON (it is a plain object literal)."""
    source = WEB_POLICIES.read_text()
    body = re.search(r"DEFAULT_POLICIES[^=]*=\s*(\[.*?\n\]);", source, re.S)
    assert body is not None, "DEFAULT_POLICIES not found in web/src/simulation/policies.ts"
    literal = re.sub(r"(?m)(^|[{,]\s*)(\w+):", r'\1"\2":', body.group(1))
    literal = re.sub(r",(\s*[}\]])", r"\1", literal)
    loaded: list[dict[str, object]] = json.loads(literal)
    return loaded


def test_the_web_client_offers_exactly_the_default_policies() -> None:
    specs = web_default_specs()
    web = [policy_from_spec(spec, f"web.{i}") for i, spec in enumerate(specs)]
    assert web == list(default_policies())
