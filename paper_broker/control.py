"""The control API under ``/_paper/``: reset, prices, assets, the clock and faults.

Account requests are in ``control_accounts``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from paper_broker import fills, history
from paper_broker import market_calendar as mc
from paper_broker.assets import ASSET_CLASSES, CRYPTO, EXCHANGES, NEW_ASSET_PRICE, Asset, asset_id
from paper_broker.assets import asset_json as public_asset_json
from paper_broker.broker import SimulatedBroker
from paper_broker.errors import bad_control
from paper_broker.faults import parse_fault
from paper_broker.fields import (
    bool_field,
    decimal_field,
    int_field,
    only_fields,
    required_decimal,
    str_field,
    time_field,
)
from paper_broker.messages import Request, Response, ok
from paper_broker.money import fmt, to_decimal
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
    only_fields(
        body,
        (
            "name",
            "tradable",
            "fractionable",
            "class",
            "exchange",
            "price",
            "kind",
            "volatility",
            "drift",
        ),
    )
    asset_class = str_field(body, "class")
    if asset_class is not None and asset_class not in ASSET_CLASSES:
        raise bad_control("class", f"must be one of {', '.join(ASSET_CLASSES)}")
    exchange = str_field(body, "exchange")
    if exchange is not None and exchange not in EXCHANGES:
        raise bad_control("exchange", f"must be one of {', '.join(EXCHANGES)}")
    price = decimal_field(body, "price", positive=True)
    kind = str_field(body, "kind")
    if kind is not None and kind not in history.KINDS:
        raise bad_control("kind", f"must be one of {', '.join(history.KINDS)}")
    volatility = decimal_field(body, "volatility")
    if volatility is not None and volatility > history.MAX_VOLATILITY:
        raise bad_control("volatility", f"must be at most {history.MAX_VOLATILITY}")
    drift = _drift(body)
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
    if kind is not None and kind != asset.kind:
        # A new kind brings its own defaults, unless the request sets them too.
        asset.kind = kind
        asset.volatility = history.KINDS[kind].volatility
        asset.drift = history.KINDS[kind].drift
    asset.volatility = asset.volatility if volatility is None else volatility
    asset.drift = asset.drift if drift is None else drift
    fills.settle(state, req.now)
    return ok(public_asset_json(asset) | {"price": fmt(asset.price), "history": _params(asset)})


def _drift(body: dict[str, Any]) -> Decimal | None:
    """Return the optional annual drift, a decimal from -1 to 1."""
    raw = body.get("drift")
    if raw is None:
        return None
    drift = to_decimal(raw)
    if drift is None or abs(drift) > history.MAX_DRIFT:
        raise bad_control("drift", f"must be a decimal from -1 to 1, got {raw!r}")
    return drift


def _params(asset: Asset) -> dict[str, Any]:
    """Return the synthetic-history parameters of an asset."""
    return {"kind": asset.kind, "volatility": str(asset.volatility), "drift": str(asset.drift)}


def history_json(broker: SimulatedBroker) -> dict[str, Any]:
    """Return the synthetic history's settings and every stock's parameters."""
    return {
        "seed": broker.state.history_seed,
        "years": history.YEARS,
        "kinds": {
            name: {
                "volatility": str(kind.volatility),
                "drift": str(kind.drift),
                "loadings": dict(zip(("market", "rates", "crypto"), kind.loadings, strict=True)),
            }
            for name, kind in history.KINDS.items()
        },
        "assets": {s: _params(a) for s, a in sorted(broker.state.assets.items())},
    }


def get_history(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /_paper/history``: the seed, the kinds' defaults and each asset's parameters."""
    return ok(history_json(broker))


def set_history(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /_paper/history`` ``{seed}``: reseed the synthetic history (kept on reset)."""
    body = req.json_object()
    only_fields(body, ("seed",))
    seed = int_field(body, "seed", broker.state.history_seed, 0, 2**63 - 1)
    broker.state.history_seed = seed
    broker.history_seed = seed
    return ok(history_json(broker))


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
