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
from rebalancer.domain.errors import (
    BrokerRejected,
    BrokerUnavailable,
    InvalidInput,
    NoBrokerLinked,
    NoTargets,
    TargetsNotSummingTo100,
    TradingDisabled,
)
from rebalancer.domain.models import AssetInfo, OrderIntent, Side, Target
from rebalancer.domain.risk import KillSwitch
from rebalancer.service.context import Ports
from rebalancer.service.drift_check import check_drift
from rebalancer.service.linking import link_broker, unlink_broker
from rebalancer.service.ports import BrokerCredentials
from rebalancer.service.targets import set_targets
from rebalancer.service.trading import execute_trade

pytestmark = pytest.mark.unit

UID = "user-1"
TARGETS = [Target("SPY", D(40)), Target("QQQ", D(30)), Target("TLT", D(20)), Target("GLD", D(10))]


def make(cash: str = "1000", **qty: str) -> tuple[Ports, InMemoryStore, InMemoryBroker]:
    prices = {"SPY": D(500), "QQQ": D(400), "TLT": D(90), "GLD": D(200), "BRK.A": D(600000)}
    broker = InMemoryBroker(D(cash), prices, {s: D(q) for s, q in qty.items()})
    broker.assets["BRK.A"] = AssetInfo("BRK.A", True, False)
    broker.assets["DEAD"] = AssetInfo("DEAD", False, False)
    store = InMemoryStore()
    ports = Ports.over(
        store, InMemoryConnector({"key": broker}), PlainVault(), FixedClock(), InMemoryTaskQueue()
    )
    link_broker(UID, BrokerCredentials("key", "secret"), ports)
    store.targets[UID] = list(TARGETS)
    return ports, store, broker


def drifted() -> tuple[Ports, InMemoryStore, InMemoryBroker]:
    return make("1000", SPY="100", QQQ="50", TLT="100", GLD="40")


def test_a_breach_rebalances_sells_first_and_records_log_and_history_together() -> None:
    ports, store, broker = drifted()
    result = check_drift(UID, ports, dry_run=False)
    assert result.report.needs_rebalance
    sides = [o.side for o in broker.orders]
    assert sides[0] is Side.SELL and sides == sorted(sides, key=lambda s: s is Side.BUY)
    assert all(o.placed for o in result.orders)
    assert result.message == "Rebalancing executed"
    (log,) = store.drift_logs[UID].values()
    history = store.history[UID][result.plan_id]
    assert log["plan_id"] == result.plan_id and history["drift_log_id"] == result.drift_log_id
    assert history["status"] == "completed_success"
    assert [o["order_id"] for o in history["orders"]] == [o.order_id for o in result.orders]
    assert store.kill_switch_reads == len(broker.orders)  # read before every order
    after = check_drift(UID, ports, dry_run=True)
    assert not after.report.needs_rebalance


def test_dry_run_places_nothing_and_writes_only_the_drift_log() -> None:
    ports, store, broker = drifted()
    result = check_drift(UID, ports, dry_run=True)
    assert result.report.needs_rebalance and broker.orders == []
    assert len(store.drift_logs[UID]) == 1 and UID not in store.history


@pytest.mark.parametrize(
    ("switch", "reason"),
    [
        (KillSwitch(trading_enabled=False, reason="maintenance"), "trading disabled"),
        (KillSwitch(drawdown_recovery_mode=True), "drawdown recovery mode"),
        (None, "could not be read"),
    ],
)
def test_the_kill_switch_refuses_every_order_and_records_why(switch, reason) -> None:
    ports, store, broker = drifted()
    store.kill_switch = switch
    result = check_drift(UID, ports, dry_run=False)
    assert broker.orders == []
    assert result.orders and all(
        o.status == "refused" and reason in (o.error or "") for o in result.orders
    )
    assert store.history[UID][result.plan_id]["status"] == "failed"


def test_kill_switch_flipped_between_orders_stops_the_rest() -> None:
    ports, store, broker = drifted()
    original = store.read_kill_switch

    def flip_after_first():
        switch = original()
        store.kill_switch = KillSwitch(trading_enabled=False)
        return switch

    store.read_kill_switch = flip_after_first  # type: ignore[method-assign]
    result = check_drift(UID, ports, dry_run=False)
    assert len(broker.orders) == 1
    assert [o.status for o in result.orders][1:] == ["refused"] * (len(result.orders) - 1)


