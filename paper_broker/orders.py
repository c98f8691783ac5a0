"""Order submission with Alpaca's validation rules, cancellation and listing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from paper_broker import errors
from paper_broker import market_calendar as mc
from paper_broker.assets import Asset
from paper_broker.fills import close_order
from paper_broker.money import ZERO, decimal_places, fmt, to_decimal
from paper_broker.portfolio import buying_power, qty_available
from paper_broker.state import Account, BrokerState, Order
from paper_broker.timeutil import parse_time

SIDES = ("buy", "sell")
TYPES = ("market", "limit")
TIME_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")
CRYPTO_TIME_IN_FORCE = ("day", "gtc", "ioc")
# Orders with these end at the close of the session in which they can first trade.
SESSION_BOUND = frozenset({"day", "opg", "cls"})
MAX_CLIENT_ORDER_ID = 128
MAX_ORDERS_LIMIT = 500


def _choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    """Return a required string field that must be one of ``allowed``."""
    value = body.get(name)
    if value is None or value == "":
        raise errors.invalid(f"{name} is required")
    if value not in allowed:
        raise errors.invalid(f"invalid {name} {value!r}: must be one of {', '.join(allowed)}")
    return str(value)


def _positive(body: Mapping[str, Any], name: str) -> Decimal | None:
    """Return an optional positive decimal field (number or string)."""
    raw = body.get(name)
    if raw is None:
        return None
    number = to_decimal(raw)
    if number is None:
        raise errors.invalid(f"invalid {name} {raw!r}: must be a decimal number")
    if number <= ZERO:
        raise errors.invalid(f"{name} must be > 0")
    return number


def _quantity(body: Mapping[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    """Return ``(qty, notional)``, exactly one of them set and within its precision."""
    qty, notional = _positive(body, "qty"), _positive(body, "notional")
    if (qty is None) == (notional is None):
        raise errors.invalid("exactly one of qty or notional is required")
    if qty is not None and decimal_places(qty) > 9:
        raise errors.invalid("qty must have at most 9 decimal places")
    if notional is not None:
        if decimal_places(notional) > 2:
            raise errors.invalid("notional must have at most 2 decimal places")
        if notional < 1:
            raise errors.invalid("notional must be at least $1")
    return qty, notional


def _limit_price(body: Mapping[str, Any], order_type: str) -> Decimal | None:
    """Return the limit price a limit order needs and a market order must not have."""
    price = _positive(body, "limit_price")
    if order_type == "market":
        if price is not None:
            raise errors.invalid("limit_price is not allowed for market orders")
        return None
    if price is None:
        raise errors.invalid("limit_price is required for limit orders")
    if decimal_places(price) > (2 if price >= 1 else 4):
        raise errors.invalid(
            f"invalid limit_price {fmt(price)}. sub-penny increment does not fulfill "
            "minimum pricing criteria"
        )
    return price


def _client_order_id(body: Mapping[str, Any], account: Account) -> str:
    """Return the given client order id (checked) or a generated one."""
    value = body.get("client_order_id")
    if value is None or value == "":
        return str(uuid.uuid4())
    if not isinstance(value, str):
        raise errors.invalid("client_order_id must be a string")
    if len(value) > MAX_CLIENT_ORDER_ID:
        raise errors.invalid("client_order_id must be no more than 128 characters")
    if any(o.client_order_id == value for o in account.orders):
        raise errors.invalid("client_order_id must be unique")
    return value


def _asset(state: BrokerState, body: Mapping[str, Any]) -> Asset:
    """Return the tradable asset an order is for."""
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise errors.invalid("symbol is required")
    asset = state.asset(symbol)
    if asset is None:
        raise errors.invalid(f'asset "{symbol}" not found')
    if not asset.tradable:
        raise errors.invalid(f"asset {asset.symbol} is not tradable")
    return asset


def _check_fractional(
    asset: Asset, qty: Decimal | None, notional: Decimal | None, tif: str, order_type: str
) -> None:
    """Apply the fractional and notional rules."""
    if notional is not None and order_type != "market":
        raise errors.invalid("notional orders must be market orders")
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if not fractional:
        return
    if not asset.fractionable:
        raise errors.invalid(f"asset {asset.symbol} is not fractionable")
    allowed = CRYPTO_TIME_IN_FORCE if asset.is_crypto else ("day",)
    if tif not in allowed:
        raise errors.invalid(f"fractional orders must be {' or '.join(allowed)} orders")


def _check_funds(
    state: BrokerState,
    account: Account,
    asset: Asset,
    side: str,
    amounts: tuple[Decimal, Decimal, Decimal],
) -> None:
    """Refuse (403) a buy beyond buying power or a sell beyond the shares available."""
    qty, notional, limit = amounts
    price = asset.price
    if side == "buy":
        cost = notional if notional else qty * (limit if limit else price)
        if cost > buying_power(state, account):
            raise errors.forbidden("insufficient buying power")
        return
    wanted = qty if qty else notional / price
    available = qty_available(state, account, asset.symbol)
    if wanted > available:
        raise errors.forbidden(
            f"insufficient qty available for order (requested: {fmt(wanted)}, "
            f"available: {fmt(available)})"
        )


def submit_order(
    state: BrokerState,
    account: Account,
    body: object,
    now: datetime,
    fill_ratio: Decimal | None = None,
) -> Order:
    """Validate an order request as Alpaca does and add the order, not yet filled."""
    if not isinstance(body, dict):
        raise errors.malformed("request body must be a JSON object")
    asset = _asset(state, body)
    side = _choice(body, "side", SIDES)
    order_type = _choice(body, "type", TYPES)
    tif = _choice(body, "time_in_force", TIME_IN_FORCE)
    if asset.is_crypto and tif not in CRYPTO_TIME_IN_FORCE:
        raise errors.invalid(f"invalid crypto time_in_force {tif!r}")
    if body.get("order_class") not in (None, "", "simple"):
        raise errors.invalid("only simple orders are supported")
    qty, notional = _quantity(body)
    limit = _limit_price(body, order_type)
    client_order_id = _client_order_id(body, account)
    _check_fractional(asset, qty, notional, tif, order_type)
    _check_funds(state, account, asset, side, (qty or ZERO, notional or ZERO, limit or ZERO))
    is_open = asset.is_crypto or mc.is_open(now)
    expires_at = None
    if tif in SESSION_BOUND and not asset.is_crypto:
        expires_at = mc.next_close(mc.open_at_or_after(now))
    order = Order(
        id=str(uuid.uuid4()),
        account_id=account.id,
        client_order_id=client_order_id,
        symbol=asset.symbol,
        asset_id=asset.id,
        asset_class=asset.asset_class,
        side=side,
        type=order_type,
        time_in_force=tif,
        qty=qty,
        notional=notional,
        limit_price=limit,
        extended_hours=body.get("extended_hours") is True,
        status="new" if is_open else "accepted",
        submitted_at=now,
        updated_at=now,
        expires_at=expires_at,
        seq=state.next_seq(),
        checked_at=now,
        fill_ratio=fill_ratio,
    )
    account.orders.append(order)
    return order


def find_order(account: Account, order_id: str) -> Order:
    """Return one of the account's orders, or 404."""
    order = account.order(order_id.strip().lower())
    if order is None:
        raise errors.not_found("order not found")
    return order


