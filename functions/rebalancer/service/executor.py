"""The execution engine: every plan's orders go out through here, sells first, once each.

Guarantees (each tested on the in-memory adapters, also under random interleavings in
tests/unit/test_execution_machine.py, and end to end on the paper broker):
- One live plan per account: a run of another plan supersedes a queued one and is
  refused while one executes (`leases`); a plan runs only on the account it was made for.
- One executor per plan at a time, fenced: every record and every send first checks, in
  a transaction, that the lease still names this executor (and renews it); an executor
  that lost it stops before its next send and says so in the plan.
- No order twice: each leg has a deterministic client order id; its intent is recorded
  before it is sent, and any leg whose fate is unknown is looked up at the broker first.
- Today's holdings: a plan that is stale (older than `FRESH_S`, or the account traded
  since it was made) is planned again from the holdings of now before anything is sent;
  sells are cut to what is held when sent; buys fit the cash and buying power left.
- The kill-switch is read before every send, retries included.
- Bounded: a run stops within its budget (the function's timeout less a margin); what is
  left is handed to a task that resumes it, and a watch task is enqueued when a run
  starts, so a run cut off by a crash or a timeout is resumed too. Nothing is left
  executing.
- Market closed: the plan is queued and a task is scheduled for the next open.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from rebalancer.domain.errors import (
    BrokerError,
    BrokerRateLimited,
    BrokerUnavailable,
    BuyingPowerShort,
    ConcurrentExecution,
    DuplicateOrderId,
    PreconditionFailed,
)
from rebalancer.domain.execution import (
    Leg,
    LegStatus,
    PlanStatus,
    backoff_seconds,
    broker_leg_status,
    capped_sell,
    client_order_id,
    limit_price,
    outcome,
    resized,
    size_buys,
    time_in_force,
)
from rebalancer.domain.models import ZERO, OrderIntent, OrderResult, OrderType, Side, TimeInForce
from rebalancer.domain.plan import Plan
from rebalancer.domain.plan_record import (
    AccountRef,
    LeaseLost,
    PlanChanges,
    PlanRecord,
    Replanned,
    planned_legs,
)
from rebalancer.domain.settings import UnfilledOrders
from rebalancer.service.context import Ports, linked_broker
from rebalancer.service.drafts import draft_plan
from rebalancer.service.market import read_market, read_user, trading_day
from rebalancer.service.ports import Broker, BrokerLink
from rebalancer.service.trading import kill_switch_refusal

T = TypeVar("T")
LEASE_S = 120.0
RENEW_S = 20.0  # renew the lease while waiting at least this often
FRESH_S = 300.0  # a plan older than this is planned again before anything is sent
QUEUE_DELAY = timedelta(minutes=5)
# Run budgets: callables answer within the client SDK's 70 s default (their functions
# time out at 120 s); tasks and the nightly run have 1,800 s (Cloud Tasks' limit).
# (The timeouts themselves are function options: rebalancer/entrypoints/timeouts.py.)
CALLABLE_BUDGET_S = 50.0
TASK_BUDGET_S = 1500.0
TASK_FUNCTION = "executePlanTask"  # a queue id: letters, digits and hyphens only
REPLAN_INDEX_STEP = 100  # a re-planned plan's legs get fresh indexes, so fresh order ids


@dataclass(frozen=True)
class ExecutionResult:
    """The plan's status and legs after this run, and its stored document (for answers)."""

    plan_id: str
    status: PlanStatus
    legs: tuple[Leg, ...]
    document: Mapping[str, Any]


class _OutOfTime(Exception):
    """The run's budget is spent: hand what is left to a resume task."""


