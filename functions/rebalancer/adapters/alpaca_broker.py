"""The Broker port on alpaca-py: TradingClient plus market data, with timeouts and errors mapped.

alpaca-py pulls pandas, so it is imported only when a broker is first connected.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from rebalancer.domain.errors import (
    BrokerAuthFailed,
    BrokerError,
    BrokerRateLimited,
    BrokerRejected,
    BrokerUnavailable,
    BuyingPowerShort,
    DuplicateOrderId,
)
from rebalancer.domain.models import ZERO, AssetInfo, OrderIntent, OrderResult, Side
from rebalancer.domain.tax import Fill
from rebalancer.service.ports import (
    BrokerAccount,
    BrokerCredentials,
    BrokerPosition,
    MarketClock,
)

if TYPE_CHECKING:
    from alpaca.common.rest import RESTClient
    from alpaca.trading.client import TradingClient

ASSET_CACHE_SECONDS = 3600.0
DATA_BATCH = 100
ACTIVITY_PAGE = 100
# Alpaca's largest page of bars.
BARS_PAGE = 10_000
NEW_YORK = ZoneInfo("America/New_York")


class _TimeoutSession(requests.Session):
    """A session with a default timeout: alpaca-py sets none, and a hung broker must not hang us."""

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        self.timeout_seconds = timeout_seconds

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send with the default timeout unless one is given."""
        assert isinstance(method, str)
        kwargs.setdefault("timeout", self.timeout_seconds)
        return super().request(method, url, **kwargs)


class AlpacaConnector:
    """Makes `AlpacaBroker`s; shares an asset cache across users of one instance."""

    def __init__(self, url_override: str | None = None, timeout_seconds: float = 10.0) -> None:
        self.url_override = url_override or None
        self.timeout_seconds = timeout_seconds
        self._assets: dict[str, tuple[float, AssetInfo | None]] = {}
        self.calendars: dict[tuple[date, date], set[date]] = {}
        self._lock = threading.Lock()

    def connect(self, credentials: BrokerCredentials) -> AlpacaBroker:
        """A broker client for these credentials (no request is made)."""
        from alpaca.data.historical.stock import StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

        auth = _auth(credentials)
        trading = TradingClient(**auth, paper=credentials.paper, url_override=self.url_override)
        data = StockHistoricalDataClient(**auth, url_override=self.url_override)
        for client in (trading, data):
            self._configure(client)
        return AlpacaBroker(trading, data, self)

    def _configure(self, client: RESTClient) -> None:
        client._session = _TimeoutSession(self.timeout_seconds)
        # Retries belong to the execution engine, which knows what is safe to repeat.
        client._retry = 0

    def cached_asset(self, symbol: str) -> tuple[bool, AssetInfo | None]:
        """(hit, asset) from the shared cache."""
        with self._lock:
            entry = self._assets.get(symbol)
        if entry is None or time.monotonic() - entry[0] > ASSET_CACHE_SECONDS:
            return False, None
        return True, entry[1]

    def remember_asset(self, symbol: str, asset: AssetInfo | None) -> None:
        """Cache an asset (or the fact that the broker does not know it)."""
        with self._lock:
            self._assets[symbol] = (time.monotonic(), asset)


def _auth(credentials: BrokerCredentials) -> dict[str, Any]:
    if credentials.oauth_token:
        return {"oauth_token": credentials.oauth_token}
    return {"api_key": credentials.api_key_id, "secret_key": credentials.secret_key}


