"""Firestore documents the services write: drift logs and rebalance history.

Percentages and dollar values are numbers (rounded for display and charts); order
quantities and fill prices are decimal strings, exactly as the broker has them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rebalancer.domain.drift import AssetDrift, DriftReport
from rebalancer.domain.models import OrderIntent, OrderResult, Side
from rebalancer.domain.plan import Plan, PlannedTrade
from rebalancer.domain.progress import GoalProgress

PERCENT_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


def pct(value: Decimal | None) -> float | None:
    """A percentage as a number with 4 decimals (None stays None)."""
    return None if value is None else float(value.quantize(PERCENT_PLACES))


def usd(value: Decimal) -> float:
    """A dollar amount as a number in cents."""
    return float(value.quantize(CENT))


def dec(value: Decimal | None) -> str | None:
    """An exact decimal as a string (None stays None)."""
    return None if value is None else format(value.normalize(), "f")


def asset_row(row: AssetDrift) -> dict[str, Any]:
    """One asset's drift, as stored and returned."""
    return {
        "symbol": row.symbol,
        "target_percent": pct(row.target_percent),
        "actual_percent": pct(row.actual_percent),
        "drift_percent": pct(row.drift_percent),
        "relative_drift_percent": pct(row.relative_drift_percent),
        "threshold_percent": pct(row.threshold_percent),
        "market_value": usd(row.market_value_usd),
        "target_value": usd(row.target_value_usd),
        "needs_rebalance": row.breach,
        "critical": row.critical,
        "action": row.action,
    }


def aggregates(report: DriftReport) -> dict[str, Any]:
    """The drift aggregates."""
    return {
        "max_drift_percent": pct(report.max_drift_percent),
        "mean_drift_percent": pct(report.mean_drift_percent),
        "rmse_drift_percent": pct(report.rmse_drift_percent),
        "total_drift_percent": pct(report.total_drift_percent),
    }


def drift_log(
    report: DriftReport, now: datetime, dry_run: bool, plan_id: str | None
) -> dict[str, Any]:
    """`users/{uid}/driftLogs/{id}`: one per check."""
    return {
        "created_at": now,
        "trigger": "manual",
        "dry_run": dry_run,
        "portfolio_value": usd(report.portfolio_value_usd),
        "cash": usd(report.cash_usd),
        "cash_percent": pct(report.cash_percent),
        "assets": [asset_row(row) for row in report.assets],
        **aggregates(report),
        "needs_rebalance": report.needs_rebalance,
        "critical": report.critical,
        "plan_id": plan_id,
    }


def drift_summary(report: DriftReport) -> dict[str, Any]:
    """A drift report inside a plan: per-asset rows and the aggregates."""
    return {
        "portfolio_value": usd(report.portfolio_value_usd),
        "cash": usd(report.cash_usd),
        "assets": [asset_row(row) for row in report.assets],
        **aggregates(report),
        "needs_rebalance": report.needs_rebalance,
    }


def planned_trade(trade: PlannedTrade) -> dict[str, Any]:
    """A trade of a plan, with its estimates."""
    per_point = trade.tax_per_drift_point_usd
    return {
        "symbol": trade.symbol,
        "side": str(trade.side),
        "qty": dec(trade.qty),
        "price": dec(trade.price_usd),
        "estimated_value": usd(trade.estimated_value_usd),
        "estimated_cost": usd(trade.estimated_cost_usd),
        "short_term_gain": usd(trade.short_term_gain_usd),
        "long_term_gain": usd(trade.long_term_gain_usd),
        "estimated_tax": usd(trade.estimated_tax_usd),
        "drift_removed_percent": pct(trade.drift_removed_percent),
        "tax_per_drift_point": None if per_point is None else usd(per_point),
        "reason": trade.reason,
        "fractionable": trade.fractionable,
        "crypto": trade.crypto,
        "drift_percent": pct(trade.drift_percent),
    }


