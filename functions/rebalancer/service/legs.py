"""A plan's legs as the history document stores them, and built from a proposed plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from rebalancer.domain.execution import Leg, LegStatus, client_order_id
from rebalancer.domain.models import ZERO, Side
from rebalancer.service.records import dec


def legs_from_plan(
    record: Mapping[str, Any], plan_id: str, first_index: int = 0
) -> tuple[Leg, ...]:
    """The legs of a stored plan's trades, each with its deterministic client order id.

    A re-planned plan numbers its legs from `first_index`, so that its order ids are new.
    """
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
        for index, trade in enumerate(record.get("trades") or [], start=first_index)
    )


def legs_record(legs: Iterable[Leg]) -> list[dict[str, Any]]:
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


def legs_from_record(record: Mapping[str, Any]) -> tuple[Leg, ...]:
    """Legs read back from the history document (empty before the first execution)."""

    def number(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))

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
            qty=number(raw.get("qty")),
            order_id=raw.get("order_id"),
            filled_qty=number(raw.get("filled_qty")) or ZERO,
            filled_avg_price_usd=number(raw.get("filled_avg_price")),
            error=raw.get("error"),
        )
        for raw in record.get("legs") or []
    )
