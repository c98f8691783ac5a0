"""Market, limit, fractional and notional orders: fills, listing and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, OrderSide, OrderStatus, OrderType, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)

from .conftest import Clients, Control

pytestmark = pytest.mark.integration


def market(
    client: TradingClient,
    symbol: str,
    side: OrderSide = OrderSide.BUY,
    tif: TimeInForce = TimeInForce.DAY,
    **amount: float | str,
) -> Order:
    """Submit a market order with ``qty=`` or ``notional=``."""
    request = MarketOrderRequest(symbol=symbol, side=side, time_in_force=tif, **amount)
    order: Order = client.submit_order(request)
    return order


def limit(
    client: TradingClient,
    symbol: str,
    qty: float,
    price: float,
    side: OrderSide = OrderSide.BUY,
    tif: TimeInForce = TimeInForce.DAY,
) -> Order:
    """Submit a limit order."""
    request = LimitOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=tif, limit_price=price
    )
    order: Order = client.submit_order(request)
    return order


def test_market_order_answers_new_then_shows_its_fill(control: Control, clients: Clients) -> None:
    account = control.account(cash="10000")
    client = clients.trading(account)
    order = market(client, "SPY", qty=3, client_order_id="mine-1")
    assert order.status == OrderStatus.NEW
    assert order.filled_qty == "0"
    assert order.filled_avg_price is None
    assert order.client_order_id == "mine-1"
    assert order.qty == "3"
    assert order.notional is None
    assert order.type == order.order_type == OrderType.MARKET
    assert order.asset_class == AssetClass.US_EQUITY
    assert order.legs is None
    assert order.created_at == order.submitted_at
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert filled.filled_qty == "3"
    assert filled.filled_avg_price == "500"
    assert filled.filled_at == datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
    assert client.get_account().cash == "8500"
    assert client.get_open_position("SPY").qty == "3"


def test_fractional_qty_order(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="1000"))
    order = market(client, "QQQ", qty=0.125)
    filled = client.get_order_by_id(order.id)
    assert filled.filled_qty == "0.125"
    assert client.get_account().cash == "946.25"


def test_notional_buy_computes_qty_at_fill(control: Control, clients: Clients) -> None:
    symbol = control.new_symbol(price="430.17")
    client = clients.trading(control.account(cash="1000"))
    order = market(client, symbol, notional=100)
    assert order.notional == "100"
    assert order.qty is None
    filled = client.get_order_by_id(order.id)
    # 100 / 430.17 rounded down to 9 decimals.
    assert filled.filled_qty == "0.232466234"
    assert filled.filled_avg_price == "430.17"
    assert filled.status == OrderStatus.FILLED
    assert client.get_account().cash == "900"


def test_notional_sell_of_a_fractionable_asset(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="1000"))
    market(client, "TLT", qty=2)
    sold = market(client, "TLT", side=OrderSide.SELL, notional=47.5)
    assert client.get_order_by_id(sold.id).filled_qty == "0.5"
    assert client.get_open_position("TLT").qty == "1.5"
    assert client.get_account().cash == "857.5"


def test_quantities_may_be_strings(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="1000"))
    body = {
        "symbol": "GLD",
        "qty": "1.5",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "195.5",
    }
    order = Order(**client.post("/orders", body))
    assert order.limit_price == "195.5"
    assert client.get_order_by_id(order.id).filled_avg_price == "190"


def test_limit_order_waits_until_a_price_change_crosses_it(
    control: Control, clients: Clients
) -> None:
    symbol = control.new_symbol(price="100")
    account = control.account(cash="10000")
    client = clients.trading(account)
    order = limit(client, symbol, 10, 95)
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    # An open limit buy holds qty x limit_price of buying power.
    assert client.get_account().buying_power == "9050"
    control.prices(**{symbol: "96"})
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    control.prices(**{symbol: "94.5"})
    filled = client.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    # Fills happen at the current price, which may be better than the limit.
    assert filled.filled_avg_price == "94.5"
    assert client.get_account().cash == "9055"


def test_marketable_limit_sell_fills_at_once(control: Control, clients: Clients) -> None:
    symbol = control.new_symbol(price="50")
    client = clients.trading(control.account(cash="1000"))
    market(client, symbol, qty=4)
    order = limit(client, symbol, 4, 49.99, side=OrderSide.SELL)
    assert client.get_order_by_id(order.id).status == OrderStatus.FILLED
    assert client.get_all_positions() == []
    assert client.get_account().cash == "1000"


def test_open_sell_holds_qty_available(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="1000"))
    market(client, "BND", qty=5)
    limit(client, "BND", 2, 80, side=OrderSide.SELL)
    position = client.get_open_position("BND")
    assert position.qty == "5"
    assert position.qty_available == "3"


def test_crypto_trades_while_the_stock_market_is_closed(control: Control, clients: Clients) -> None:
    control.clock("2024-03-09T15:00:00Z")
    client = clients.trading(control.account(cash="10000"))
    order = market(client, "BTC/USD", tif=TimeInForce.GTC, qty=0.01)
    assert order.status == OrderStatus.NEW
    assert order.asset_class == AssetClass.CRYPTO
    assert client.get_order_by_id(order.id).filled_qty == "0.01"
    assert client.get_account().cash == "9400"
    assert client.get_open_position("BTCUSD").symbol == "BTC/USD"


def test_listing_filters(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="100000"))
    first = market(client, "SPY", qty=1)
    control.clock("2024-03-12T14:05:00Z")
    second = limit(client, "QQQ", 1, 1)
    control.clock("2024-03-12T14:10:00Z")
    third = limit(client, "VTI", 1, 1, side=OrderSide.BUY)
    ids = lambda orders: [str(o.id) for o in orders]  # noqa: E731
    assert ids(client.get_orders()) == [str(third.id), str(second.id)]
    assert ids(client.get_orders(GetOrdersRequest(status="closed"))) == [str(first.id)]
    every = GetOrdersRequest(status="all", direction="asc")
    assert ids(client.get_orders(every)) == [str(first.id), str(second.id), str(third.id)]
    assert ids(client.get_orders(GetOrdersRequest(status="all", limit=1))) == [str(third.id)]
    by_symbol = GetOrdersRequest(status="all", symbols=["SPY", "VTI"])
    assert ids(client.get_orders(by_symbol)) == [str(third.id), str(first.id)]
    assert ids(client.get_orders(GetOrdersRequest(status="all", side=OrderSide.SELL))) == []
    window = GetOrdersRequest(
        status="all",
        after=datetime(2024, 3, 12, 14, 1, tzinfo=UTC),
        until=datetime(2024, 3, 12, 14, 9, tzinfo=UTC),
    )
    assert ids(client.get_orders(window)) == [str(second.id)]


def test_find_by_client_order_id(trading: TradingClient) -> None:
    order = market(trading, "IEF", qty=1, client_order_id="rebalance-2024-03-12-IEF")
    found = trading.get_order_by_client_id("rebalance-2024-03-12-IEF")
    assert found.id == order.id
    with pytest.raises(APIError) as error:
        trading.get_order_by_client_id("never-sent")
    assert (error.value.status_code, error.value.code) == (404, 40410000)


def test_cancel_an_open_order_then_not_again(trading: TradingClient) -> None:
    order = limit(trading, "SHY", 1, 50)
    assert trading.cancel_order_by_id(order.id) is None
    canceled = trading.get_order_by_id(order.id)
    assert canceled.status == OrderStatus.CANCELED
    assert canceled.canceled_at is not None
    with pytest.raises(APIError) as error:
        trading.cancel_order_by_id(order.id)
    assert (error.value.status_code, error.value.code) == (422, 42210000)


def test_a_filled_order_is_not_cancelable(trading: TradingClient) -> None:
    order = market(trading, "VNQ", qty=1)
    with pytest.raises(APIError) as error:
        trading.cancel_order_by_id(order.id)
    assert (error.value.status_code, error.value.code) == (422, 42210000)


def test_cancel_all_open_orders(trading: TradingClient) -> None:
    open_ids = {str(limit(trading, s, 1, 1).id) for s in ("AGG", "VXUS")}
    market(trading, "IVV", qty=1)
    answers = trading.cancel_orders()
    assert {str(a.id) for a in answers} == open_ids
    assert {a.status for a in answers} == {200}
    assert trading.get_orders() == []
    closed = trading.get_orders(GetOrdersRequest(status="closed"))
    assert sorted(o.status for o in closed) == sorted(
        [OrderStatus.CANCELED, OrderStatus.CANCELED, OrderStatus.FILLED]
    )


def test_buying_power_counts_open_orders(control: Control, clients: Clients) -> None:
    client = clients.trading(control.account(cash="1000"))
    limit(client, "SPY", 1, 400)
    limit(client, "SPY", 1, 400)
    with pytest.raises(APIError) as error:
        limit(client, "SPY", 1, 400)
    assert (error.value.status_code, error.value.code) == (403, 40310000)
    assert Decimal(client.get_account().buying_power or "") == Decimal(200)
