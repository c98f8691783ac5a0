"""A simulation as kept in the user's history (`simulate_rebalancing`'s runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rebalancer.domain.simulation.model import SimulationReport


@dataclass(frozen=True)
class StoredSimulation:
    """One run: what was asked (years, cash flow, template) and what it answered."""

    report: SimulationReport
    created_at: datetime
    years: int
    first_day: date
    last_day: date
    monthly_flow_usd: Decimal
    template_value_usd: Decimal | None = None
