"""Use case: one-off trades, behind the kill-switch; and the kill-switch read itself."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from rebalancer.domain.errors import (
    BrokerError,
    DuplicateOrderId,
    InsufficientFunds,
    InvalidInput,
    TradingDisabled,
)
from rebalancer.domain.execution import MAX_CLIENT_ORDER_ID, client_order_id
from rebalancer.domain.models import ZERO, OrderIntent, OrderResult, OrderType, Side
from rebalancer.domain.orders import is_fractional
from rebalancer.domain.risk import UNREADABLE
from rebalancer.domain.trade_record import ManualTrade, RecordedTrade
from rebalancer.service.context import Ports, open_broker
from rebalancer.service.ports import Broker, SystemStatusStore

KEYED_ORDER_PREFIX = "tr-"


def kill_switch_refusal(system: SystemStatusStore) -> str | None:
    """Why orders are refused right now, or None; an unreadable switch refuses."""
    try:
        return system.read_kill_switch().refusal
    except Exception:  # any failure to read must fail closed
        return UNREADABLE


def keyed_ids(uid: str, idempotency_key: str) -> tuple[str, str]:
    """The history id and broker client order id of a keyed trade, both from uid and key.

    The client order id is a hash (at most 48 characters), so that the broker itself
    refuses a second order for the same key, even from two concurrent calls.
    """
    digest = hashlib.sha256(f"{uid}\n{idempotency_key}".encode()).hexdigest()
    size = MAX_CLIENT_ORDER_ID - len(KEYED_ORDER_PREFIX)
    return f"trade-{idempotency_key}", KEYED_ORDER_PREFIX + digest[:size]


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


def execute_trade(
    uid: str, intent: OrderIntent, ports: Ports, idempotency_key: str | None = None
) -> OrderResult:
    """Validate one order against the asset rules and the account, then place and record it.

    With an `idempotency_key`, a retry returns the order of the first call and places
    nothing new; the key with other order fields is refused.

    Raises:
        InvalidInput: Unknown or non-tradable symbol, fractions of a whole-share asset, or
            an idempotency key already used for another order.
        InsufficientFunds: A buy above buying power (net of open orders) or a sell above
            the shares available.
        TradingDisabled: The kill-switch refuses (recorded in history first).
        BrokerError: The broker refused or failed (recorded in history first).
    """
    broker = open_broker(uid, ports)
    if idempotency_key is None:
        history_id = ports.plans.new_id()
        intent = replace(intent, client_order_id=client_order_id(history_id, 0))
    else:
        history_id, keyed_order_id = keyed_ids(uid, idempotency_key)
        intent = replace(intent, client_order_id=keyed_order_id)
        earlier = _recorded_order(ports.plans.get_trade(uid, history_id), intent)
        if earlier is not None:
            return earlier

    def record(result: OrderResult) -> OrderResult:
        # An entry that already holds a placed order is kept (a concurrent retry's).
        trade = ManualTrade(intent, result, ports.clock.now(), idempotency_key)
        ports.plans.save_trade(uid, history_id, trade)
        return result

    _check_asset(intent, broker)
    try:
        _check_funds(intent, broker)
    except InsufficientFunds:
        # A concurrent call (or a lost answer) may have placed this key's order already,
        # and its hold is what is missing: answer with that order rather than a refusal.
        found = None
        if idempotency_key is not None and intent.client_order_id:
            found = broker.find_order(intent.client_order_id)
        if found is None:
            raise
        return record(_same_order(intent, found))
    refusal = kill_switch_refusal(ports.system)  # read right before the send
    if refusal is not None:
        record(_unplaced(intent, "refused", refusal))
        raise TradingDisabled(refusal)
    try:
        result = _send(intent, broker)
    except BrokerError as error:
        record(_unplaced(intent, "failed", error.message))
        raise
    return record(result)


def _recorded_order(stored: RecordedTrade | None, intent: OrderIntent) -> OrderResult | None:
    """The order a keyed trade already placed, from its history entry; None when none was.

    Raises:
        InvalidInput: The key was used for an order with other fields.
    """
    if stored is None:
        return None
    if replace(stored.intent, client_order_id=intent.client_order_id) != intent:
        raise InvalidInput("idempotency_key", "already used for an order with other fields")
    # None when refused or failed before: try again (the broker refuses a duplicate).
    return stored.placed_order


def _check_asset(intent: OrderIntent, broker: Broker) -> None:
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


def _check_funds(intent: OrderIntent, broker: Broker) -> None:
    """Refuse a buy above buying power or a sell above the shares available, before sending.

    Buying power is net of what open buy orders hold, and shares available net of open
    sells (the broker's own figures). A market buy by quantity is priced at the latest
    trade, a limit buy at its limit (what the broker holds for it); a buy with no price
    known is left to the broker's own check.
    """
    if intent.side is Side.BUY:
        cost = intent.notional_usd
        if cost is None and intent.qty is not None:
            price = intent.limit_price_usd
            if intent.order_type is not OrderType.LIMIT or price is None:
                price = broker.get_latest_prices([intent.symbol]).get(intent.symbol)
            cost = None if price is None else intent.qty * price
        if cost is None:
            return
        available = broker.get_account().buying_power_usd
        if cost > available:
            raise InsufficientFunds(
                f"insufficient buying power: {intent.symbol} needs ${cost:,.2f}, "
                f"${available:,.2f} available"
            )
        return
    wanted_symbol = intent.symbol.replace("/", "")
    position = next(
        (p for p in broker.get_positions() if p.symbol.replace("/", "") == wanted_symbol), None
    )
    held = position.available if position is not None else ZERO
    wanted = intent.qty
    if wanted is None:
        notional = intent.notional_usd or ZERO
        wanted = notional / position.price_usd if position and position.price_usd else notional
    if position is None or wanted > held:
        raise InsufficientFunds(
            f"insufficient shares: selling {wanted.normalize():f} {intent.symbol}, "
            f"{held.normalize():f} available"
        )


def _send(intent: OrderIntent, broker: Broker) -> OrderResult:
    """Place the order; a duplicate client order id (422) answers with the order placed."""
    try:
        return broker.submit_order(intent)
    except DuplicateOrderId:
        if not intent.client_order_id:
            raise
        found = broker.find_order(intent.client_order_id)
        if found is None:
            raise
        return _same_order(intent, found)


def _same_order(intent: OrderIntent, found: OrderResult) -> OrderResult:
    """The order found under this trade's client order id, checked to be this trade.

    Raises:
        InvalidInput: A concurrent call placed an order with other fields under the key.
    """
    same = (
        found.symbol == intent.symbol
        and found.side is intent.side
        and (intent.qty is None or found.qty == intent.qty)
        and (intent.notional_usd is None or found.notional_usd == intent.notional_usd)
    )
    if not same:
        raise InvalidInput("idempotency_key", "already used for an order with other fields")
    return found