def test_preconditions_fail_before_any_broker_order() -> None:
    ports, store, broker = drifted()
    store.targets[UID] = []
    with pytest.raises(NoTargets):
        check_drift(UID, ports, dry_run=False)
    store.targets[UID] = [Target("SPY", D(60)), Target("QQQ", D(30))]
    with pytest.raises(TargetsNotSummingTo100):
        check_drift(UID, ports, dry_run=False)
    store.targets[UID] = list(TARGETS)
    unlink_broker(UID, ports)
    with pytest.raises(NoBrokerLinked):
        check_drift(UID, ports, dry_run=False)
    assert broker.orders == [] and UID not in store.drift_logs


def test_a_broker_outage_while_reading_writes_nothing() -> None:
    ports, store, broker = drifted()
    broker.fail_next.append(BrokerUnavailable("broker error 500", status=500))
    with pytest.raises(BrokerUnavailable):
        check_drift(UID, ports, dry_run=False)
    assert UID not in store.drift_logs and UID not in store.history


def test_a_refused_order_is_recorded_and_the_rest_go_on() -> None:
    ports, store, broker = make("30000", SPY="100", QQQ="50", TLT="100", GLD="40")
    broker.fail_submit.append(
        BrokerRejected("asset SPY is halted", status=422, broker_code=40010001)
    )
    result = check_drift(UID, ports, dry_run=False)
    assert result.orders[0].status == "failed" and result.orders[0].error == "asset SPY is halted"
    assert len(broker.orders) == len(result.orders) - 1  # every later leg was still sent
    assert all(o.placed for o in result.orders[1:])
    assert store.history[UID][result.plan_id]["status"] == "completed_adjusted"


def test_a_500_is_retried_after_looking_the_order_up_and_never_doubles_it() -> None:
    ports, store, broker = make("30000", SPY="100", QQQ="50", TLT="100", GLD="40")
    broker.fail_submit.append(BrokerUnavailable("broker error 500", status=500))
    result = check_drift(UID, ports, dry_run=False)
    assert all(o.status == "filled" for o in result.orders)
    ids = [o.client_order_id for o in broker.orders]
    assert len(ids) == len(set(ids)) == len(result.orders)
    assert ports.clock.slept > 0  # it backed off before the retry


def test_execute_trade_checks_assets_and_the_kill_switch_before_the_broker() -> None:
    ports, store, broker = make("100000")
    with pytest.raises(InvalidInput, match="symbol: NOPE is not known"):
        execute_trade(UID, OrderIntent("NOPE", Side.BUY, qty=D(1)), ports)
    with pytest.raises(InvalidInput, match="symbol: DEAD is not tradable"):
        execute_trade(UID, OrderIntent("DEAD", Side.BUY, qty=D(1)), ports)
    with pytest.raises(InvalidInput, match=r"qty: BRK\.A trades in whole shares"):
        execute_trade(UID, OrderIntent("BRK.A", Side.BUY, qty=D("0.5")), ports)
    store.kill_switch = KillSwitch(trading_enabled=False)
    with pytest.raises(TradingDisabled):
        execute_trade(UID, OrderIntent("SPY", Side.BUY, qty=D(1)), ports)
    assert broker.orders == []
    (refused,) = store.history[UID].values()
    assert refused["status"] == "refused" and refused["orders"][0]["order_id"] is None
    store.kill_switch = KillSwitch()
    result = execute_trade(UID, OrderIntent("SPY", Side.BUY, qty=D("1.5")), ports)
    assert result.placed and broker.qty["SPY"] == D("1.5")
    assert len(store.history[UID]) == 2


def test_link_refuses_bad_credentials_and_never_stores_them_in_clear() -> None:
    ports, store, _ = make()
    with pytest.raises(InvalidInput, match="api_key_id: the broker refused"):
        link_broker("user-2", BrokerCredentials("wrong", "secret"), ports)
    assert "user-2" not in store.links
    assert "secret" not in store.links[UID].sealed_credentials  # sealed, not plain
    assert unlink_broker(UID, ports) and not unlink_broker(UID, ports)


def test_set_targets_refuses_symbols_the_broker_cannot_trade() -> None:
    ports, store, _ = make()
    with pytest.raises(InvalidInput, match=r"allocations\.1\.symbol: DEAD is not tradable"):
        set_targets(UID, [Target("SPY", D(50)), Target("DEAD", D(50))], ports)
    assert store.targets[UID] == TARGETS
    set_targets(UID, [Target("SPY", D(50)), Target("QQQ", D(50))], ports)
    assert [t.symbol for t in store.targets[UID]] == ["SPY", "QQQ"]
