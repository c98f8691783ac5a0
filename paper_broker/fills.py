"""The fill engine: fills, expiry, FIFO lot relief and FILL activities.

Time-based events happen lazily: ``settle(now)`` runs at the start of every request and
applies whatever the clock has reached since the last look, so a running clock works too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from paper_broker import market_calendar as mc
from paper_broker.assets import Asset
from paper_broker.money import ZERO, cents, floor_places
from paper_broker.state import Account, Activity, BrokerState, Lot, Order
from paper_broker.timeutil import activity_stamp

IMMEDIATE = frozenset({"ioc", "fok"})


def settle(state: BrokerState, now: datetime) -> bool:
    """Apply every fill and expiry the clock has reached; True when anything changed."""
    orders = [o for a in state.accounts.values() for o in a.orders if o.is_open]
    changed = False
    for order in sorted(orders, key=lambda o: o.seq):
        changed |= evaluate(state, order, now)
    return changed


def evaluate(state: BrokerState, order: Order, now: datetime) -> bool:
    """Look for a fill of one open order since it was last looked at, then for expiry."""
    before = (order.status, order.filled_qty)
    asset = state.assets[order.symbol]
    start = order.checked_at
    # The first instant since the last look at which the order could trade.
    chance = start if asset.is_crypto else mc.open_at_or_after(start)
    in_force = order.expires_at is None or chance < order.expires_at
    # A fill ratio (the partial_fill fault) allows one fill only; the rest stays open.
    can_fill = order.fill_ratio is None or order.filled_qty == ZERO
    if order.is_open and chance <= now and in_force and can_fill:
        if order.status == "accepted":
            # Alpaca routes an order accepted while closed to the market at the open.
            order.status = "new"
            order.updated_at = chance
        _try_fill(state, state.accounts[order.account_id], order, asset, chance)
        if order.is_open and order.time_in_force in IMMEDIATE:
            close_order(order, "canceled", chance)
    if order.is_open and order.expires_at is not None and order.expires_at <= now:
        close_order(order, "expired", order.expires_at)
    order.checked_at = max(order.checked_at, now)
    return (order.status, order.filled_qty) != before


def close_order(order: Order, status: str, at: datetime) -> None:
    """End an open order as canceled, expired or rejected."""
    order.status = status
    order.updated_at = at
    if status == "canceled":
        order.canceled_at = at
    elif status == "expired":
        order.expired_at = at
    else:
        order.failed_at = at


def _crosses(order: Order, price: Decimal) -> bool:
    """Whether a limit order is marketable at a price (market orders always are)."""
    if order.limit_price is None:
        return True
    return price <= order.limit_price if order.side == "buy" else price >= order.limit_price


def _fill_qty(order: Order, asset: Asset, price: Decimal) -> Decimal:
    """Return how many shares this fill is for, at a price."""
    if order.notional is not None:
        wanted = floor_places((order.notional - order.filled_value) / price)
    else:
        wanted = (order.qty or ZERO) - order.filled_qty
    if order.fill_ratio is not None:
        wanted = floor_places(wanted * order.fill_ratio, 9 if asset.fractionable else 0)
    return wanted


def _try_fill(
    state: BrokerState, account: Account, order: Order, asset: Asset, at: datetime
) -> None:
    """Fill an order at the current price if it is marketable and can be paid for."""
    price = asset.price
    if not _crosses(order, price):
        return
    qty = _fill_qty(order, asset, price)
    if order.side == "sell":
        qty = min(qty, account.position_qty(order.symbol))
    if qty <= ZERO:
        if order.fill_ratio is None:
            close_order(order, "rejected", at)
        return
    value = cents(qty * price)
    if order.side == "buy":
        if value > account.cash:
            # Prices moved since the buying-power check; a cash account cannot go negative.
            close_order(order, "rejected", at)
            return
        account.cash -= value
        account.lots.append(Lot(str(uuid.uuid4()), order.symbol, qty, price, at))
    else:
        relieve_lots(account, order.symbol, qty)
        account.cash += value
    _record_fill(state, account, order, qty, price, value, at)


def relieve_lots(account: Account, symbol: str, qty: Decimal) -> None:
    """Take sold shares out of the oldest lots first (FIFO)."""
    left = qty
    for lot in account.lots_of(symbol):
        if left <= ZERO:
            break
        taken = min(lot.qty, left)
        lot.qty -= taken
        left -= taken
    account.lots = [lot for lot in account.lots if lot.qty > ZERO]


def _record_fill(
    state: BrokerState,
    account: Account,
    order: Order,
    qty: Decimal,
    price: Decimal,
    value: Decimal,
    at: datetime,
) -> None:
    """Update the order's fill fields and write its FILL activity."""
    previous_cost = (order.filled_avg_price or ZERO) * order.filled_qty
    order.filled_qty += qty
    order.filled_value += value
    order.filled_avg_price = (previous_cost + qty * price) / order.filled_qty
    order.updated_at = at
    if order.notional is not None:
        leaves = (
            ZERO
            if order.fill_ratio is None
            else floor_places((order.notional - order.filled_value) / price)
        )
    else:
        leaves = (order.qty or ZERO) - order.filled_qty
    if leaves > ZERO:
        order.status = "partially_filled"
    else:
        order.status = "filled"
        order.filled_at = at
    activity = add_activity(state, account, order.id, order.symbol, order.side, qty, price, at)
    activity.type = "partial_fill" if leaves > ZERO else "fill"
    activity.cum_qty = order.filled_qty
    activity.leaves_qty = leaves
    activity.order_status = order.status


def add_activity(
    state: BrokerState,
    account: Account,
    order_id: str,
    symbol: str,
    side: str,
    qty: Decimal,
    price: Decimal,
    at: datetime,
) -> Activity:
    """Append a complete FILL activity (one fill of ``qty``) to an account."""
    activity = Activity(
        id=f"{activity_stamp(at)}::{uuid.uuid4()}",
        account_id=account.id,
        order_id=order_id,
        symbol=symbol,
        side=side,
        type="fill",
        qty=qty,
        price=price,
        cum_qty=qty,
        leaves_qty=ZERO,
        order_status="filled",
        transaction_time=at,
        seq=state.next_seq(),
    )
    account.activities.append(activity)
    return activity
