"""The stored documents' shapes: drift logs, plans and their legs, trades, alerts, nights.

The only module that knows field names of `users/{uid}/...` documents (the settings and
allocation documents are `domain/settings.py`'s and `domain/allocation_rules.py`'s).
Percentages and dollar values are numbers (rounded for display and charts); order
quantities and fill prices are decimal strings, exactly as the broker has them. The
callables answer with the same shapes (`entrypoints/responses.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rebalancer.domain.drift import AssetDrift, DriftReport
from rebalancer.domain.drift_log import DriftAlert, DriftLogEntry, FanOutSummary, NightRecord
from rebalancer.domain.errors import PreconditionFailed
from rebalancer.domain.execution import Leg, LegStatus, PlanStatus, client_order_id
from rebalancer.domain.models import (
    ZERO,
    OrderIntent,
    OrderResult,
    OrderType,
    Side,
    TimeInForce,
)
from rebalancer.domain.plan import Plan, PlannedTrade
from rebalancer.domain.plan_record import (
    AccountRef,
    ExecutionLease,
    LeaseHold,
    NewPlan,
    PlanChanges,
    PlanRecord,
)
from rebalancer.domain.progress import GoalProgress
from rebalancer.domain.settings import Strategy
from rebalancer.domain.simulation.model import (
    ForwardView,
    Policy,
    PolicyResult,
    SimulationReport,
)
from rebalancer.domain.simulation_record import StoredSimulation
from rebalancer.domain.trade_record import ManualTrade, RecordedTrade

PERCENT_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")
Doc = Mapping[str, Any]


def pct(value: Decimal | None) -> float | None:
    """A percentage as a number with 4 decimals (None stays None)."""
    return None if value is None else float(value.quantize(PERCENT_PLACES))


def usd(value: Decimal) -> float:
    """A dollar amount as a number in cents."""
    return float(value.quantize(CENT))


def dec(value: Decimal | None) -> str | None:
    """An exact decimal as a string (None stays None)."""
    return None if value is None else format(value.normalize(), "f")


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _when(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


# Drift -------------------------------------------------------------------------------


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


def progress_document(progress: GoalProgress | None) -> dict[str, Any] | None:
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


def drift_log_document(entry: DriftLogEntry) -> dict[str, Any]:
    """`users/{uid}/driftLogs/{id}`: one per check, one per user and night."""
    report = entry.report
    document = {
        "created_at": entry.created_at,
        "trigger": entry.trigger,
        "dry_run": entry.dry_run,
        "portfolio_value": usd(report.portfolio_value_usd),
        "cash": usd(report.cash_usd),
        "cash_percent": pct(report.cash_percent),
        "assets": [asset_row(row) for row in report.assets],
        **aggregates(report),
        "needs_rebalance": report.needs_rebalance,
        "critical": report.critical,
        "plan_id": entry.plan_id,
        "goal_progress": progress_document(entry.goal_progress),
    }
    if entry.decision is not None:
        document["decision"] = {"due": entry.decision.due, "reason": entry.decision.reason}
    return document


def drift_summary(report: DriftReport) -> dict[str, Any]:
    """A drift report inside a plan: per-asset rows and the aggregates."""
    return {
        "portfolio_value": usd(report.portfolio_value_usd),
        "cash": usd(report.cash_usd),
        "assets": [asset_row(row) for row in report.assets],
        **aggregates(report),
        "needs_rebalance": report.needs_rebalance,
    }


# Plans -------------------------------------------------------------------------------


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


def plan_fields(plan: Plan) -> dict[str, Any]:
    """A plan's trades, notes, totals and drift before and after, as stored and returned."""
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


def account_document(account: AccountRef) -> dict[str, Any]:
    """The account a plan is made for, as stored in the plan."""
    return {"account_number": account.account_number, "paper": account.paper}


def new_plan_document(new: NewPlan) -> dict[str, Any]:
    """`users/{uid}/rebalanceHistory/{planId}` for a plan proposed for review."""
    document = {
        "created_at": new.created_at,
        "updated_at": new.created_at,
        "reason": new.reason,
        "status": PlanStatus.PROPOSED.value,
        "account": account_document(new.account),
        "cash_to_invest": usd(new.cash_to_invest_usd),
        "cash_to_raise": usd(new.cash_to_raise_usd),
        **plan_fields(new.plan),
        "orders": [],
    }
    if new.drift_log_id is not None:
        document["drift_log_id"] = new.drift_log_id
    return document