class _Run:
    """One executor's pass over one plan."""

    def __init__(
        self,
        uid: str,
        plan_id: str,
        ports: Ports,
        broker: Broker,
        executor: str,
        budget_s: float,
    ):
        self.uid, self.plan_id, self.ports, self.broker = uid, plan_id, ports, broker
        self.executor = executor
        self.started = ports.clock.now()
        self.deadline = self.started + timedelta(seconds=budget_s)
        self.renewed = self.started
        user_settings = ports.users.get_settings(uid)  # read once per run
        self.settings = user_settings.execution
        self.costs = user_settings.costs
        self.legs: dict[int, Leg] = {}
        self.windows: dict[str, datetime] = {}
        self.released = False  # the run recorded its end and let the lease go

    def save(self, changes: PlanChanges | None = None, *, release: bool = False) -> None:
        """Record the legs (and `changes`) while holding the lease: fenced and renewed.

        Raises:
            ConcurrentExecution: The lease was lost to another run.
        """
        legs = tuple(sorted(self.legs.values(), key=lambda leg: leg.index))
        body = PlanChanges(legs=legs).merged(changes or PlanChanges())
        now = self.ports.clock.now()
        self.ports.leases.save_execution(
            self.uid, self.plan_id, self.executor, body, now, LEASE_S, release=release
        )
        self.renewed = now
        self.released = release

    def keep_lease(self) -> None:
        """Renew the lease when it is due, and stop when the budget is spent."""
        now = self.ports.clock.now()
        if now >= self.deadline:
            raise _OutOfTime
        if (now - self.renewed).total_seconds() >= RENEW_S:
            self.save()

    def pause(self, seconds: float) -> None:
        """Wait, within the budget and holding the lease."""
        if self.ports.clock.now() + timedelta(seconds=seconds) >= self.deadline:
            raise _OutOfTime
        self.ports.clock.sleep(seconds)
        self.keep_lease()

    def retrying(self, call: Callable[[], T]) -> T:
        """Retry 429 and 5xx with backoff (the rate limit's reset when it says), bounded."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except (BrokerRateLimited, BrokerUnavailable) as error:
                if attempt >= self.settings.max_attempts:
                    raise
                self.pause(backoff_seconds(attempt, error.retry_after_s))

    def reconcile(self, leg: Leg) -> Leg:
        """Ask the broker what became of a leg whose intent was recorded."""
        found = (
            self.retrying(lambda: self.broker.get_order(leg.order_id or ""))
            if leg.order_id
            else self.retrying(lambda: self.broker.find_order(leg.client_order_id))
        )
        if found is None:
            return replace(leg, status=LegStatus.PENDING)  # never reached the broker
        return _with_order(leg, found)

    def send(self, leg: Leg) -> Leg:
        """Send one leg behind a fresh kill-switch read and lease check, retries included."""
        intent = self.intent(leg)
        attempt = 0
        while True:
            attempt += 1
            refusal = kill_switch_refusal(self.ports.system)
            if refusal is not None:
                return replace(leg, status=LegStatus.REFUSED, error=refusal)
            self.save()  # the fencing check, right before the order goes out
            try:
                return _with_order(leg, self.broker.submit_order(intent))
            except (BrokerRateLimited, BrokerUnavailable) as error:
                # The order may have been placed before the error: never send it blind.
                found = self.retrying(lambda: self.broker.find_order(leg.client_order_id))
                if found is not None:
                    return _with_order(leg, found)
                if attempt >= self.settings.max_attempts:
                    return replace(leg, status=LegStatus.FAILED, error=error.message)
                self.pause(backoff_seconds(attempt, error.retry_after_s))
            except BrokerError as error:
                if isinstance(error, DuplicateOrderId):
                    found = self.retrying(lambda: self.broker.find_order(leg.client_order_id))
                    if found is not None:
                        return _with_order(leg, found)
                # Insufficient buying power skips the leg; any other refusal fails it.
                skipped = isinstance(error, BuyingPowerShort)
                status = LegStatus.SKIPPED if skipped else LegStatus.FAILED
                return replace(leg, status=status, error=error.message)

    def intent(self, leg: Leg) -> OrderIntent:
        """The order a leg sends, with the order type and time in force the rules give."""
        limit = None
        order_type = self.settings.order_type
        if order_type is OrderType.LIMIT:
            limit = limit_price(leg.price_usd, leg.side, self.settings.limit_buffer_bps)
        return OrderIntent(
            symbol=leg.symbol,
            side=leg.side,
            qty=leg.order_qty,
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force(leg)),
            limit_price_usd=limit,
            client_order_id=leg.client_order_id,
        )

    def phase(self, side: Side) -> None:
        """Send every pending leg of one side (each checks the kill-switch and the lease)."""
        pending = [leg for leg in self.legs.values() if leg.side is side and _is(leg, "pending")]
        if not pending:
            return
        if side is Side.SELL:
            pending = self.cap_sells(pending)
        for leg in pending:
            self.legs[leg.index] = replace(leg, status=LegStatus.SUBMITTING)
        self.save()  # the intents, before anything is sent
        for leg in pending:
            self.legs[leg.index] = self.send(self.legs[leg.index])
            if self.legs[leg.index].status is LegStatus.REFUSED:
                self.refuse_rest(self.legs[leg.index].error or "trading is disabled")
                return

    def cap_sells(self, pending: list[Leg]) -> list[Leg]:
        """Cut sells to the positions held now; the ones with nothing left are skipped."""
        # Shares not already held by open sell orders (this plan's earlier legs included).
        held = {p.symbol: p.available for p in self.retrying(self.broker.get_positions)}
        sending = []
        for leg in pending:
            capped = capped_sell(leg, held.get(leg.symbol, ZERO))
            held[leg.symbol] = held.get(leg.symbol, ZERO) - capped.order_qty
            self.legs[leg.index] = capped
            if capped.status is LegStatus.PENDING:
                sending.append(capped)
        return sending

    def refuse_rest(self, reason: str) -> None:
        """Mark every leg not yet sent as refused, with the reason."""
        for index, leg in self.legs.items():
            if leg.status in {LegStatus.PENDING, LegStatus.SUBMITTING} and leg.order_id is None:
                self.legs[index] = replace(leg, status=LegStatus.REFUSED, error=reason)

    def wait(self, side: Side) -> None:
        """Poll the side's open orders until they finish or the fill window closes.

        The window is measured on the clock (not by counting polls), so that slow polls
        do not stretch it and a test can close it by moving the clock.
        """
        closes = self.windows.get(side.value)
        if closes is None:
            # The window opens once per side and is kept in the plan: a resumed run
            # finishes the same window, it does not start a new one.
            closes = self.ports.clock.now() + timedelta(seconds=self.settings.fill_wait_s)
            self.windows[side.value] = closes
            self.save(PlanChanges(fill_windows=dict(self.windows)))
        while True:
            self.refresh(self.open_legs(side))
            if not self.open_legs(side) or self.ports.clock.now() >= closes:
                return
            self.pause(self.settings.poll_s)

    def refresh(self, legs: list[Leg]) -> None:
        """Read the broker's state of open legs: one list request for many, else one each."""
        found: dict[str, OrderResult] = {}
        if len(legs) > 2:
            since = self.started - timedelta(minutes=1)
            found = {
                o.order_id or "": o
                for o in self.retrying(partial(self.broker.recent_orders, since))
            }
        for leg in legs:
            order = found.get(leg.order_id or "")
            if order is None:
                order = self.retrying(partial(self.broker.get_order, leg.order_id or ""))
            self.legs[leg.index] = _with_order(leg, order)

    def open_legs(self, side: Side | None = None) -> list[Leg]:
        """Legs the broker holds open (of one side, if given)."""
        return [
            leg
            for leg in self.legs.values()
            if leg.status is LegStatus.OPEN and (side is None or leg.side is side)
        ]

    def size_buys(self) -> None:
        """Resize the pending buys to the cash the sells left, net of what open orders hold."""
        buys = [leg for leg in self.legs.values() if leg.side is Side.BUY and _is(leg, "pending")]
        if not buys:
            return
        # Priced now, not when planned: a price that rose since must not overdraw.
        latest = self.retrying(partial(self.broker.get_latest_prices, [b.symbol for b in buys]))
        buys = [replace(b, price_usd=latest.get(b.symbol, b.price_usd)) for b in buys]
        account = self.retrying(self.broker.get_account)
        costs = self.costs
        # Buying power is the cash less what open orders hold (on a margin account it is
        # more than the cash, which then decides): never spend cash that is not there.
        spendable = min(account.cash_usd, account.buying_power_usd)
        available = spendable - costs.buffer_usd(account.portfolio_value_usd)
        for leg, qty in size_buys(buys, available, costs.spread_bps):
            reason = "not enough cash after the sells" if qty <= 0 else None
            if qty > 0 and qty * leg.price_usd < costs.min_trade_usd:
                qty, reason = ZERO, "below the minimum trade once fitted to the cash"
            self.legs[leg.index] = resized(leg, qty, reason)

    def close_open(self) -> None:
        """At the end of the window: cancel what is still open, or leave it working."""
        if self.settings.unfilled_orders is not UnfilledOrders.CANCEL:
            return
        for leg in self.open_legs():
            if leg.order_id:
                self.retrying(partial(self.broker.cancel_order, leg.order_id))
                order = self.retrying(partial(self.broker.get_order, leg.order_id))
                self.legs[leg.index] = _with_order(leg, order)
                if self.legs[leg.index].status is LegStatus.OPEN:
                    self.legs[leg.index] = replace(leg, status=LegStatus.CANCELLED)


