"""Handlers of the Alpaca Trading API v2 paths."""

from __future__ import annotations

from datetime import date

from paper_broker import errors, fills
from paper_broker import market_calendar as mc
from paper_broker.activities import list_activities
from paper_broker.assets import ASSET_CLASSES, asset_json
from paper_broker.broker import SimulatedBroker
from paper_broker.messages import Request, Response, ok
from paper_broker.orders import cancel_order, find_order, list_orders, submit_order
from paper_broker.portfolio import account_json, position_json, positions_json
from paper_broker.timeutil import iso_et, parse_date
from paper_broker.views import order_json


def get_account(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/account``."""
    return ok(account_json(broker.state, req.caller, req.now))


def get_positions(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/positions``."""
    return ok(positions_json(broker.state, req.caller, req.now))


def get_position(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/positions/{symbol_or_asset_id}``."""
    asset = broker.state.asset(req.params["symbol_or_asset_id"])
    if asset is None or req.caller.position_qty(asset.symbol) <= 0:
        raise errors.not_found("position does not exist")
    return ok(position_json(broker.state, req.caller, asset.symbol, req.now))


def post_order(broker: SimulatedBroker, req: Request) -> Response:
    """``POST /v2/orders``: answers the order as accepted, then applies any fill at once."""
    order = submit_order(broker.state, req.caller, req.json(), req.now, req.fill_ratio)
    answer = order_json(order)
    fills.evaluate(broker.state, order, req.now)
    return ok(answer)


def get_orders(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/orders``."""
    return ok([order_json(o) for o in list_orders(req.caller, req.query)])


def delete_orders(broker: SimulatedBroker, req: Request) -> Response:
    """``DELETE /v2/orders``: cancels every open order, 207 with one status per order."""
    results = []
    for order in req.caller.orders:
        if order.is_open:
            cancel_order(order, req.now)
            results.append({"id": order.id, "status": 200, "body": order_json(order)})
    return ok(results, 207)


def get_order(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/orders/{id}``."""
    return ok(order_json(find_order(req.caller, req.params["id"])))


def delete_order(broker: SimulatedBroker, req: Request) -> Response:
    """``DELETE /v2/orders/{id}``: 204, or 422 when the order is already done."""
    cancel_order(find_order(req.caller, req.params["id"]), req.now)
    return Response(204)


def get_order_by_client_id(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/orders:by_client_order_id?client_order_id=``."""
    wanted = req.query.get("client_order_id")
    if not wanted:
        raise errors.invalid("client_order_id is required")
    order = next((o for o in req.caller.orders if o.client_order_id == wanted), None)
    if order is None:
        raise errors.not_found("order not found")
    return ok(order_json(order))


def get_clock(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/clock``, in New York time with offsets."""
    return ok(
        {
            "timestamp": iso_et(req.now),
            "is_open": mc.is_open(req.now),
            "next_open": iso_et(mc.next_open(req.now)),
            "next_close": iso_et(mc.next_close(req.now)),
        }
    )


def _date_param(req: Request, name: str, default: date) -> date:
    """Return a date query parameter, or 422 when it does not parse."""
    if not req.query.get(name):
        return default
    day = parse_date(req.query[name])
    if day is None:
        raise errors.invalid(f"invalid {name} {req.query[name]!r}: must be YYYY-MM-DD")
    return day


def get_calendar(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/calendar?start=&end=``."""
    start = _date_param(req, "start", date(mc.FIRST_YEAR, 1, 1))
    end = _date_param(req, "end", date(mc.LAST_YEAR, 12, 31))
    return ok(mc.calendar_json(start, end))


def get_assets(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/assets`` with the ``status``, ``asset_class`` and ``exchange`` filters."""
    status = req.query.get("status")
    asset_class = req.query.get("asset_class")
    if asset_class is not None and asset_class not in ASSET_CLASSES:
        raise errors.invalid(f"invalid asset_class {asset_class!r}")
    exchange = req.query.get("exchange")
    chosen = [
        asset_json(a)
        for a in broker.state.assets.values()
        if asset_class is None or a.asset_class == asset_class
        if exchange is None or a.exchange == exchange
    ]
    return ok([a for a in chosen if status is None or a["status"] == status])


def get_asset(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/assets/{symbol_or_asset_id}``."""
    asset = broker.state.asset(req.params["symbol_or_asset_id"])
    if asset is None:
        raise errors.not_found("asset not found")
    return ok(asset_json(asset))


def get_activities(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/account/activities?activity_types=FILL``."""
    return ok(list_activities(req.caller, req.query))


def get_activities_of_type(broker: SimulatedBroker, req: Request) -> Response:
    """``GET /v2/account/activities/{activity_type}``."""
    return ok(list_activities(req.caller, req.query, req.params["activity_type"]))