def legs_document(legs: Iterable[Leg]) -> list[dict[str, Any]]:
    """Legs as stored: quantities and prices as exact decimal strings."""
    return [
        {
            "index": leg.index,
            "symbol": leg.symbol,
            "side": str(leg.side),
            "planned_qty": dec(leg.planned_qty),
            "price": dec(leg.price_usd),
            "fractionable": leg.fractionable,
            "crypto": leg.crypto,
            "drift_percent": dec(leg.drift_percent),
            "client_order_id": leg.client_order_id,
            "status": leg.status.value,
            "qty": dec(leg.qty),
            "order_id": leg.order_id,
            "filled_qty": dec(leg.filled_qty),
            "filled_avg_price": dec(leg.filled_avg_price_usd),
            "error": leg.error,
        }
        for leg in sorted(legs, key=lambda leg: leg.index)
    ]


def orders_document(legs: Iterable[Leg]) -> list[dict[str, Any]]:
    """The legs as the history's `orders` list (the shape every reader already knows)."""
    return [
        {
            "symbol": leg.symbol,
            "side": str(leg.side),
            "qty": dec(leg.order_qty),
            "status": leg.status.value,
            "order_id": leg.order_id,
            "client_order_id": leg.client_order_id,
            "filled_qty": dec(leg.filled_qty),
            "filled_avg_price": dec(leg.filled_avg_price_usd),
            "error": leg.error,
        }
        for leg in sorted(legs, key=lambda leg: leg.index)
    ]


def _stored_legs(document: Doc) -> tuple[Leg, ...]:
    return tuple(
        Leg(
            index=int(raw["index"]),
            symbol=str(raw["symbol"]),
            side=Side(str(raw["side"])),
            planned_qty=Decimal(str(raw["planned_qty"])),
            price_usd=Decimal(str(raw["price"])),
            fractionable=bool(raw["fractionable"]),
            crypto=bool(raw["crypto"]),
            drift_percent=Decimal(str(raw.get("drift_percent") or 0)),
            client_order_id=str(raw["client_order_id"]),
            status=LegStatus(str(raw["status"])),
            qty=_number(raw.get("qty")),
            order_id=raw.get("order_id"),
            filled_qty=_number(raw.get("filled_qty")) or ZERO,
            filled_avg_price_usd=_number(raw.get("filled_avg_price")),
            error=raw.get("error"),
        )
        for raw in document.get("legs") or []
    )


def _trade_legs(document: Doc, plan_id: str) -> tuple[Leg, ...]:
    """The pending legs of a stored plan's trades, before its first run."""
    return tuple(
        Leg(
            index=index,
            symbol=str(trade["symbol"]),
            side=Side(str(trade["side"])),
            planned_qty=Decimal(str(trade["qty"])),
            price_usd=Decimal(str(trade["price"])),
            fractionable=bool(trade.get("fractionable", True)),
            crypto=bool(trade.get("crypto", False)),
            drift_percent=Decimal(str(trade.get("drift_percent") or 0)),
            client_order_id=client_order_id(plan_id, index),
        )
        for index, trade in enumerate(document.get("trades") or [])
    )


def plan_from_document(plan_id: str, document: Doc | None) -> PlanRecord | None:
    """A stored plan, or None when there is no document or it is not a plan (a trade)."""
    if document is None:
        return None
    try:
        status = PlanStatus(str(document.get("status")))
        strategy = Strategy(str(document.get("strategy")))
    except ValueError:
        return None
    account = document.get("account") or None
    holder, until = document.get("lease_holder"), _when(document.get("lease_expires_at"))
    windows = document.get("fill_windows") or {}
    return PlanRecord(
        plan_id=plan_id,
        status=status,
        legs=_stored_legs(document) or _trade_legs(document, plan_id),
        account=(
            AccountRef(str(account.get("account_number")), bool(account.get("paper")))
            if isinstance(account, Mapping)
            else None
        ),
        reason=str(document.get("reason") or "Manual"),
        strategy=strategy,
        cash_to_invest_usd=_number(document.get("cash_to_invest")) or ZERO,
        cash_to_raise_usd=_number(document.get("cash_to_raise")) or ZERO,
        created_at=_when(document.get("created_at")),
        replanned_at=_when(document.get("replanned_at")),
        replans=int(document.get("replans") or 0),
        started_at=_when(document.get("started_at")),
        lease=LeaseHold(str(holder), until) if holder and until else None,
        fill_windows={k: v for k, v in windows.items() if isinstance(v, datetime)},
        document=dict(document),
    )


def runnable_plan(plan_id: str, document: Doc | None) -> PlanRecord | None:
    """The plan a lease decision acts on: None when absent.

    Raises:
        PreconditionFailed: The entry exists but is not a plan (a manual trade).
    """
    record = plan_from_document(plan_id, document)
    if document is not None and record is None:
        raise PreconditionFailed(f"plan {plan_id} cannot be executed")
    return record