def _is(leg: Leg, status: str) -> bool:
    return leg.status.value == status


def _with_order(leg: Leg, order: OrderResult) -> Leg:
    qty = order.qty if order.qty is not None else leg.order_qty
    return replace(
        leg,
        qty=qty,
        status=broker_leg_status(order.status, order.filled_qty, qty),
        order_id=order.order_id,
        filled_qty=order.filled_qty,
        filled_avg_price_usd=order.filled_avg_price_usd,
        error=order.error,
    )


def new_executor_id() -> str:
    """An id for one execution attempt (it names the lease holder)."""
    return "x-" + secrets.token_hex(8)


def execute_plan(
    uid: str, plan_id: str, ports: Ports, *, budget_s: float = CALLABLE_BUDGET_S
) -> ExecutionResult:
    """Run (or resume) a plan: sells, their fills, buys sized to the cash, their fills.

    Args:
        uid: The plan's owner.
        plan_id: The plan.
        ports: The adapters.
        budget_s: How long this run may take before it hands the rest to a task.

    Returns:
        The plan as stored after the run: finished, queued for the open, or still
        executing in a resume task when the budget ran out.

    Raises:
        NotFound: No such plan for this user.
        ConcurrentExecution: Another run holds the account, or this one lost its lease.
        NoBrokerLinked: The user has no broker.
        PreconditionFailed: The plan was made for another account than the linked one.
    """
    waiting = _while_closed(uid, plan_id, ports)
    if waiting is not None:
        return waiting
    executor = new_executor_id()
    record = ports.leases.start_execution(uid, plan_id, executor, ports.clock.now(), LEASE_S)
    if record.status.finished:
        return ExecutionResult(plan_id, record.status, record.legs, record.document)
    broker, link = linked_broker(uid, ports)
    run = _Run(uid, plan_id, ports, broker, executor, budget_s)
    run.legs = {leg.index: leg for leg in record.legs}
    run.windows = dict(record.fill_windows)
    try:
        _check_account(run, record, link)
        return _drive(run, record, link)
    except _OutOfTime:
        return _hand_off(run)
    except ConcurrentExecution as lost:
        _note_lost_lease(run, lost)
        raise
    except BaseException:
        if run.released:
            raise  # the run ended and recorded why (e.g. a plan for another account)
        # Keep what is known; the watch task resumes from the record.
        try:
            run.save()
        except ConcurrentExecution as lost:
            _note_lost_lease(run, lost)
        raise


