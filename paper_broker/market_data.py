"""Handlers of the market-data paths: latest trades and quotes, and bars."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from paper_broker import errors
from paper_broker import market_calendar as mc
from paper_broker.assets import Asset
from paper_broker.bars import Timeframe, bars_page
from paper_broker.broker import SimulatedBroker
from paper_broker.messages import Request, Response, ok
from paper_broker.timeutil import ET, iso_z, parse_time

HALF_CENT = Decimal("0.005")
DEFAULT_BARS_LIMIT = 1000
MAX_BARS_LIMIT = 10_000


def _symbols(broker: SimulatedBroker, req: Request, crypto: bool) -> list[Asset]:
    """Return the known assets of the ``symbols`` parameter; unknown ones are left out."""
    raw = req.query.get("symbols", "")
    names = [s.strip() for s in raw.split(",") if s.strip()]
    if not names:
        raise errors.invalid("symbols is required")
    found = (broker.state.assets.get(name.upper()) for name in names)
    return [a for a in found if a is not None and a.is_crypto == crypto]


def _one_symbol(broker: SimulatedBroker, req: Request) -> Asset:
    """Return the stock asset named in the path, or 404."""
    asset = broker.state.assets.get(req.params["symbol"].upper())
    if asset is None or asset.is_crypto:
        raise errors.not_found(f"symbol {req.params['symbol']!r} not found")
    return asset


def _last_trade_time(broker: SimulatedBroker, asset: Asset, now: datetime) -> datetime:
    """Return when the last trade printed: now while trading, else the last close."""
    points = broker.state.prices_of(asset.symbol)
    last_set = max((p.at for p in points if p.at <= now), default=now)
    if asset.is_crypto or mc.is_open(now):
        return now
    return max(last_set, mc.latest_session(now).close - timedelta(seconds=1))


def _trade(broker: SimulatedBroker, asset: Asset, now: datetime) -> dict[str, Any]:
    """Return a latest trade with Alpaca's short keys."""
    stamp = _last_trade_time(broker, asset, now)
    trade: dict[str, Any] = {
        "t": iso_z(stamp),
        "p": float(asset.price),
        "s": 100,
        "i": int(stamp.timestamp() * 1000),
    }
    if asset.is_crypto:
        return trade | {"tks": "B"}
    return trade | {"x": "V", "c": ["@"], "z": "B" if asset.exchange == "ARCA" else "C"}


def _quote(broker: SimulatedBroker, asset: Asset, now: datetime) -> dict[str, Any]:
    """Return a latest quote: a one-cent spread around the price."""
    return {
        "t": iso_z(_last_trade_time(broker, asset, now)),
        "ax": "V",
        "ap": float(asset.price + HALF_CENT),
        "as": 1,
        "bx": "V",
        "bp": float(asset.price - HALF_CENT),
        "bs": 1,
        "c": ["R"],
        "z": "B" if asset.exchange == "ARCA" else "C",
    }


def latest_trades(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/stocks/trades/latest?symbols=``."""
    assets = _symbols(broker, req, crypto=False)
    return ok({"trades": {a.symbol: _trade(broker, a, req.now) for a in assets}})


def latest_trade(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/stocks/{symbol}/trades/latest``."""
    asset = _one_symbol(broker, req)
    return ok({"symbol": asset.symbol, "trade": _trade(broker, asset, req.now)})


def latest_quotes(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/stocks/quotes/latest?symbols=``."""
    assets = _symbols(broker, req, crypto=False)
    return ok({"quotes": {a.symbol: _quote(broker, a, req.now) for a in assets}})


def crypto_latest_trades(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v1beta3/crypto/us/latest/trades?symbols=``."""
    assets = _symbols(broker, req, crypto=True)
    return ok({"trades": {a.symbol: _trade(broker, a, req.now) for a in assets}})


def _bars_query(req: Request) -> tuple[Timeframe, datetime, datetime, int, str | None]:
    """Read ``timeframe``, ``start``, ``end``, ``limit`` and ``page_token``."""
    if req.query.get("sort", "asc") != "asc":
        raise errors.invalid("sort: only asc is supported")
    tf = Timeframe.parse(req.query.get("timeframe", ""))
    bounds = []
    for name, default in (
        ("start", datetime.combine(req.now.astimezone(ET).date(), time(0), ET)),
        ("end", req.now),
    ):
        text = req.query.get(name)
        # Alpaca's data API reads a bare date as midnight UTC.
        moment = parse_time(text, UTC) if text else default
        if moment is None:
            raise errors.invalid(f"invalid {name} {text!r}: must be RFC 3339 or YYYY-MM-DD")
        bounds.append(moment)
    try:
        limit = int(req.query.get("limit", str(DEFAULT_BARS_LIMIT)))
    except ValueError:
        raise errors.invalid("limit must be an integer") from None
    if not 1 <= limit <= MAX_BARS_LIMIT:
        raise errors.invalid(f"limit must be between 1 and {MAX_BARS_LIMIT}")
    return tf, bounds[0], bounds[1], limit, req.query.get("page_token") or None


def stock_bars(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/stocks/bars?symbols=&timeframe=&start=&end=&limit=&page_token=``."""
    symbols = sorted(a.symbol for a in _symbols(broker, req, crypto=False))
    page, token = bars_page(broker.state, symbols, _bars_query(req), req.now)
    return ok({"bars": page, "next_page_token": token})


def stock_bars_one(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/stocks/{symbol}/bars``."""
    asset = _one_symbol(broker, req)
    page, token = bars_page(broker.state, [asset.symbol], _bars_query(req), req.now)
    return ok(
        {"symbol": asset.symbol, "bars": page.get(asset.symbol, []), "next_page_token": token}
    )
