"""Accounts, credentials, positions, assets and the isolation between accounts."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AccountStatus, AssetClass, OrderSide, TimeInForce
from alpaca.trading.models import TradeActivity
from alpaca.trading.requests import GetAssetsRequest, GetOrdersRequest, MarketOrderRequest

from .conftest import Clients, Control, auth_headers

pytestmark = pytest.mark.integration


def buy(client: TradingClient, symbol: str, qty: float) -> str:
    """Submit a day market buy and return the order id."""
    order = client.submit_order(
        MarketOrderRequest(
            symbol=symbol, qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
        )
    )
    return str(order.id)


def test_account_is_a_cash_account(control: Control, clients: Clients) -> None:
    account = control.account(cash="25000.5")
    info = clients.trading(account).get_account()
    assert str(info.id) == account["id"]
    assert info.account_number == account["account_number"]
    assert info.status == AccountStatus.ACTIVE
    assert info.currency == "USD"
    assert info.cash == "25000.5"
    assert info.buying_power == info.non_marginable_buying_power == "25000.5"
    assert info.equity == info.portfolio_value == info.last_equity == "25000.5"
    assert info.long_market_value == "0"
    assert info.multiplier == "1"
    assert info.pattern_day_trader is False
    assert info.trading_blocked is False
    assert info.daytrade_count == 0
    assert info.created_at is not None


def test_equity_follows_positions(control: Control, clients: Clients) -> None:
    account = control.account(cash="10000")
    client = clients.trading(account)
    buy(client, "SPY", 4)
    info = client.get_account()
    assert Decimal(info.cash or "") == Decimal("8000")
    assert Decimal(info.long_market_value or "") == Decimal("2000")
    assert Decimal(info.equity or "") == Decimal("10000")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"APCA-API-KEY-ID": "PKNOSUCHKEY", "APCA-API-SECRET-KEY": "nope"},
        {"Authorization": "Bearer not-a-token"},
    ],
    ids=["missing", "unknown-key", "unknown-token"],
)
def test_bad_credentials_are_401_raw(control: Control, headers: dict[str, str]) -> None:
    status, body, _ = control.call("GET", "/v2/account", headers=headers)
    assert status == 401
    assert body == {"code": 40110000, "message": "request is not authorized"}


def test_wrong_secret_is_401(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading({**account, "secret_key": "wrong" + account["secret_key"]})
    with pytest.raises(APIError) as error:
        client.get_account()
    assert error.value.status_code == 401
    assert error.value.code == 40110000


def test_wrong_oauth_token_is_401(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading({**account, "oauth_token": "0" * 36}, oauth=True)
    with pytest.raises(APIError) as error:
        client.get_account()
    assert error.value.status_code == 401
    assert error.value.code == 40110000


def test_oauth_bearer_token_reaches_the_same_account(control: Control, clients: Clients) -> None:
    account = control.account(cash="1234")
    by_keys = clients.trading(account)
    by_token = clients.trading(account, oauth=True)
    order_id = buy(by_token, "QQQ", 1)
    assert str(by_keys.get_order_by_id(order_id).id) == order_id
    assert by_token.get_account().id == by_keys.get_account().id


def test_given_credentials_are_used(control: Control, clients: Clients) -> None:
    account = control.account(api_key_id="PK" + uuid.uuid4().hex[:18].upper(), secret_key="s3cret")
    assert account["secret_key"] == "s3cret"
    assert clients.trading(account).get_account().cash == "100000"
    status, body, _ = control.call(
        "POST", "/_paper/accounts", {"api_key_id": account["api_key_id"]}
    )
    assert status == 409
    assert body["message"].startswith("api_key_id:")


def test_accounts_are_isolated(control: Control, clients: Clients) -> None:
    first, second = control.account(), control.account()
    one, two = clients.trading(first), clients.trading(second)
    order_id = buy(one, "SPY", 2)
    assert two.get_orders(GetOrdersRequest(status="all")) == []
    assert two.get_all_positions() == []
    assert two.get("/account/activities/FILL") == []
    for call in (
        lambda: two.get_order_by_id(order_id),
        lambda: two.cancel_order_by_id(order_id),
        lambda: two.get_open_position("SPY"),
    ):
        with pytest.raises(APIError) as error:
            call()
        assert error.value.status_code == 404
        assert error.value.code == 40410000
    assert [str(o.id) for o in one.get_orders(GetOrdersRequest(status="all"))] == [order_id]
    assert "POST /v2/orders" not in control.counters(second)
    assert control.counters(first)["POST /v2/orders"] == 1


def test_positions_by_symbol_and_asset_id(control: Control, clients: Clients) -> None:
    account = control.account()
    client = clients.trading(account)
    symbol = control.new_symbol(price="90")
    control.ok(
        "POST",
        f"/_paper/accounts/{account['id']}/lots",
        {"lots": [{"symbol": symbol, "qty": "10", "cost_per_share": "90"}]},
    )
    control.prices(**{symbol: "95"})
    [position] = client.get_all_positions()
    assert position.symbol == symbol
    assert position.qty == position.qty_available == "10"
    assert position.side == "long"
    assert position.avg_entry_price == "90"
    assert position.cost_basis == "900"
    assert position.market_value == "950"
    assert position.unrealized_pl == "50"
    assert position.unrealized_plpc == "0.0555555556"
    assert position.current_price == "95"
    # The price was 90 at yesterday's close, and it is 95 now.
    assert position.lastday_price == "90"
    assert position.change_today == "0.0555555556"
    assert position.unrealized_intraday_pl == "50"
    assert position.exchange == "NASDAQ"
    assert position.asset_class == AssetClass.US_EQUITY
    by_id = client.get_open_position(position.asset_id)
    assert by_id.symbol == symbol
    with pytest.raises(APIError) as error:
        client.get_open_position("GLD")
    assert (error.value.status_code, error.value.code) == (404, 40410000)


def test_assets_list_and_lookup(trading: TradingClient) -> None:
    assets = {a.symbol: a for a in trading.get_all_assets()}
    for symbol in ("SPY", "QQQ", "TLT", "GLD", "VOO", "AAPL", "NVDA", "BTC/USD", "ETH/USD"):
        assert assets[symbol].tradable
        assert assets[symbol].fractionable
    assert not assets["BRK.A"].fractionable
    assert assets["BRK.A"].tradable
    assert not assets["DELISTED"].tradable
    crypto = trading.get_all_assets(GetAssetsRequest(asset_class=AssetClass.CRYPTO))
    assert {a.symbol for a in crypto} == {"BTC/USD", "ETH/USD"}
    spy = trading.get_asset("SPY")
    assert trading.get_asset(spy.id).symbol == "SPY"
    assert trading.get_asset("BTC/USD").asset_class == AssetClass.CRYPTO
    with pytest.raises(APIError) as error:
        trading.get_asset("NOSUCH")
    assert (error.value.status_code, error.value.code) == (404, 40410000)


def test_activities_parse_into_alpaca_models(
    trading: TradingClient, account: dict[str, Any]
) -> None:
    buy(trading, "GLD", 1)
    [raw] = trading.get("/account/activities", {"activity_types": "FILL"})
    activity = TradeActivity(**raw)
    assert str(activity.account_id) == account["id"]
    assert activity.symbol == "GLD"


def test_basic_auth_with_the_key_pair(control: Control, account: dict[str, Any]) -> None:
    pair = f"{account['api_key_id']}:{account['secret_key']}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    status, body, _ = control.call("GET", "/v2/account", headers=headers)
    assert (status, body["id"]) == (200, account["id"])


def test_raw_headers_helper_authenticates(control: Control, account: dict[str, Any]) -> None:
    status, body, _ = control.call("GET", "/v2/account", headers=auth_headers(account))
    assert status == 200
    assert body["id"] == account["id"]