def _while_closed(uid: str, plan_id: str, ports: Ports) -> ExecutionResult | None:
    """A plan not yet started while the market is closed; None when it should run now.

    A queued plan is left untouched (a task delivered early or again); a proposed one is
    queued for the open in one transaction. Neither is `executing` for a moment: a
    user's check at that moment would be refused for no reason.
    """
    record = ports.plans.get_plan(uid, plan_id)
    if record is None or record.status not in {PlanStatus.QUEUED, PlanStatus.PROPOSED}:
        return None
    legs = record.legs
    if not legs or all(leg.crypto for leg in legs):
        return None
    clock = linked_broker(uid, ports)[0].get_clock()
    if clock.is_open:
        return None
    if record.status is PlanStatus.QUEUED:
        return ExecutionResult(plan_id, PlanStatus.QUEUED, legs, record.document)
    run_at = clock.next_open + QUEUE_DELAY
    task_id = f"plan-{plan_id}-{run_at.astimezone(UTC):%Y%m%d%H%M}"
    ports.tasks.enqueue(TASK_FUNCTION, {"uid": uid, "plan_id": plan_id}, task_id, run_at)
    changes = PlanChanges(legs=legs, queued_until=run_at, queued_task=task_id)
    ports.leases.queue_plan(uid, plan_id, ports.clock.now(), changes)
    stored = ports.plans.get_plan(uid, plan_id) or record
    return ExecutionResult(plan_id, stored.status, legs, stored.document)


