"""Answers as JSON: the same field names the callables answer with (`adapters.documents`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rebalancer.domain.models import OrderResult
    from rebalancer.service.drift_check import DriftCheckResult
    from rebalancer.service.proposals import Proposal

INTERNAL_FIELDS = {"lease_holder", "lease_expires_at"}


def order(result: OrderResult) -> dict[str, Any]:
    """An order of a drift check's plan."""
    return {
        "symbol": result.symbol,
        "side": str(result.side),
        "qty": None if result.qty is None else float(result.qty),
        "order_id": result.order_id,
        "status": result.status,
        "filled_qty": float(result.filled_qty),
        "error": result.error,
    }


def drift_check(result: DriftCheckResult) -> dict[str, Any]:
    """`check_rebalance_drift`'s fields (a dry run here: never any orders)."""
    from rebalancer.adapters import documents

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
        "drift_log_id": result.drift_log_id,
        "plan_id": result.plan_id,
        "goal_progress": documents.progress_document(result.goal_progress),
    }


def proposal(result: Proposal) -> dict[str, Any]:
    """`propose_plan`'s fields: the stored plan and its id."""
    from rebalancer.adapters import documents

    return {"plan_id": result.plan_id, "status": "proposed", **documents.plan_fields(result.plan)}


def plan_document(plan_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored plan as JSON (`get_plan`'s fields): timestamps ISO, lease bookkeeping out."""
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
