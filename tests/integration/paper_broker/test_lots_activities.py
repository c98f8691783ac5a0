"""Tax lots (FIFO relief, cost basis, cash) and FILL activities with paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import ActivityType, OrderSide, OrderStatus, TradeActivityType
from alpaca.trading.models import TradeActivity
from alpaca.trading.requests import MarketOrderRequest

from .conftest import Clients, Control

pytestmark = pytest.mark.integration

ACTIVITY_ID = re.compile(r"^\d{17}::[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def seed(control: Control, account: dict[str, Any], *lots: dict[str, str]) -> dict[str, Any]:
    """Add lots to an account through the control API."""
    answer: dict[str, Any] = control.ok(
        "POST", f"/_paper/accounts/{account['id']}/lots", {"lots": list(lots)}
    )
    return answer


def fills(client: TradingClient, **params: Any) -> list[TradeActivity]:
    """Return one page of FILL activities, parsed by alpaca-py."""
    return [TradeActivity(**a) for a in client.get("/account/activities/FILL", params or None)]


def order(client: TradingClient, symbol: str, qty: float, side: OrderSide) -> str:
    """Submit a day market order and return its id."""
    request = MarketOrderRequest(symbol=symbol, qty=qty, side=side, time_in_force="day")
    return str(client.submit_order(request).id)


def test_buys_add_lots_and_sells_relieve_them_first_in_first_out(
    control: Control, clients: Clients
) -> None:
    symbol = control.new_symbol(price="100")
    account = control.account(cash="1000")
    client = clients.trading(account)
    seed(
        control,
        account,
        {"symbol": symbol, "qty": "5", "cost_per_share": "80", "acquired_at": "2023-01-03"},
        {"symbol": symbol, "qty": "5", "cost_per_share": "90", "acquired_at": "2022-06-01"},
    )
    order(client, symbol, 2, OrderSide.BUY)
    position = client.get_open_position(symbol)
    assert position.qty == "12"
    assert Decimal(position.cost_basis) == 5 * 80 + 5 * 90 + 2 * 100
    assert client.get_account().cash == "800"
    sell_id = order(client, symbol, 7, OrderSide.SELL)
    # The 2022 lot (at 90) goes first, then two shares of the 2023 lot (at 80).
    lots = control.summary(account)["lots"]
    assert [(lot["qty"], lot["cost_per_share"]) for lot in lots] == [("3", "80"), ("2", "100")]
    assert lots[0]["acquired_at"] == "2023-01-03T05:00:00.000000Z"
    position = client.get_open_position(symbol)
    assert position.qty == "5"
    assert position.cost_basis == "440"
    assert position.avg_entry_price == "88"
    assert client.get_account().cash == "1500"
    [sale, purchase, *seeded] = fills(client)
    assert (sale.side, sale.qty, sale.price, str(sale.order_id)) == ("sell", 7, 100, sell_id)
    assert sale.type == TradeActivityType.FILL
    assert sale.order_status == OrderStatus.FILLED
    assert (sale.cum_qty, sale.leaves_qty) == (7, 0)
    assert purchase.side == "buy"
    assert [(a.qty, a.price) for a in seeded] == [(5, 80), (5, 90)]
    assert seeded[1].transaction_time == datetime(2022, 6, 1, 4, 0, tzinfo=UTC)


def test_selling_everything_closes_the_position(control: Control, clients: Clients) -> None:
    account = control.account(cash="0")
    client = clients.trading(account)
    seed(control, account, {"symbol": "VOO", "qty": "1.5", "cost_per_share": "300"})
    order(client, "VOO", 1.5, OrderSide.SELL)
    assert client.get_all_positions() == []
    assert control.summary(account)["lots"] == []
    assert client.get_account().cash == "690"


def test_activity_fields(control: Control, clients: Clients, account: dict[str, Any]) -> None:
    client = clients.trading(account)
    order_id = order(client, "AAPL", 3, OrderSide.BUY)
    [activity] = fills(client)
    assert ACTIVITY_ID.match(activity.id)
    # The id starts with the New York time of the fill: 2024-03-12 10:00.
    assert activity.id.startswith("20240312100000000::")
    assert activity.activity_type == ActivityType.FILL
    assert str(activity.account_id) == account["id"]
    assert str(activity.order_id) == order_id
    assert activity.transaction_time == datetime(2024, 3, 12, 14, 0, tzinfo=UTC)
    assert (activity.symbol, activity.qty, activity.price) == ("AAPL", 3, 190)
    assert client.get("/account/activities", {"activity_types": "FILL"})[0]["id"] == activity.id
    assert client.get("/account/activities", {"activity_types": "DIV"}) == []
    assert client.get("/account/activities/DIV") == []


def test_paging_through_more_than_a_hundred_fills(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    start = datetime(2023, 1, 2, 15, 0, tzinfo=UTC)
    seed(
        control,
        account,
        *(
            {
                "symbol": "VTI",
                "qty": "1",
                "cost_per_share": str(200 + i),
                "acquired_at": (start + timedelta(hours=i)).isoformat(),
            }
            for i in range(150)
        ),
    )
    first = fills(client)
    assert len(first) == 100
    assert first[0].price == 349  # newest first
    rest = fills(client, page_token=first[-1].id)
    assert len(rest) == 50
    assert rest[-1].price == 200
    assert fills(client, page_token=rest[-1].id) == []
    every = [a.id for a in first + rest]
    assert len(set(every)) == 150
    ascending = fills(client, direction="asc", page_size=40)
    assert [a.price for a in ascending] == list(range(200, 240))
    assert [a.id for a in ascending] == every[::-1][:40]
    window = fills(
        client,
        after=(start + timedelta(hours=9, minutes=30)).isoformat(),
        until=(start + timedelta(hours=12, minutes=30)).isoformat(),
    )
    assert [a.price for a in window] == [212, 211, 210]
    on_day = fills(client, date="2023-01-03")
    assert {a.transaction_time.astimezone(UTC).date().isoformat() for a in on_day} <= {
        "2023-01-03",
        "2023-01-04",
    }
    assert len(on_day) == 24


def test_bad_paging_parameters_are_422(trading: TradingClient) -> None:
    for params in ({"page_size": 101}, {"page_size": 0}, {"page_token": "nope"}):
        with pytest.raises(APIError) as error:
            trading.get("/account/activities/FILL", params)
        assert (error.value.status_code, error.value.code) == (422, 40010001)
