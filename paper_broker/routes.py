"""The route table: ``METHOD /path-template`` to handler, and path matching."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from paper_broker import control, control_accounts, errors, market_data, trading_api
from paper_broker.broker import SimulatedBroker
from paper_broker.messages import Request, Response

Handler = Callable[[SimulatedBroker, Request], Response]
# Parameters that may hold a slash, as crypto symbols do (BTC/USD).
_GREEDY = frozenset({"symbol_or_asset_id", "asset_symbol"})
# Alpaca serves crypto market data without credentials too.
_OPEN_DATA = frozenset({"/v1beta3/crypto/us/latest/trades"})


@dataclass(frozen=True)
class Route:
    """One served route; ``alpaca`` routes take credentials and are counted."""

    method: str
    template: str
    handler: Handler
    alpaca: bool
    pattern: re.Pattern[str]

    @property
    def credentials_optional(self) -> bool:
        """Whether the route also answers requests that carry no credentials at all."""
        return self.template in _OPEN_DATA

    @property
    def name(self) -> str:
        """Return the route as faults and counters name it, e.g. ``GET /v2/orders/{id}``."""
        return f"{self.method} {self.template}"


def _route(method: str, template: str, handler: Handler) -> Route:
    """Compile a route from its template."""

    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>{'.+' if name in _GREEDY else '[^/]+'})"

    regex = re.sub(r"\\\{(\w+)\\\}", group, re.escape(template))
    return Route(method, template, handler, not template.startswith("/_paper"), re.compile(regex))


ROUTES = (
    _route("GET", "/v2/account", trading_api.get_account),
    _route("GET", "/v2/positions", trading_api.get_positions),
    _route("GET", "/v2/positions/{symbol_or_asset_id}", trading_api.get_position),
    _route("POST", "/v2/orders", trading_api.post_order),
    _route("GET", "/v2/orders", trading_api.get_orders),
    _route("DELETE", "/v2/orders", trading_api.delete_orders),
    _route("GET", "/v2/orders:by_client_order_id", trading_api.get_order_by_client_id),
    _route("GET", "/v2/orders/{id}", trading_api.get_order),
    _route("DELETE", "/v2/orders/{id}", trading_api.delete_order),
    _route("GET", "/v2/clock", trading_api.get_clock),
    _route("GET", "/v2/calendar", trading_api.get_calendar),
    _route("GET", "/v2/assets", trading_api.get_assets),
    _route("GET", "/v2/assets/{symbol_or_asset_id}", trading_api.get_asset),
    _route("GET", "/v2/account/activities", trading_api.get_activities),
    _route("GET", "/v2/account/activities/{activity_type}", trading_api.get_activities_of_type),
    _route("GET", "/v2/stocks/trades/latest", market_data.latest_trades),
    _route("GET", "/v2/stocks/{symbol}/trades/latest", market_data.latest_trade),
    _route("GET", "/v2/stocks/quotes/latest", market_data.latest_quotes),
    _route("GET", "/v2/stocks/bars", market_data.stock_bars),
    _route("GET", "/v2/stocks/{symbol}/bars", market_data.stock_bars_one),
    _route("GET", "/v1beta3/crypto/us/latest/trades", market_data.crypto_latest_trades),
    _route("GET", "/_paper/health", control.health),
    _route("POST", "/_paper/reset", control.reset),
    _route("POST", "/_paper/accounts", control_accounts.create_account),
    _route("GET", "/_paper/accounts/{id}", control_accounts.get_account),
    _route("POST", "/_paper/accounts/{id}/cash", control_accounts.set_cash),
    _route("POST", "/_paper/accounts/{id}/lots", control_accounts.add_lots),
    _route("GET", "/_paper/accounts/{id}/counters", control_accounts.get_counters),
    _route("DELETE", "/_paper/accounts/{id}/counters", control_accounts.clear_counters),
    _route("POST", "/_paper/prices", control.set_prices),
    _route("PUT", "/_paper/assets/{asset_symbol}", control.put_asset),
    _route("GET", "/_paper/history", control.get_history),
    _route("POST", "/_paper/history", control.set_history),
    _route("GET", "/_paper/clock", control.get_clock),
    _route("POST", "/_paper/clock", control.set_clock),
    _route("POST", "/_paper/clock/next_open", control.next_open),
    _route("POST", "/_paper/faults", control.add_fault),
    _route("GET", "/_paper/faults", control.list_faults),
    _route("DELETE", "/_paper/faults", control.clear_faults),
)
ALPACA_ROUTES = frozenset(r.name for r in ROUTES if r.alpaca)


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """Return the route and decoded path parameters, or 404 / 405."""
    path_known = False
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
        path_known = True
    raise errors.not_allowed() if path_known else errors.not_found("endpoint not found")
