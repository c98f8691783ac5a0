"""Order and FILL activity JSON, field for field as Alpaca sends them."""

from __future__ import annotations

from typing import Any

from paper_broker.money import fmt, fmt_opt
from paper_broker.state import Activity, Order
from paper_broker.timeutil import iso_z, iso_z_opt


def order_json(order: Order) -> dict[str, Any]:
    """Return an order as Alpaca's order endpoints answer it."""
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": iso_z(order.submitted_at),
        "updated_at": iso_z(order.updated_at),
        "submitted_at": iso_z(order.submitted_at),
        "filled_at": iso_z_opt(order.filled_at),
        "expired_at": iso_z_opt(order.expired_at),
        "expires_at": iso_z_opt(order.expires_at),
        "canceled_at": iso_z_opt(order.canceled_at),
        "failed_at": iso_z_opt(order.failed_at),
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": order.asset_id,
        "symbol": order.symbol,
        "asset_class": order.asset_class,
        "notional": fmt_opt(order.notional),
        "qty": fmt_opt(order.qty),
        "filled_qty": fmt(order.filled_qty),
        "filled_avg_price": fmt_opt(order.filled_avg_price),
        "order_class": "simple",
        "order_type": order.type,
        "type": order.type,
        "side": order.side,
        "position_intent": "buy_to_open" if order.side == "buy" else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": fmt_opt(order.limit_price),
        "stop_price": None,
        "status": order.status,
        "extended_hours": order.extended_hours,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "subtag": None,
        "source": None,
    }


def activity_json(activity: Activity) -> dict[str, Any]:
    """Return a FILL activity as Alpaca's account activities endpoint answers it."""
    return {
        "id": activity.id,
        "account_id": activity.account_id,
        "activity_type": "FILL",
        "transaction_time": iso_z(activity.transaction_time),
        "type": activity.type,
        "price": fmt(activity.price),
        "qty": fmt(activity.qty),
        "side": activity.side,
        "symbol": activity.symbol,
        "leaves_qty": fmt(activity.leaves_qty),
        "order_id": activity.order_id,
        "cum_qty": fmt(activity.cum_qty),
        "order_status": activity.order_status,
    }