def plan_record(plan: Plan) -> dict[str, Any]:
    """A plan as stored in history and returned by `propose_plan`."""
    return {
        "strategy": plan.strategy.value,
        "trades": [planned_trade(t) for t in plan.trades],
        "notes": [
            {"symbol": n.symbol, "kind": n.kind, "message": n.message, "rule": n.rule}
            for n in plan.notes
        ],
        "totals": {
            "orders": len(plan.trades),
            "buy_value": usd(plan.total("estimated_value_usd", Side.BUY)),
            "sell_value": usd(plan.total("estimated_value_usd", Side.SELL)),
            "turnover": usd(plan.turnover_usd),
            "estimated_cost": usd(plan.total("estimated_cost_usd")),
            "short_term_gain": usd(plan.total("short_term_gain_usd")),
            "long_term_gain": usd(plan.total("long_term_gain_usd")),
            "estimated_tax": usd(plan.estimated_tax_usd),
        },
        "tax_limit_exceeded": plan.tax_limit_exceeded,
        "projected_cash": usd(plan.projected_cash_usd),
        "drift_before": drift_summary(plan.drift_before),
        "drift_after": drift_summary(plan.drift_after),
        "solver": plan.solver,
    }


def order_row(order: OrderResult) -> dict[str, Any]:
    """An order as placed, refused or failed."""
    return {
        "symbol": order.symbol,
        "side": str(order.side),
        "qty": dec(order.qty),
        "notional": dec(order.notional_usd),
        "status": order.status,
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "filled_qty": dec(order.filled_qty),
        "filled_avg_price": dec(order.filled_avg_price_usd),
        "error": order.error,
    }


def outcome(orders: Sequence[OrderResult]) -> str:
    """A one-line summary of what the orders did."""
    placed = sum(1 for o in orders if o.placed)
    if not orders:
        return "Rebalancing needed, but every trade was below the minimum or untradable"
    if placed == len(orders):
        return "Rebalancing executed"
    if placed == 0:
        return "Rebalancing not executed: " + (orders[0].error or orders[0].status)
    return f"Rebalancing partially executed: {placed} of {len(orders)} orders placed"


def proposed(
    plan: Plan,
    now: datetime,
    reason: str,
    cash_to_invest_usd: Decimal = Decimal(0),
    cash_to_raise_usd: Decimal = Decimal(0),
    *,
    account: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`users/{uid}/rebalanceHistory/{planId}` for a plan proposed for review.

    `account` (`account_ref`) is the account the plan was made for: it executes there only.
    """
    return {
        "created_at": now,
        "updated_at": now,
        "reason": reason,
        "status": "proposed",
        "account": dict(account) if account is not None else None,
        "cash_to_invest": usd(cash_to_invest_usd),
        "cash_to_raise": usd(cash_to_raise_usd),
        **plan_record(plan),
        "orders": [],
    }


def account_ref(account_number: str, paper: bool) -> dict[str, Any]:
    """The account a plan is made for, as stored in the plan."""
    return {"account_number": account_number, "paper": paper}


def trade_request(intent: OrderIntent) -> dict[str, Any]:
    """The order fields of one `execute_trade`, as stored (and compared on a keyed retry)."""
    return {
        "symbol": intent.symbol,
        "side": str(intent.side),
        "qty": dec(intent.qty),
        "notional": dec(intent.notional_usd),
        "order_type": str(intent.order_type),
        "time_in_force": str(intent.time_in_force),
        "limit_price": dec(intent.limit_price_usd),
    }


def manual_trade(
    intent: OrderIntent, result: OrderResult, now: datetime, idempotency_key: str | None = None
) -> dict[str, Any]:
    """`users/{uid}/rebalanceHistory/{id}` for one `execute_trade`."""
    entry: dict[str, Any] = {
        "created_at": now,
        "updated_at": now,
        "reason": "Manual trade",
        "strategy": "manual",
        "status": "completed_success" if result.placed else result.status,
        "request": trade_request(intent),
        "orders": [order_row(result)],
    }
    if idempotency_key is not None:
        entry["idempotency_key"] = idempotency_key
    return entry


def holds_order(entry: Mapping[str, Any]) -> bool:
    """True when a stored history entry records an order the broker accepted."""
    orders = entry.get("orders")
    return isinstance(orders, list) and any(
        isinstance(o, Mapping) and o.get("order_id") for o in orders
    )


def progress_record(progress: GoalProgress | None) -> dict[str, Any] | None:
    """Goal progress as stored and returned."""
    if progress is None:
        return None
    return {
        "name": progress.name,
        "progress_percent": float(progress.progress_percent),
        "on_track": progress.on_track,
        "expected_value": float(progress.expected_value_usd),
        "required_monthly_contribution": float(progress.required_monthly_contribution_usd),
        "days_remaining": progress.days_remaining,
    }
