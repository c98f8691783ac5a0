"""Use case: one-off trades, behind the kill-switch; and the kill-switch read itself."""

from __future__ import annotations

from dataclasses import replace

from rebalancer.domain.errors import BrokerError, InvalidInput, TradingDisabled
from rebalancer.domain.execution import client_order_id
from rebalancer.domain.models import OrderIntent, OrderResult
from rebalancer.domain.orders import is_fractional
from rebalancer.domain.risk import UNREADABLE
from rebalancer.service import records
from rebalancer.service.context import Ports, open_broker
from rebalancer.service.ports import Store


def kill_switch_refusal(store: Store) -> str | None:
    """Why orders are refused right now, or None; an unreadable switch refuses."""
    try:
        return store.read_kill_switch().refusal
    except Exception:  # any failure to read must fail closed
        return UNREADABLE


def _unplaced(intent: OrderIntent, status: str, reason: str) -> OrderResult:
    return OrderResult(
        symbol=intent.symbol,
        side=intent.side,
        qty=intent.qty,
        notional_usd=intent.notional_usd,
        status=status,
        client_order_id=intent.client_order_id,
        error=reason,
    )


def execute_trade(uid: str, intent: OrderIntent, ports: Ports) -> OrderResult:
    """Validate one order against the broker's asset rules, then place it and record it.

    Raises:
        InvalidInput: Unknown or non-tradable symbol, or fractions of a whole-share asset.
        TradingDisabled: The kill-switch refuses (recorded in history first).
        BrokerError: The broker refused or failed (recorded in history first).
    """
    broker = open_broker(uid, ports)
    asset = broker.get_assets([intent.symbol]).get(intent.symbol)
    if asset is None:
        raise InvalidInput("symbol", f"{intent.symbol} is not known at the broker")
    if not asset.tradable:
        raise InvalidInput("symbol", f"{intent.symbol} is not tradable")
    fractional = intent.notional_usd is not None or (
        intent.qty is not None and is_fractional(intent.qty)
    )
    if fractional and not asset.fractionable:
        field = "qty" if intent.notional_usd is None else "notional"
        raise InvalidInput(field, f"{intent.symbol} trades in whole shares only")
    if fractional and intent.time_in_force != "day":
        raise InvalidInput("time_in_force", "fractional and notional orders must be day orders")

    history_id = ports.store.new_id()
    intent = replace(intent, client_order_id=client_order_id(history_id, 0))
    now = ports.clock.now()
    refusal = kill_switch_refusal(ports.store)
    if refusal is not None:
        result = _unplaced(intent, "refused", refusal)
        ports.store.add_history(uid, history_id, records.manual_trade(intent, result, now))
        raise TradingDisabled(refusal)
    try:
        result = broker.submit_order(intent)
    except BrokerError as error:
        failed = _unplaced(intent, "failed", error.message)
        ports.store.add_history(uid, history_id, records.manual_trade(intent, failed, now))
        raise
    ports.store.add_history(uid, history_id, records.manual_trade(intent, result, now))
    return result