def cancel_order(order: Order, now: datetime) -> None:
    """Cancel an open order, or refuse with 422 when it is already done."""
    if not order.is_open:
        raise errors.not_cancelable(order.status)
    close_order(order, "canceled", now)


def list_orders(account: Account, query: Mapping[str, str]) -> list[Order]:
    """Return the account's orders filtered as ``GET /v2/orders`` asks."""
    status = query.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise errors.invalid("status must be open, closed or all")
    direction = query.get("direction", "desc")
    if direction not in ("asc", "desc"):
        raise errors.invalid("direction must be asc or desc")
    try:
        limit = min(int(query.get("limit", "50")), MAX_ORDERS_LIMIT)
    except ValueError:
        raise errors.invalid("limit must be an integer") from None
    if limit < 1:
        raise errors.invalid("limit must be at least 1")
    bounds = [_time_param(query, name) for name in ("after", "until")]
    symbols = {s.strip().upper() for s in query.get("symbols", "").split(",") if s.strip()}
    side = query.get("side")
    chosen = [
        o
        for o in account.orders
        if status == "all" or o.is_open == (status == "open")
        if bounds[0] is None or o.submitted_at > bounds[0]
        if bounds[1] is None or o.submitted_at < bounds[1]
        if not symbols or o.symbol in symbols
        if side is None or o.side == side
    ]
    chosen.sort(key=lambda o: (o.submitted_at, o.seq), reverse=direction == "desc")
    return chosen[:limit]


def _time_param(query: Mapping[str, str], name: str) -> datetime | None:
    """Return an optional RFC 3339 query parameter, or 422 when it does not parse."""
    if name not in query:
        return None
    moment = parse_time(query[name])
    if moment is None:
        raise errors.invalid(f"invalid {name} {query[name]!r}: must be RFC 3339")
    return moment
