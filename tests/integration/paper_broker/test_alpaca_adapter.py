"""The Broker adapter (alpaca_broker) through alpaca-py against the paper broker."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from rebalancer.adapters.alpaca_broker import AlpacaBroker, AlpacaConnector, broker_error
from rebalancer.domain.errors import (
    BrokerAuthFailed,
    BrokerRateLimited,
    BrokerRejected,
    BrokerUnavailable,
)
from rebalancer.domain.models import OrderIntent, Side
from rebalancer.service.ports import BrokerCredentials

from .conftest import BrokerProcess, Control

pytestmark = pytest.mark.integration


def connect(
    broker: BrokerProcess, account: dict[str, Any], *, timeout: float = 10.0, **over: Any
) -> AlpacaBroker:
    credentials = BrokerCredentials(account["api_key_id"], account["secret_key"])
    if over:
        credentials = BrokerCredentials(**{**credentials.__dict__, **over})
    return AlpacaConnector(broker.url, timeout).connect(credentials)


def test_account_positions_prices_as_decimals(broker: BrokerProcess, control: Control) -> None:
    account = control.account("1234.56")
    control.ok(
        "POST",
        f"/_paper/accounts/{account['id']}/lots",
        {
            "lots": [
                {
                    "symbol": "SPY",
                    "qty": "2.5",
                    "cost_per_share": "400",
                    "acquired_at": "2024-01-02",
                }
            ]
        },
    )
    adapter = connect(broker, account)
    info = adapter.get_account()
    assert info.cash_usd == D("1234.56") and info.account_number == account["account_number"]
    (position,) = adapter.get_positions()
    assert position.symbol == "SPY" and position.qty == D("2.5")
    assert position.market_value_usd == position.qty * position.price_usd
    prices = adapter.get_latest_prices(["SPY", "QQQ", "NOPE"])
    assert set(prices) == {"SPY", "QQQ"} and all(isinstance(p, D) for p in prices.values())


def test_assets_are_cached_per_instance_and_unknown_ones_left_out(
    broker: BrokerProcess, control: Control
) -> None:
    account = control.account()
    connector = AlpacaConnector(broker.url)
    adapter = connector.connect(BrokerCredentials(account["api_key_id"], account["secret_key"]))
    assets = adapter.get_assets(["SPY", "BRK.A", "DELISTED", "NOPE", "BTC/USD"])
    assert set(assets) == {"SPY", "BRK.A", "DELISTED", "BTC/USD"}
    assert assets["SPY"].fractionable and not assets["BRK.A"].fractionable
    assert not assets["DELISTED"].tradable and assets["BTC/USD"].asset_class == "crypto"
    before = control.counters(account)
    again = connector.connect(BrokerCredentials(account["api_key_id"], account["secret_key"]))
    assert again.get_assets(["SPY", "NOPE"]).keys() == {"SPY"}
    assert control.counters(account) == before  # served from the cache, unknown ones too


def test_orders_keep_every_decimal_place(broker: BrokerProcess, control: Control) -> None:
    account = control.account()
    adapter = connect(broker, account)
    result = adapter.submit_order(
        OrderIntent("SPY", Side.BUY, qty=D("0.123456789"), client_order_id="exact-qty-1")
    )
    assert result.qty == D("0.123456789") and result.client_order_id == "exact-qty-1"
    assert result.placed and result.status in {"new", "accepted"}
    notional = adapter.submit_order(OrderIntent("QQQ", Side.BUY, notional_usd=D("12.34")))
    assert notional.notional_usd == D("12.34") and notional.qty is None


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ({"kind": "http_500"}, BrokerUnavailable, 500),
        ({"kind": "rate_limit"}, BrokerRateLimited, 429),
        (
            {
                "kind": "reject",
                "status": 403,
                "code": 40310000,
                "message": "insufficient buying power",
            },
            BrokerRejected,
            403,
        ),
    ],
)
def test_broker_errors_map_to_domain_errors_without_retrying(
    broker: BrokerProcess, control: Control, fault: dict[str, Any], error: type, status: int
) -> None:
    account = control.account()
    adapter = connect(broker, account)
    control.fault(route="POST /v2/orders", account_id=account["id"], count=5, **fault)
    with pytest.raises(error) as raised:
        adapter.submit_order(OrderIntent("SPY", Side.BUY, qty=D(1)))
    assert raised.value.status == status
    assert control.counters(account)["POST /v2/orders"] == 1  # alpaca-py's own retries are off


def test_refused_credentials_and_a_slow_broker(broker: BrokerProcess, control: Control) -> None:
    account = control.account()
    with pytest.raises(BrokerAuthFailed):
        connect(broker, account, secret_key="wrong").get_account()
    with pytest.raises(BrokerAuthFailed):
        connect(
            broker,
            {"api_key_id": None, "secret_key": None},
            oauth_token="nope",
            api_key_id=None,
            secret_key=None,
        ).get_account()
    control.fault(route="GET /v2/account", kind="slow", delay_ms=1500, account_id=account["id"])
    with pytest.raises(BrokerUnavailable, match="ReadTimeout"):
        connect(broker, account, timeout=0.3).get_account()


def test_an_unreachable_broker_is_unavailable() -> None:
    connector = AlpacaConnector("http://127.0.0.1:9", 1.0)
    adapter = connector.connect(BrokerCredentials("key", "secret"))
    with pytest.raises(BrokerUnavailable, match="unreachable"):
        adapter.get_account()


def test_error_bodies_that_are_not_json_are_still_mapped() -> None:
    assert isinstance(broker_error(502, "<html>bad gateway</html>"), BrokerUnavailable)
    rejected = broker_error(422, '{"code": 40010001, "message": "qty must be > 0"}')
    assert isinstance(rejected, BrokerRejected)
    assert (rejected.broker_code, rejected.message) == (40010001, "qty must be > 0")
    assert isinstance(broker_error(None, ""), BrokerUnavailable)