def plan_changes_document(changes: PlanChanges) -> dict[str, Any]:
    """The fields a change sets in the plan's document (merged into it)."""
    document: dict[str, Any] = {}
    if changes.replanned is not None:
        again = changes.replanned
        document |= {
            **plan_fields(again.plan),
            "account": account_document(again.account),
            "replans": again.replans,
            "replanned_at": again.at,
        }
    if changes.status is not None:
        document["status"] = changes.status.value
    if changes.legs is not None:
        document["legs"] = legs_document(changes.legs)
        if changes.record_orders:
            document["orders"] = orders_document(changes.legs)
    if changes.fill_windows is not None:
        document["fill_windows"] = dict(changes.fill_windows)
    if changes.lease is not None:
        document |= {
            "lease_holder": changes.lease.holder,
            "lease_expires_at": changes.lease.expires_at,
        }
    if changes.lease_lost is not None:
        lost = changes.lease_lost
        document["lease_lost"] = {
            "executor": lost.executor,
            "at": lost.at,
            "message": lost.message,
        }
    for name in (
        "queued_until",
        "queued_task",
        "completed_at",
        "cancelled_at",
        "cancel_reason",
        "handed_off_at",
        "error",
        "started_at",
        "superseded_by",
        "updated_at",
    ):
        value = getattr(changes, name)
        if value is not None:
            document[name] = value
    return document


def lease_document(lease: ExecutionLease) -> dict[str, Any]:
    """`users/{uid}/leases/execution`."""
    return {"plan_id": lease.plan_id, "holder": lease.holder, "expires_at": lease.expires_at}


def lease_from_document(document: Doc | None) -> ExecutionLease | None:
    """The user's lease, or None."""
    if document is None or not document.get("plan_id"):
        return None
    holder = document.get("holder")
    return ExecutionLease(
        str(document["plan_id"]),
        str(holder) if holder else None,
        _when(document.get("expires_at")),
    )


# Manual trades -----------------------------------------------------------------------


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


def manual_trade_document(trade: ManualTrade) -> dict[str, Any]:
    """`users/{uid}/rebalanceHistory/{id}` for one `execute_trade`."""
    result = trade.result
    document: dict[str, Any] = {
        "created_at": trade.created_at,
        "updated_at": trade.created_at,
        "reason": "Manual trade",
        "strategy": "manual",
        "status": PlanStatus.COMPLETED_SUCCESS.value if result.placed else result.status,
        "request": trade_request(trade.intent),
        "orders": [order_row(result)],
    }
    if trade.idempotency_key is not None:
        document["idempotency_key"] = trade.idempotency_key
    return document


def holds_order(document: Doc) -> bool:
    """True when a stored history entry records an order the broker accepted."""
    orders = document.get("orders")
    return isinstance(orders, list) and any(
        isinstance(o, Mapping) and o.get("order_id") for o in orders
    )


def trade_from_document(document: Doc | None) -> RecordedTrade | None:
    """A manual trade read back, or None when the entry is absent or not a manual trade."""
    if document is None or document.get("strategy") != "manual":
        return None
    request = document.get("request") or {}
    intent = OrderIntent(
        symbol=str(request.get("symbol")),
        side=Side(str(request.get("side"))),
        qty=_number(request.get("qty")),
        notional_usd=_number(request.get("notional")),
        order_type=OrderType(str(request.get("order_type"))),
        time_in_force=TimeInForce(str(request.get("time_in_force"))),
        limit_price_usd=_number(request.get("limit_price")),
    )
    orders = tuple(
        OrderResult(
            symbol=str(row["symbol"]),
            side=Side(str(row["side"])),
            qty=_number(row.get("qty")),
            notional_usd=_number(row.get("notional")),
            status=str(row["status"]),
            order_id=row.get("order_id"),
            client_order_id=row.get("client_order_id"),
            filled_qty=_number(row.get("filled_qty")) or ZERO,
            filled_avg_price_usd=_number(row.get("filled_avg_price")),
            error=row.get("error"),
        )
        for row in document.get("orders") or []
    )
    return RecordedTrade(intent, orders)


# The nightly run ---------------------------------------------------------------------


def alert_document(alert: DriftAlert) -> dict[str, Any]:
    """`users/{uid}/driftAlerts/{night}`: what the client shows when auto-execute is off."""
    return {
        "created_at": alert.created_at,
        "reason": alert.reason,
        "plan_id": alert.plan_id,
        "max_drift_percent": pct(alert.max_drift_percent),
        "orders": alert.orders,
        "estimated_tax": usd(alert.estimated_tax_usd),
        "message": alert.message,
        "read": False,
    }


def night_key(night: date) -> str:
    """A night in document ids."""
    return f"{night:%Y%m%d}"


