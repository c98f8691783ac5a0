"""Results as the callables return them (DESIGN.md section 4 keeps the field names)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rebalancer.adapters import documents
from rebalancer.domain.models import OrderResult, Target
from rebalancer.domain.settings import UserSettings, settings_to_document
from rebalancer.service.drift_check import DriftCheckResult
from rebalancer.service.linking import LinkedAccount
from rebalancer.service.proposals import Proposal
from rebalancer.service.schedule_state import ScheduleState
from rebalancer.service.simulations import SimulationRun
from rebalancer.service.status import AppStatus


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def order(result: OrderResult) -> dict[str, Any]:
    """An order confirmation (numbers as JSON numbers, ids as strings)."""
    return {
        "symbol": result.symbol,
        "side": str(result.side),
        "qty": _num(result.qty),
        "notional": _num(result.notional_usd),
        "order_id": result.order_id,
        "client_order_id": result.client_order_id,
        "status": result.status,
        "filled_qty": _num(result.filled_qty),
        "filled_avg_price": _num(result.filled_avg_price_usd),
        "error": result.error,
    }


def drift_check(result: DriftCheckResult) -> dict[str, Any]:
    """`check_rebalance_drift`'s answer: the contract's fields, then additions."""
    report = result.report
    return {
        "needs_rebalance": report.needs_rebalance,
        "drift_analysis": [documents.asset_row(row) for row in report.assets],
        "trades_executed": [order(o) for o in result.orders if o.placed],
        "portfolio_value": documents.usd(report.portfolio_value_usd),
        "message": result.message,
        "dry_run": result.dry_run,
        "cash": documents.usd(report.cash_usd),
        "cash_percent": documents.pct(report.cash_percent),
        "critical": report.critical,
        **documents.aggregates(report),
        "trades_not_executed": [order(o) for o in result.orders if not o.placed],
        "trades_skipped": [
            {"symbol": n.symbol, "kind": n.kind, "reason": n.message, "rule": n.rule}
            for n in (result.plan.notes if result.plan else ())
        ],
        "strategy": result.plan.strategy.value if result.plan else None,
        "estimated_tax": documents.usd(result.plan.estimated_tax_usd) if result.plan else 0.0,
        "drift_log_id": result.drift_log_id,
        "plan_id": result.plan_id,
        "goal_progress": documents.progress_document(result.goal_progress),
    }


def targets(items: list[Target]) -> dict[str, Any]:
    """The allocation."""
    return {
        "allocations": [
            {
                "symbol": t.symbol,
                "target_percent": float(t.target_percent),
                "threshold_percent": _num(t.threshold_percent),
                "enabled": t.enabled,
                "substitutes": list(t.substitutes),
            }
            for t in items
        ]
    }


def linked(account: LinkedAccount) -> dict[str, Any]:
    """A linked account, without credentials."""
    return {
        "linked": True,
        "account_number": account.account_number,
        "status": account.status,
        "paper": account.paper,
    }


def proposal(result: Proposal) -> dict[str, Any]:
    """`propose_plan`'s answer: the stored plan and its id."""
    return {"plan_id": result.plan_id, "status": "proposed", **documents.plan_fields(result.plan)}


def settings(value: UserSettings) -> dict[str, Any]:
    """The user's preferences, every field with its current value."""
    return settings_to_document(value)


def schedule(state: ScheduleState) -> dict[str, Any]:
    """`get_schedule`'s answer."""
    settings = state.settings
    last = settings.last_auto_run_on
    return {
        "rebalancing_enabled": settings.rebalancing_enabled,
        "paused": settings.paused,
        "auto_execute": settings.auto_execute,
        "trigger": settings.schedule.trigger.value,
        "calendar_frequency": settings.schedule.frequency.value,
        "next_calendar_date": _iso(state.next_calendar_date),
        "days_until_next": state.days_until_next,
        "last_run_on": _iso(last),
        "cooldown_until": _iso(state.cooldown_until),
        "threshold_breach_pending": state.threshold_breach_pending,
        "max_drift_percent": documents.pct(state.max_drift_percent),
        "goal_progress": documents.progress_document(state.goal_progress),
    }


def simulation(run: SimulationRun) -> dict[str, Any]:
    """`simulate_rebalancing`'s answer: the stored id, every policy, the recommendation."""
    return {
        "simulation_id": run.simulation_id,
        **documents.simulation_report_document(run.report),
    }


def app_status(value: AppStatus) -> dict[str, Any]:
    """`get_status`'s answer: the trading state and the link, never credentials."""
    link = value.link
    return {
        "trading_enabled": value.trading_enabled,
        "trading_message": value.trading_message,
        "broker_linked": link is not None,
        "account_number": link.account_number if link else None,
        "paper": link.paper if link else None,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


INTERNAL_FIELDS = {"lease_holder", "lease_expires_at"}


def plan_document(plan_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored plan as JSON: timestamps as ISO strings, lease bookkeeping left out."""
    return {
        "plan_id": plan_id,
        **_json({k: v for k, v in record.items() if k not in INTERNAL_FIELDS}),
    }


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value