def _drive(run: _Run, record: PlanRecord, link: BrokerLink) -> ExecutionResult:
    clock = run.retrying(run.broker.get_clock)
    if not clock.is_open and not all(leg.crypto for leg in run.legs.values()):
        return _queue(run, record, clock.next_open)
    _watch(run)
    for index, leg in list(run.legs.items()):
        if leg.status in {LegStatus.SUBMITTING, LegStatus.OPEN}:
            run.legs[index] = run.reconcile(leg)
    if all(leg.status is LegStatus.PENDING for leg in run.legs.values()):
        # Nothing of the plan is at the broker: check the account, and plan again from
        # the holdings of now when the plan is stale.
        refusal = _refresh_plan(run, record, link)
        if refusal is not None:
            return refusal
    run.phase(Side.SELL)
    run.wait(Side.SELL)
    run.save()
    run.size_buys()
    run.phase(Side.BUY)
    run.wait(Side.BUY)
    run.close_open()
    status = outcome(list(run.legs.values()))
    return _finish(run, status, PlanChanges(record_orders=True))


def _finish(run: _Run, status: PlanStatus, changes: PlanChanges) -> ExecutionResult:
    now = run.ports.clock.now()
    run.save(PlanChanges(status=status, completed_at=now).merged(changes), release=True)
    return ExecutionResult(run.plan_id, status, tuple(run.legs.values()), _document(run))


def _document(run: _Run) -> Mapping[str, Any]:
    """The plan's stored document, for the answer."""
    return run.ports.plans.get_entry(run.uid, run.plan_id) or {}


def _check_account(run: _Run, record: PlanRecord, link: BrokerLink) -> None:
    """Refuse, and end, a plan made for another account than the one linked now.

    Checked before anything is sent or looked up: after a relink the old account's
    orders cannot even be read, and the new account must never receive them.

    Raises:
        PreconditionFailed: The plan names another account (the plan is marked failed).
    """
    made_for = record.account
    if made_for is None or made_for == AccountRef(link.account_number, bool(link.paper)):
        return
    sent = any(leg.order_id or leg.status is not LegStatus.PENDING for leg in run.legs.values())
    message = (
        f"plan {run.plan_id} was made for account {made_for.account_number}; "
        f"the linked account is {link.account_number}: propose a new plan"
    )
    if sent:
        message += " (orders already sent stay at the first account; check them there)"
    _finish(run, PlanStatus.FAILED, PlanChanges(error=message))
    raise PreconditionFailed(message)


