"""The control API under ``/_paper/``: reset, prices, assets, the clock and faults.

Account requests are in ``control_accounts``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from paper_broker import fills
from paper_broker import market_calendar as mc
from paper_broker.assets import ASSET_CLASSES, CRYPTO, EXCHANGES, NEW_ASSET_PRICE, Asset, asset_id
from paper_broker.assets import asset_json as public_asset_json
from paper_broker.broker import SimulatedBroker
from paper_broker.errors import bad_control
from paper_broker.faults import parse_fault
from paper_broker.fields import (
    bool_field,
    decimal_field,
    only_fields,
    required_decimal,
    str_field,
    time_field,
)
from paper_broker.messages import Request, Response, ok
from paper_broker.money import fmt
from paper_broker.timeutil import iso_z

_SYMBOL = re.compile(r"^[A-Z0-9.]{1,15}(/[A-Z]{2,6})?$")


def health(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/health``."""
    return ok({"ok": True})


def reset(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/reset``: back to the start state."""
    broker.reset()
    return ok({"ok": True})


def set_prices(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/prices`` ``{prices: {SYMBOL: price}}``; may cross limit orders."""
    body = req.json_object()
    only_fields(body, ("prices",))
    prices = body.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise bad_control("prices", "must be a non-empty object of symbol to price")
    updates: dict[str, Decimal] = {}
    for name, raw in prices.items():
        asset = broker.state.asset(name)
        if asset is None:
            raise bad_control(f"prices.{name}", "unknown symbol")
        updates[asset.symbol] = required_decimal(
            {"p": raw}, "p", positive=True, label=f"prices.{name}"
        )
    for symbol, price in updates.items():
        broker.state.set_price(symbol, price, req.now)
    fills.settle(broker.state, req.now)
    return ok({"prices": {s: fmt(a.price) for s, a in broker.state.assets.items()}})


def put_asset(broker: SimulatedBroker, req: Request) -> Response:
    """``PUT /_paper/assets/{symbol}``: adds or changes an asset."""
    symbol = req.params["asset_symbol"].strip().upper()
    if not _SYMBOL.match(symbol):
        raise bad_control("symbol", f"invalid symbol {symbol!r}")
    body = req.json_object()
    only_fields(body, ("name", "tradable", "fractionable", "class", "exchange", "price"))
    asset_class = str_field(body, "class")
    if asset_class is not None and asset_class not in ASSET_CLASSES:
        raise bad_control("class", f"must be one of {', '.join(ASSET_CLASSES)}")
    exchange = str_field(body, "exchange")
    if exchange is not None and exchange not in EXCHANGES:
        raise bad_control("exchange", f"must be one of {', '.join(EXCHANGES)}")
    price = decimal_field(body, "price", positive=True)
    state = broker.state
    asset = state.assets.get(symbol)
    if asset is None:
        crypto = (asset_class or (CRYPTO if "/" in symbol else "us_equity")) == CRYPTO
        asset = Asset(
            asset_id(symbol),
            symbol,
            symbol,
            CRYPTO if crypto else "us_equity",
            "CRYPTO" if crypto else "NASDAQ",
            True,
            True,
            price or NEW_ASSET_PRICE,
        )
        state.assets[symbol] = asset
    elif price is not None:
        state.set_price(symbol, price, req.now)
    asset.name = str_field(body, "name") or asset.name
    asset.asset_class = asset_class or asset.asset_class
    asset.exchange = exchange or asset.exchange
    for flag in ("tradable", "fractionable"):
        value = bool_field(body, flag)
        if value is not None:
            setattr(asset, flag, value)
    fills.settle(state, req.now)
    return ok(public_asset_json(asset) | {"price": fmt(asset.price)})


def clock_json(broker: SimulatedBroker) -> dict[str, Any]:
    """Return the control view of the clock."""
    now = broker.state.clock.now()
    return {
        "now": iso_z(now),
        "frozen": broker.state.clock.frozen,
        "is_open": mc.is_open(now),
        "next_open": iso_z(mc.next_open(now)),
        "next_close": iso_z(mc.next_close(now)),
    }


def get_clock(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/clock``."""
    return ok(clock_json(broker))


def set_clock(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/clock`` ``{now?, frozen?}`` or ``{market: "open" | "closed"}``."""
    body = req.json_object()
    only_fields(body, ("now", "frozen", "market"))
    target = time_field(body, "now")
    market = str_field(body, "market")
    if market is not None:
        if target is not None:
            raise bad_control("market", "give either now or market, not both")
        if market not in ("open", "closed"):
            raise bad_control("market", f"must be open or closed, got {market!r}")
        if market == "open":
            target = mc.open_at_or_after(req.now)
        else:
            target = mc.next_close(req.now) if mc.is_open(req.now) else req.now
    broker.state.clock.set(target, bool_field(body, "frozen"))
    fills.settle(broker.state, broker.state.clock.now())
    return ok(clock_json(broker))


def next_open(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/clock/next_open``: jump to the next open and fill what waits for it."""
    broker.state.clock.set(mc.next_open(req.now))
    fills.settle(broker.state, broker.state.clock.now())
    return ok(clock_json(broker))


def add_fault(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/faults``."""
    fault = parse_fault(req.json_object(), broker.alpaca_routes, broker.state.accounts)
    broker.faults.add(fault)
    return ok(fault.to_json(), 201)


def list_faults(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/faults``."""
    return ok({"faults": broker.faults.to_json()})


def clear_faults(broker: SimulatedBroker, req: Request) -> Response:
    """``DELETE /_paper/faults``."""
    broker.faults.clear()
    return ok({"faults": []})
