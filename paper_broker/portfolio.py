"""Positions, holds and buying power, and the account and position JSON built from them."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from paper_broker import market_calendar as mc
from paper_broker.assets import Asset
from paper_broker.money import ZERO, floor_places, fmt, money, ratio
from paper_broker.state import Account, BrokerState, Order
from paper_broker.timeutil import iso_z


def lastday_price(state: BrokerState, asset: Asset, now: datetime) -> Decimal:
    """Return the price at the close before the current (or last) session.

    Crypto has no sessions, so its "last day" ends at the last UTC midnight.
    """
    if asset.is_crypto:
        midnight = datetime.combine(now.date(), time(0), now.tzinfo)
        return state.price_at(asset.symbol, midnight)
    return state.price_at(asset.symbol, mc.previous_session(now).close)


def _remaining_notional(order: Order) -> Decimal:
    """Return what a notional order has still to spend (or raise, for a sell)."""
    return max((order.notional or ZERO) - order.filled_value, ZERO)


def buy_hold(state: BrokerState, order: Order) -> Decimal:
    """Return the cash an open buy order holds back from buying power."""
    if order.notional is not None:
        return _remaining_notional(order)
    remaining = (order.qty or ZERO) - order.filled_qty
    price = order.limit_price if order.limit_price is not None else state.assets[order.symbol].price
    return remaining * price


def sell_hold(state: BrokerState, order: Order) -> Decimal:
    """Return the shares an open sell order holds back from ``qty_available``."""
    if order.notional is not None:
        return floor_places(_remaining_notional(order) / state.assets[order.symbol].price)
    return (order.qty or ZERO) - order.filled_qty


def buying_power(state: BrokerState, account: Account) -> Decimal:
    """Return cash less what open buy orders hold (a cash account: no margin)."""
    held = sum((buy_hold(state, o) for o in account.orders if o.is_open and o.side == "buy"), ZERO)
    return max(account.cash - held, ZERO)


def qty_available(state: BrokerState, account: Account, symbol: str) -> Decimal:
    """Return the shares of a position not held by open sell orders."""
    held = sum(
        (
            sell_hold(state, o)
            for o in account.orders
            if o.is_open and o.side == "sell" and o.symbol == symbol
        ),
        ZERO,
    )
    return max(account.position_qty(symbol) - held, ZERO)


def position_json(
    state: BrokerState, account: Account, symbol: str, now: datetime
) -> dict[str, Any]:
    """Return a position as Alpaca's ``/v2/positions`` answers it."""
    asset = state.assets[symbol]
    lots = account.lots_of(symbol)
    qty = sum((lot.qty for lot in lots), ZERO)
    cost = sum((lot.qty * lot.cost_per_share for lot in lots), ZERO)
    price = asset.price
    last = lastday_price(state, asset, now)
    value = qty * price
    profit = value - cost
    intraday = qty * (price - last)
    return {
        "asset_id": asset.id,
        "symbol": asset.symbol,
        "exchange": asset.exchange,
        "asset_class": asset.asset_class,
        "asset_marginable": not asset.is_crypto,
        "qty": fmt(qty),
        "qty_available": fmt(qty_available(state, account, symbol)),
        "avg_entry_price": fmt(cost / qty if qty else ZERO),
        "side": "long",
        "market_value": money(value),
        "cost_basis": money(cost),
        "unrealized_pl": money(profit),
        "unrealized_plpc": ratio(profit / cost if cost else ZERO),
        "unrealized_intraday_pl": money(intraday),
        "unrealized_intraday_plpc": ratio(intraday / (qty * last) if qty and last else ZERO),
        "current_price": fmt(price),
        "lastday_price": fmt(last),
        "change_today": ratio((price - last) / last if last else ZERO),
    }


def positions_json(state: BrokerState, account: Account, now: datetime) -> list[dict[str, Any]]:
    """Return every open position of an account, by symbol."""
    return [position_json(state, account, s, now) for s in account.symbols_held()]


def market_value(
    state: BrokerState, account: Account, lastday_as_of: datetime | None = None
) -> Decimal:
    """Return the value of all positions at current prices, or at last-day prices."""
    total = ZERO
    for symbol in account.symbols_held():
        asset = state.assets[symbol]
        price = asset.price if lastday_as_of is None else lastday_price(state, asset, lastday_as_of)
        total += account.position_qty(symbol) * price
    return total


def account_json(state: BrokerState, account: Account, now: datetime) -> dict[str, Any]:
    """Return the account as Alpaca's ``GET /v2/account`` answers it (a cash account)."""
    long_value = market_value(state, account)
    equity = account.cash + long_value
    power = money(buying_power(state, account))
    return {
        "id": account.id,
        "account_number": account.account_number,
        "status": "ACTIVE",
        "crypto_status": "ACTIVE",
        "currency": "USD",
        "buying_power": power,
        "regt_buying_power": power,
        "daytrading_buying_power": "0",
        "effective_buying_power": power,
        "non_marginable_buying_power": power,
        "options_buying_power": power,
        "cash": money(account.cash),
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": money(equity),
        "equity": money(equity),
        # Cash is not kept per day, so yesterday's equity is today's cash at yesterday's prices.
        "last_equity": money(account.cash + market_value(state, account, now)),
        "long_market_value": money(long_value),
        "short_market_value": "0",
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": "1",
        "pattern_day_trader": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "shorting_enabled": False,
        "daytrade_count": 0,
        "balance_asof": mc.latest_session(now).day.isoformat(),
        "created_at": iso_z(account.created_at),
        "crypto_tier": 1,
        "options_approved_level": 0,
        "options_trading_level": 0,
    }