def _refresh_plan(run: _Run, record: PlanRecord, link: BrokerLink) -> ExecutionResult | None:
    """Re-plan a stale plan (or one from before plans named their account); None to go on."""
    if record.account is not None and not _stale(run, record):
        return None
    plan, replans = _replan(run, record), record.replans + 1
    fresh = planned_legs(plan, run.plan_id, first_index=replans * REPLAN_INDEX_STEP)
    run.legs = {leg.index: leg for leg in fresh}
    linked = AccountRef(link.account_number, link.paper)
    changes = PlanChanges(replanned=Replanned(plan, linked, replans, run.ports.clock.now()))
    if not fresh:
        reason = "nothing to trade: the account is within its bands now"
        return _finish(run, PlanStatus.CANCELLED, changes.merged(PlanChanges(cancel_reason=reason)))
    run.save(changes)
    return None


def _stale(run: _Run, record: PlanRecord) -> bool:
    """Older than `FRESH_S`, or the account has orders since the plan was made."""
    made = record.made_at
    if made is None:
        return True
    if (run.ports.clock.now() - made).total_seconds() > FRESH_S:
        return True
    own = client_order_id(run.plan_id, 0).rsplit("-", 1)[0] + "-"
    orders = run.retrying(partial(run.broker.recent_orders, made))
    return any(not (o.client_order_id or "").startswith(own) for o in orders)


def _replan(run: _Run, record: PlanRecord) -> Plan:
    """The same strategy and cash flows, planned from the account as it is now."""
    user = read_user(run.uid, run.ports)
    market = read_market(run.broker, user.targets)
    now = run.ports.clock.now()
    return draft_plan(
        user,
        market,
        trading_day(now),
        now,
        record.reason,
        record.strategy,
        record.cash_to_invest_usd,
        record.cash_to_raise_usd,
    ).plan


def _queue(run: _Run, record: PlanRecord, next_open: datetime) -> ExecutionResult:
    """Market closed: no orders; queue the plan and schedule its run after the open."""
    run_at = next_open + QUEUE_DELAY
    task_id = f"plan-{run.plan_id}-{run_at.astimezone(UTC):%Y%m%d%H%M}"
    _enqueue(run, task_id, run_at)
    changes = PlanChanges(status=PlanStatus.QUEUED, queued_until=run_at, queued_task=task_id)
    run.save(changes, release=True)
    stored = run.ports.plans.get_entry(run.uid, run.plan_id) or record.document
    return ExecutionResult(run.plan_id, PlanStatus.QUEUED, tuple(run.legs.values()), stored)


def _hand_off(run: _Run) -> ExecutionResult:
    """The budget is spent: record, release, and let a task resume the run at once."""
    now = run.ports.clock.now()
    # Released first, so that the task (delivered at once) finds the lease free; a crash
    # in between is what the watch task is for.
    run.save(PlanChanges(handed_off_at=now), release=True)
    _enqueue(run, f"resume-{run.plan_id}-{run.executor}", now)
    legs = tuple(run.legs.values())
    return ExecutionResult(run.plan_id, PlanStatus.EXECUTING, legs, _document(run))


def _watch(run: _Run) -> None:
    """A task that resumes the plan if this run is cut off (timeout, crash, lost instance)."""
    at = run.deadline + timedelta(seconds=LEASE_S + 30)
    _enqueue(run, f"watch-{run.plan_id}-{run.executor}", at)


def _enqueue(run: _Run, task_id: str, at: datetime) -> None:
    run.ports.tasks.enqueue(TASK_FUNCTION, {"uid": run.uid, "plan_id": run.plan_id}, task_id, at)


def _note_lost_lease(run: _Run, lost: ConcurrentExecution) -> None:
    """Say in the plan that this executor stopped because another run took over."""
    note = LeaseLost(run.executor, run.ports.clock.now(), lost.message)
    run.ports.plans.annotate_plan(run.uid, run.plan_id, PlanChanges(lease_lost=note))