class AlpacaBroker:
    """One Alpaca account through alpaca-py."""

    def __init__(self, trading: TradingClient, data: RESTClient, connector: AlpacaConnector):
        self.trading = trading
        self.data = data
        self.connector = connector

    def get_account(self) -> BrokerAccount:
        """Cash, value and status of the account.

        Buying power is what can be spent without margin: Alpaca's `buying_power` and
        `non_marginable_buying_power` already subtract what open buy orders hold; the
        smaller of the two is taken, so that a margin account never lends.
        """
        raw = _call(lambda: self.trading.get("/account"))
        power = Decimal(raw["buying_power"])
        if raw.get("non_marginable_buying_power") not in (None, ""):
            power = min(power, Decimal(raw["non_marginable_buying_power"]))
        return BrokerAccount(
            account_number=str(raw["account_number"]),
            status=str(raw["status"]),
            cash_usd=Decimal(raw["cash"]),
            portfolio_value_usd=Decimal(raw.get("portfolio_value") or raw["equity"]),
            buying_power_usd=power,
        )

    def get_positions(self) -> list[BrokerPosition]:
        """Every open position."""
        raw = _call(lambda: self.trading.get("/positions"))
        return [
            BrokerPosition(
                symbol=p["symbol"],
                qty=Decimal(p["qty"]),
                price_usd=Decimal(p["current_price"]),
                market_value_usd=Decimal(p["market_value"]),
                cost_basis_usd=Decimal(p["cost_basis"]),
                qty_available=_dec(p.get("qty_available")),
            )
            for p in raw
        ]

    def get_assets(self, symbols: Iterable[str]) -> dict[str, AssetInfo]:
        """Asset information, from the shared cache or one request per unknown symbol."""
        found: dict[str, AssetInfo] = {}
        for symbol in symbols:
            hit, asset = self.connector.cached_asset(symbol)
            if not hit:
                asset = self._fetch_asset(symbol)
                self.connector.remember_asset(symbol, asset)
            if asset is not None:
                found[symbol] = asset
        return found

    def _fetch_asset(self, symbol: str) -> AssetInfo | None:
        try:
            raw = _call(lambda: self.trading.get(f"/assets/{quote(symbol, safe='')}"))
        except BrokerRejected as error:
            if error.status == 404:
                return None
            raise
        return AssetInfo(
            symbol=raw["symbol"],
            tradable=bool(raw["tradable"]),
            fractionable=bool(raw["fractionable"]),
            asset_class=str(raw.get("class", "us_equity")),
        )

    def get_latest_prices(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Latest trade price per symbol, in batches of 100 (crypto pairs from their feed)."""
        wanted = sorted(set(symbols))
        stocks = [s for s in wanted if "/" not in s]
        pairs = [s for s in wanted if "/" in s]
        prices: dict[str, Decimal] = {}
        for names, path, version in (
            (stocks, "/stocks/trades/latest", None),
            (pairs, "/crypto/us/latest/trades", "v1beta3"),
        ):
            for start in range(0, len(names), DATA_BATCH):
                query = {"symbols": ",".join(names[start : start + DATA_BATCH])}
                options = {"api_version": version} if version else {}
                raw = _call(partial(self.data.get, path, query, **options))
                for symbol, trade in (raw.get("trades") or {}).items():
                    prices[symbol] = Decimal(str(trade["p"]))
        return prices

    def submit_order(self, intent: OrderIntent) -> OrderResult:
        """Place one order; quantities go as decimal strings so that no float rounds them."""
        body: dict[str, Any] = {
            "symbol": intent.symbol,
            "side": str(intent.side),
            "type": str(intent.order_type),
            "time_in_force": str(intent.time_in_force),
        }
        if intent.qty is not None:
            body["qty"] = format(intent.qty, "f")
        if intent.notional_usd is not None:
            body["notional"] = format(intent.notional_usd, "f")
        if intent.limit_price_usd is not None:
            body["limit_price"] = format(intent.limit_price_usd, "f")
        if intent.client_order_id:
            body["client_order_id"] = intent.client_order_id
        return order_result(_call(lambda: self.trading.post("/orders", body)))

    def get_clock(self) -> MarketClock:
        """The market clock."""
        raw = _call(lambda: self.trading.get("/clock"))
        return MarketClock(bool(raw["is_open"]), datetime.fromisoformat(str(raw["next_open"])))

    def get_order(self, order_id: str) -> OrderResult:
        """One order by the broker's id."""
        return order_result(_call(lambda: self.trading.get(f"/orders/{quote(order_id, safe='')}")))

    def trading_days(self, start: date, end: date) -> set[date]:
        """Trading days from the broker's calendar; cached per instance (it rarely changes)."""
        key = (start, end)
        cached = self.connector.calendars.get(key)
        if cached is not None:
            return cached
        params = {"start": start.isoformat(), "end": end.isoformat()}
        days = {
            date.fromisoformat(str(row["date"]))
            for row in _call(partial(self.trading.get, "/calendar", params))
        }
        self.connector.calendars[key] = days
        return days

    def recent_orders(self, since: datetime) -> list[OrderResult]:
        """Orders submitted after `since`, any status, in one request (at most 500)."""
        params = {"status": "all", "limit": "500", "after": since.isoformat()}
        return [order_result(raw) for raw in _call(partial(self.trading.get, "/orders", params))]

    def find_order(self, client_order_id: str) -> OrderResult | None:
        """The order with this client order id, or None when the broker has none."""
        params = {"client_order_id": client_order_id}
        try:
            raw = _call(partial(self.trading.get, "/orders:by_client_order_id", params))
        except BrokerRejected as error:
            if error.status == 404:
                return None
            raise
        return order_result(raw)

    def cancel_order(self, order_id: str) -> None:
        """Cancel an open order; one already finished (422) is left as it is."""
        try:
            _call(lambda: self.trading.delete(f"/orders/{quote(order_id, safe='')}"))
        except BrokerRejected as error:
            if error.status not in {404, 422}:
                raise

    def get_daily_closes(
        self, symbols: Iterable[str], start: date, end: date
    ) -> dict[str, list[tuple[date, Decimal]]]:
        """Daily closes (split- and dividend-adjusted) from `/v2/stocks/bars`, oldest first.

        Symbols go in batches of 100 and each batch follows `next_page_token`; a daily bar
        is stamped at midnight New York time, whose date is the session's. Crypto pairs
        and symbols without bars are left out.
        """
        wanted = sorted({s for s in symbols if "/" not in s})
        closes: dict[str, list[tuple[date, Decimal]]] = {}
        if not wanted or end < start:
            return closes
        bounds = {
            "start": datetime.combine(start, clock_time(0), NEW_YORK).isoformat(),
            # The bar of `end` is stamped at its midnight: any instant of that day keeps it.
            "end": datetime.combine(end + timedelta(days=1), clock_time(0), NEW_YORK).isoformat(),
        }
        for first in range(0, len(wanted), DATA_BATCH):
            params = {
                "symbols": ",".join(wanted[first : first + DATA_BATCH]),
                "timeframe": "1Day",
                "adjustment": "all",
                "limit": str(BARS_PAGE),
                **bounds,
            }
            token: str | None = None
            while True:
                query = {**params, "page_token": token} if token else params
                page = _call(partial(self.data.get, "/stocks/bars", query))
                for symbol, bars in (page.get("bars") or {}).items():
                    series = closes.setdefault(symbol, [])
                    for bar in bars:
                        day = _bar_day(str(bar["t"]))
                        if start <= day <= end:
                            series.append((day, Decimal(str(bar["c"]))))
                token = page.get("next_page_token") or None
                if token is None:
                    break
        return {symbol: series for symbol, series in closes.items() if series}

    def get_fills(self) -> list[Fill]:
        """Every FILL activity, oldest first, following `page_token` through the pages.

        alpaca-py's TradingClient has no activities method, so this calls the REST path.
        """
        fills: list[Fill] = []
        token: str | None = None
        while True:
            params = {"direction": "asc", "page_size": str(ACTIVITY_PAGE)}
            if token:
                params["page_token"] = token
            page = _call(partial(self.trading.get, "/account/activities/FILL", params))
            start = len(fills)  # not len() inside: extend grows the list as it goes
            fills.extend(fill_from_activity(raw, start + i) for i, raw in enumerate(page))
            if len(page) < ACTIVITY_PAGE:
                return fills
            token = str(page[-1]["id"])


def _bar_day(stamp: str) -> date:
    """The New York date of a bar's RFC 3339 timestamp."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(NEW_YORK).date()


def fill_from_activity(raw: dict[str, Any], sequence: int) -> Fill:
    """A FILL activity as the domain's `Fill` (the date in New York, as the broker books it)."""
    from alpaca.trading.models import TradeActivity

    activity = TradeActivity(**raw)  # the real model validates the broker's answer
    when = activity.transaction_time.astimezone(NEW_YORK).date()
    return Fill(
        symbol=activity.symbol,
        side=Side(str(raw["side"])),
        qty=Decimal(str(raw["qty"])),
        price_usd=Decimal(str(raw["price"])),
        on=when,
        sequence=sequence,
    )


def order_result(raw: dict[str, Any]) -> OrderResult:
    """An Alpaca order JSON as the domain's `OrderResult`."""
    from alpaca.trading.models import Order

    order = Order(**raw)  # the real model validates the broker's answer
    return OrderResult(
        symbol=str(order.symbol),
        side=Side(str(raw["side"])),
        qty=_dec(raw.get("qty")),
        notional_usd=_dec(raw.get("notional")),
        status=str(raw["status"]),
        order_id=str(order.id),
        client_order_id=order.client_order_id,
        filled_qty=_dec(raw.get("filled_qty")) or ZERO,
        filled_avg_price_usd=_dec(raw.get("filled_avg_price")),
    )


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _call(request: Callable[[], Any]) -> Any:
    """Run one alpaca-py request, mapping every failure to the domain's broker errors."""
    from alpaca.common.exceptions import APIError

    try:
        return request()
    except APIError as error:
        raise broker_error(error.status_code, str(error), _reset_after(error)) from None
    except requests.RequestException as error:
        raise BrokerUnavailable(f"broker unreachable: {type(error).__name__}") from None


def _reset_after(error: Any) -> float | None:
    """Seconds until the rate limit resets, from `X-Ratelimit-Reset` (epoch seconds)."""
    response = getattr(error, "response", None)
    reset = response.headers.get("X-Ratelimit-Reset") if response is not None else None
    try:
        return max(0.0, float(reset) - time.time()) if reset else None
    except ValueError:
        return None


def broker_error(status: int | None, body: str, retry_after_s: float | None = None) -> BrokerError:
    """The domain error for an HTTP error answer (the body may not be JSON)."""
    code: int | None = None
    message = body[:200]
    try:
        parsed = json.loads(body)
        code = int(parsed["code"])
        message = str(parsed.get("message", message))
    except (ValueError, KeyError, TypeError):
        pass
    if status == 401:
        return BrokerAuthFailed(f"broker refused the credentials: {message}", status=status)
    if status == 429:
        return BrokerRateLimited(
            f"broker rate limit: {message}",
            status=status,
            broker_code=code,
            retry_after_s=retry_after_s,
        )
    if status is None or status >= 500:
        return BrokerUnavailable(f"broker error {status}: {message}", status=status)
    if code == INSUFFICIENT_FUNDS:
        return BuyingPowerShort(message, status=status, broker_code=code)
    if status == 422 and "client_order_id" in message:
        return DuplicateOrderId(message, status=status, broker_code=code)
    return BrokerRejected(message, status=status, broker_code=code)


INSUFFICIENT_FUNDS = 40310000  # Alpaca's code for insufficient buying power or quantity
