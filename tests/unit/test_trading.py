"""execute_trade: idempotency keys, buying power net of open orders, shares available."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from fakes import (
    FixedClock,
    InMemoryBroker,
    InMemoryConnector,
    InMemoryStore,
    InMemoryTaskQueue,
    PlainVault,
)
from rebalancer import api
from rebalancer.domain.errors import (
    BrokerUnavailable,
    InsufficientFunds,
    InvalidInput,
    TradingDisabled,
)
from rebalancer.domain.models import OrderIntent, OrderResult, OrderType, Side
from rebalancer.domain.risk import KillSwitch
from rebalancer.domain.trade_record import ManualTrade
from rebalancer.service.context import Ports
from rebalancer.service.linking import link_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.trading import execute_trade, keyed_ids

pytestmark = pytest.mark.unit

UID = "trader-1"
BUY_SPY = OrderIntent("SPY", Side.BUY, qty=D(2))


def make(cash: str = "10000", **qty: str) -> tuple[Ports, InMemoryStore, InMemoryBroker]:
    broker = InMemoryBroker(
        D(cash), {"SPY": D(500), "QQQ": D(400)}, {s: D(q) for s, q in qty.items()}
    )
    store = InMemoryStore()
    ports = Ports.over(
        store, InMemoryConnector({"key": broker}), PlainVault(), FixedClock(), InMemoryTaskQueue()
    )
    link_broker(UID, BrokerCredentials("key", "secret"), ports)
    link_broker("trader-2", BrokerCredentials("key", "secret"), ports)  # the same account
    return ports, store, broker


# Idempotency keys


def test_a_retry_with_the_same_key_returns_the_first_order_and_places_nothing() -> None:
    ports, store, broker = make()
    first = execute_trade(UID, BUY_SPY, ports, "retry-1")
    again = execute_trade(UID, BUY_SPY, ports, "retry-1")
    assert again.order_id == first.order_id and again.client_order_id == first.client_order_id
    assert len(broker.orders) == 1 and broker.qty["SPY"] == 2
    history_id, client_order_id = keyed_ids(UID, "retry-1")
    assert first.client_order_id == client_order_id and len(client_order_id) <= 48
    (entry,) = store.history[UID].items()
    assert entry[0] == history_id == "trade-retry-1"
    assert entry[1]["idempotency_key"] == "retry-1"
    assert entry[1]["orders"][0]["order_id"] == first.order_id


def test_keys_are_per_user_and_trades_without_a_key_are_not_deduplicated() -> None:
    ports, store, broker = make()
    mine = execute_trade(UID, BUY_SPY, ports, "k")
    theirs = execute_trade("trader-2", BUY_SPY, ports, "k")
    assert mine.order_id != theirs.order_id and mine.client_order_id != theirs.client_order_id
    execute_trade(UID, BUY_SPY, ports)
    execute_trade(UID, BUY_SPY, ports)
    assert len(broker.orders) == 4


@pytest.mark.parametrize(
    "other",
    [
        OrderIntent("SPY", Side.BUY, qty=D(3)),
        OrderIntent("QQQ", Side.BUY, qty=D(2)),
        OrderIntent("SPY", Side.SELL, qty=D(2)),
        OrderIntent("SPY", Side.BUY, notional_usd=D(1000)),
        OrderIntent("SPY", Side.BUY, qty=D(2), order_type=OrderType.LIMIT, limit_price_usd=D(1)),
    ],
)
def test_the_same_key_with_other_order_fields_is_invalid(other: OrderIntent) -> None:
    ports, store, broker = make(SPY="10")
    execute_trade(UID, BUY_SPY, ports, "k-1")
    with pytest.raises(InvalidInput, match=r"^idempotency_key: already used") as refused:
        execute_trade(UID, other, ports, "k-1")
    assert refused.value.code == "invalid-argument"
    assert len(broker.orders) == 1 and len(store.history[UID]) == 1


def test_an_order_placed_whose_answer_was_lost_is_found_not_placed_again() -> None:
    ports, store, broker = make("10000")
    _, client_order_id = keyed_ids(UID, "lost")
    # The first call reached the broker, then died before it recorded anything.
    placed = broker.submit_order(
        OrderIntent("SPY", Side.BUY, qty=D(2), client_order_id=client_order_id)
    )
    result = execute_trade(UID, BUY_SPY, ports, "lost")
    assert result.order_id == placed.order_id and len(broker.orders) == 1
    assert store.history[UID]["trade-lost"]["orders"][0]["order_id"] == placed.order_id


def test_a_lost_order_whose_hold_leaves_too_little_buying_power_is_returned() -> None:
    ports, store, broker = make("1500")
    _, client_order_id = keyed_ids(UID, "lost")
    placed = broker.submit_order(
        OrderIntent("SPY", Side.BUY, qty=D(2), client_order_id=client_order_id)
    )
    assert broker.get_account().buying_power_usd == 500  # the retry alone would be refused
    result = execute_trade(UID, BUY_SPY, ports, "lost")
    assert result.order_id == placed.order_id and len(broker.orders) == 1


def test_a_concurrent_order_under_the_key_with_other_fields_is_invalid() -> None:
    ports, store, broker = make("10000")
    _, client_order_id = keyed_ids(UID, "race")
    broker.submit_order(OrderIntent("QQQ", Side.BUY, qty=D(1), client_order_id=client_order_id))
    with pytest.raises(InvalidInput, match=r"^idempotency_key:"):
        execute_trade(UID, BUY_SPY, ports, "race")
    assert len(broker.orders) == 1 and UID not in store.history


def test_a_key_refused_by_the_kill_switch_or_failed_can_be_retried_once() -> None:
    ports, store, broker = make()
    store.kill_switch = KillSwitch(trading_enabled=False, reason="incident")
    with pytest.raises(TradingDisabled):
        execute_trade(UID, BUY_SPY, ports, "k")
    assert store.history[UID]["trade-k"]["status"] == "refused"
    store.kill_switch = KillSwitch()
    broker.fail_submit.append(BrokerUnavailable("broker error 503", status=503))
    with pytest.raises(BrokerUnavailable):
        execute_trade(UID, BUY_SPY, ports, "k")
    assert store.history[UID]["trade-k"]["status"] == "failed"
    first = execute_trade(UID, BUY_SPY, ports, "k")
    assert execute_trade(UID, BUY_SPY, ports, "k").order_id == first.order_id
    assert len(broker.orders) == 1
    assert store.kill_switch_reads == 3  # before each of the three sends; none for the replay
    assert store.history[UID]["trade-k"]["status"] == "completed_success"


def test_a_late_refusal_never_overwrites_a_recorded_order() -> None:
    ports, store, broker = make()
    first = execute_trade(UID, BUY_SPY, ports, "k")
    refused = OrderResult("SPY", Side.BUY, D(2), None, "refused", error="late")
    store.save_trade(UID, "trade-k", ManualTrade(BUY_SPY, refused, ports.clock.now(), "k"))
    kept = store.history[UID]["trade-k"]
    assert kept["orders"][0]["order_id"] == first.order_id
    assert store.history[UID]["trade-k"]["status"] == "completed_success"


# Buying power and shares available


def test_a_buy_above_buying_power_net_of_open_orders_is_refused_before_the_broker() -> None:
    ports, store, broker = make("1200")
    broker.open_buys_usd = D(500)  # an open limit order holds $500 of the cash
    with pytest.raises(InsufficientFunds) as refused:
        execute_trade(UID, BUY_SPY, ports)
    assert refused.value.code == "failed-precondition"
    assert refused.value.message == (
        "insufficient buying power: SPY needs $1,000.00, $700.00 available"
    )
    with pytest.raises(InsufficientFunds, match=r"needs \$800\.00, \$700\.00 available"):
        execute_trade(UID, OrderIntent("SPY", Side.BUY, notional_usd=D(800)), ports)
    assert broker.orders == [] and store.kill_switch_reads == 0 and UID not in store.history
    # A limit buy is priced at its limit, which is what the broker holds for it.
    limit = OrderIntent(
        "SPY", Side.BUY, qty=D(1), order_type=OrderType.LIMIT, limit_price_usd=D(701)
    )
    with pytest.raises(InsufficientFunds, match=r"needs \$701\.00, \$700\.00 available"):
        execute_trade(UID, limit, ports)
    assert broker.orders == [] and store.kill_switch_reads == 0 and UID not in store.history
    # Within buying power it goes through.
    execute_trade(UID, OrderIntent("SPY", Side.BUY, notional_usd=D(700)), ports)
    assert len(broker.orders) == 1


def test_selling_more_than_held_or_available_is_refused_before_the_broker() -> None:
    ports, store, broker = make(SPY="3")
    with pytest.raises(
        InsufficientFunds, match=r"^insufficient shares: selling 4 SPY, 3 available"
    ):
        execute_trade(UID, OrderIntent("SPY", Side.SELL, qty=D(4)), ports)
    with pytest.raises(InsufficientFunds, match="selling 1 QQQ, 0 available"):
        execute_trade(UID, OrderIntent("QQQ", Side.SELL, qty=D(1)), ports)
    broker.open_sells["SPY"] = D(2)  # an open sell order holds 2 of the 3 shares
    with pytest.raises(InsufficientFunds, match="selling 2 SPY, 1 available"):
        execute_trade(UID, OrderIntent("SPY", Side.SELL, qty=D(2)), ports)
    with pytest.raises(InsufficientFunds, match=r"selling 1\.2 SPY, 1 available"):
        execute_trade(UID, OrderIntent("SPY", Side.SELL, notional_usd=D(600)), ports)
    assert broker.orders == []
    execute_trade(UID, OrderIntent("SPY", Side.SELL, qty=D(1)), ports)
    assert broker.qty["SPY"] == 2


# The request schema


@pytest.mark.parametrize("key", ["a", "A-z_09", "-", "x" * 64])
def test_valid_idempotency_keys(key: str) -> None:
    body = api.parse(
        api.ExecuteTradeRequest, {"symbol": "SPY", "side": "buy", "qty": 1, "idempotency_key": key}
    )
    assert body.idempotency_key == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "idempotency_key: must be 1 to 64 characters of A-Z a-z 0-9 _ -"),
        ("x" * 65, "idempotency_key: must be 1 to 64 characters of A-Z a-z 0-9 _ -"),
        ("has space", "idempotency_key: must be 1 to 64 characters of A-Z a-z 0-9 _ -"),
        ("a/b", "idempotency_key: must be 1 to 64 characters of A-Z a-z 0-9 _ -"),
        ("café", "idempotency_key: must be 1 to 64 characters of A-Z a-z 0-9 _ -"),
        (42, "idempotency_key: must be a string"),
    ],
)
def test_invalid_idempotency_keys_name_the_field(key: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        api.parse(
            api.ExecuteTradeRequest,
            {"symbol": "SPY", "side": "buy", "qty": 1, "idempotency_key": key},
        )
    assert refused.value.message == message