def night_documents(uid: str, night: NightRecord) -> dict[str, dict[str, Any]]:
    """The documents one user's night writes, by path (merged, in one batch)."""
    key = night_key(night.night)
    writes = {f"users/{uid}/driftLogs/{night.log.log_id}": drift_log_document(night.log)}
    if night.plan is not None and night.plan_id is not None:
        writes[f"users/{uid}/rebalanceHistory/{night.plan_id}"] = new_plan_document(night.plan)
    if night.last_auto_run_on is not None:
        writes[f"userSettings/{uid}"] = {
            "last_auto_run_on": night.last_auto_run_on.isoformat(),
            "updated_at": night.log.created_at,
        }
    if night.alert is not None:
        writes[f"users/{uid}/driftAlerts/{key}"] = alert_document(night.alert)
    return writes


def fan_out_document(summary: FanOutSummary) -> dict[str, Any]:
    """`nightlyRuns/{night}`: what one fan-out did (admins read it)."""
    return {
        "users": summary.users,
        "enqueued": summary.enqueued,
        "already_queued": summary.already_queued,
        "seconds": round(summary.seconds, 3),
        "finished_at": summary.finished_at,
    }


# Simulations ---------------------------------------------------------------------------


def policy_document(policy: Policy) -> dict[str, Any]:
    """A policy as stored and returned."""
    schedule = policy.schedule
    return {
        "name": policy.name,
        "trigger": schedule.trigger.value,
        "frequency": schedule.frequency.value,
        "threshold_percent": pct(policy.threshold_percent),
        "drift_method": policy.drift_method.value,
        "strategy": policy.strategy.value,
    }


def policy_result_document(result: PolicyResult) -> dict[str, Any]:
    """One policy's figures and its series (for a table and a chart)."""
    return {
        "policy": policy_document(result.policy),
        "tracking_error_percent": pct(result.tracking_error_percent),
        "max_drift_percent": pct(result.max_drift_percent),
        "mean_drift_percent": pct(result.mean_drift_percent),
        "days_beyond_critical": result.days_beyond_critical,
        "rebalances": result.rebalances,
        "orders": result.orders,
        "turnover": usd(result.turnover_usd),
        "costs": usd(result.costs_usd),
        "short_term_gains": usd(result.short_term_gains_usd),
        "long_term_gains": usd(result.long_term_gains_usd),
        "tax_paid": usd(result.tax_paid_usd),
        "losses_harvested": usd(result.losses_harvested_usd),
        "ending_value": usd(result.ending_value_usd),
        "after_tax_ending_value": usd(result.after_tax_ending_value_usd),
        "score": usd(result.score_usd),
        "rebalance_days": [day.isoformat() for day in result.rebalance_days],
        "series": [
            {
                "day": point.day.isoformat(),
                "max_drift_percent": pct(point.max_drift_percent),
                "value": usd(point.value_usd),
                "after_tax_value": usd(point.after_tax_value_usd),
            }
            for point in result.series
        ],
    }


def forward_document(forward: ForwardView | None) -> dict[str, Any] | None:
    """The look ahead: each asset's chance of leaving its band."""
    if forward is None:
        return None
    return {
        "assets": [
            {
                "symbol": band.symbol,
                "breach_within_30_days": float(band.breach_within_30_days),
                "breach_within_90_days": float(band.breach_within_90_days),
                "expected_days_to_breach": (
                    None
                    if band.expected_days_to_breach is None
                    else float(band.expected_days_to_breach)
                ),
            }
            for band in forward.assets
        ],
        "any_breach_within_30_days": float(forward.any_breach_within_30_days),
        "any_breach_within_90_days": float(forward.any_breach_within_90_days),
        "paths": forward.paths,
        "seed": forward.seed,
    }


def simulation_report_document(report: SimulationReport) -> dict[str, Any]:
    """A simulation's answer: every policy, the recommendation, the look ahead."""
    best = report.recommendation
    return {
        "results": [policy_result_document(result) for result in report.results],
        "recommendation": {
            "best": best.best,
            "runner_up": best.runner_up,
            "gap": usd(best.gap_usd),
            "reason": best.reason,
        },
        "forward": forward_document(report.forward),
        "days": report.days,
        "seconds": round(report.seconds, 3),
    }


def simulation_document(run: StoredSimulation) -> dict[str, Any]:
    """`users/{uid}/simulations/{id}`."""
    return {
        "created_at": run.created_at,
        "years": run.years,
        "first_day": run.first_day.isoformat(),
        "last_day": run.last_day.isoformat(),
        "monthly_flow": usd(run.monthly_flow_usd),
        "template_value": None if run.template_value_usd is None else usd(run.template_value_usd),
        **simulation_report_document(run.report),
    }
