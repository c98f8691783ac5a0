"""Execution rules: a plan's and a leg's life, order ids, buy sizing after the sells, backoff.

Pure: the engine in `rebalancer.service.executor` asks these functions what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from enum import StrEnum

from rebalancer.domain.models import ZERO, Side
from rebalancer.domain.orders import QTY_STEP, round_qty

MAX_CLIENT_ORDER_ID = 48


class PlanStatus(StrEnum):
    """Where a plan is in its life."""

    PROPOSED = "proposed"
    QUEUED = "queued"
    EXECUTING = "executing"
    COMPLETED_SUCCESS = "completed_success"
    COMPLETED_ADJUSTED = "completed_adjusted"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the plan can change no more."""
        return self in FINISHED


FINISHED = {
    PlanStatus.COMPLETED_SUCCESS,
    PlanStatus.COMPLETED_ADJUSTED,
    PlanStatus.FAILED,
    PlanStatus.CANCELLED,
}
TRANSITIONS: dict[PlanStatus, set[PlanStatus]] = {
    PlanStatus.PROPOSED: {PlanStatus.QUEUED, PlanStatus.EXECUTING, PlanStatus.CANCELLED},
    PlanStatus.QUEUED: {PlanStatus.QUEUED, PlanStatus.EXECUTING, PlanStatus.CANCELLED},
    PlanStatus.EXECUTING: {PlanStatus.EXECUTING, PlanStatus.QUEUED, *FINISHED},
}


def can_move(current: PlanStatus, to: PlanStatus) -> bool:
    """Whether a plan may go from `current` to `to` (finished plans go nowhere)."""
    return to in TRANSITIONS.get(current, set())


class LegStatus(StrEnum):
    """Where one order of a plan is."""

    PENDING = "pending"  # not yet decided
    SUBMITTING = "submitting"  # intent recorded; the broker may or may not have it
    OPEN = "open"  # the broker accepted it, not (fully) filled
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"  # finished with part of it filled
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # not sent, with a reason (cash, minimum size)
    REFUSED = "refused"  # not sent: the kill-switch
    FAILED = "failed"  # the broker refused it, with its reason

    @property
    def finished(self) -> bool:
        """True once the leg can change no more."""
        return self not in {LegStatus.PENDING, LegStatus.SUBMITTING, LegStatus.OPEN}


@dataclass(frozen=True)
class Leg:
    """One order of a plan, as planned and as executed."""

    index: int
    symbol: str
    side: Side
    planned_qty: Decimal
    price_usd: Decimal
    fractionable: bool
    crypto: bool
    drift_percent: Decimal
    client_order_id: str
    status: LegStatus = LegStatus.PENDING
    qty: Decimal | None = None
    order_id: str | None = None
    filled_qty: Decimal = ZERO
    filled_avg_price_usd: Decimal | None = None
    error: str | None = None

    @property
    def order_qty(self) -> Decimal:
        """The quantity to send: resized for buys after the sells, else as planned."""
        return self.qty if self.qty is not None else self.planned_qty


def client_order_id(plan_id: str, index: int) -> str:
    """The deterministic broker id of a plan's leg, at most 48 characters."""
    return f"rb-{plan_id[: MAX_CLIENT_ORDER_ID - 7]}-{index:03d}"


def broker_leg_status(order_status: str, filled_qty: Decimal, qty: Decimal) -> LegStatus:
    """A leg's status from the broker's order status and fill."""
    if order_status == "filled" or (qty > 0 and filled_qty >= qty):
        return LegStatus.FILLED
    if order_status in {"canceled", "expired", "rejected", "done_for_day", "stopped"}:
        if filled_qty > 0:
            return LegStatus.PARTIALLY_FILLED
        return LegStatus.FAILED if order_status == "rejected" else LegStatus.CANCELLED
    return LegStatus.OPEN


def size_buys(
    buys: Sequence[Leg], available_usd: Decimal, spread_bps: Decimal
) -> list[tuple[Leg, Decimal]]:
    """Fit the buy basket into the cash the sells left.

    Args:
        buys: Buy legs with their planned quantity and price.
        available_usd: Cash that may be spent (cash less the buffer).
        spread_bps: Estimated spread per order, counted against the cash.

    Returns:
        Each leg with the quantity to buy (0 when none): unchanged when the cash covers
        the basket, otherwise scaled down in proportion; whole shares are rounded down
        and the cash left buys one more share at a time, most underweight first.
    """
    factor = 1 + spread_bps / 10_000
    wanted = sum((leg.planned_qty * leg.price_usd * factor for leg in buys), ZERO)
    if wanted <= available_usd:
        return [(leg, leg.planned_qty) for leg in buys]
    scale = max(ZERO, available_usd) / wanted if wanted > 0 else ZERO
    sized: dict[int, Decimal] = {}
    for leg in buys:
        exact = leg.planned_qty * scale
        sized[leg.index] = (
            round_qty(exact, fractionable=True, side=Side.BUY)
            if leg.fractionable
            else exact.to_integral_value(ROUND_DOWN)
        )
    left = available_usd - sum((sized[leg.index] * leg.price_usd * factor for leg in buys), ZERO)
    for leg in sorted((b for b in buys if not b.fractionable), key=lambda b: b.drift_percent):
        cost = leg.price_usd * factor
        if sized[leg.index] < leg.planned_qty and cost <= left:
            sized[leg.index] += 1
            left -= cost
    return [(leg, sized[leg.index]) for leg in buys]


CENT = Decimal("0.01")
SUB_DOLLAR_TICK = Decimal("0.0001")  # the broker's tick below $1


def limit_price(price_usd: Decimal, side: Side, buffer_bps: Decimal) -> Decimal:
    """A marketable limit: the latest price plus (buys) or minus (sells) the buffer.

    On the tick the broker accepts (cents at or above $1, 4 decimals below), rounded away
    from the price: buys up, sells down, so the buffer never rounds away (a $2.00 buy
    with 10 bp is limited at $2.01, not $2.00). A sell keeps at least one tick.

    Args:
        price_usd: The latest price.
        side: Buy or sell.
        buffer_bps: How far past the price the limit may trade, in basis points.

    Returns:
        The limit price on the broker's tick.
    """
    sign = 1 if side is Side.BUY else -1
    raw = price_usd * (1 + sign * buffer_bps / 10_000)
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    limit = raw.quantize(_tick(raw), rounding=rounding)
    # Rounding can cross $1 (a buy at $0.99995 becomes $1.0000): put it on that tick.
    limit = limit.quantize(_tick(limit), rounding=rounding)
    return max(limit, SUB_DOLLAR_TICK)


def _tick(price_usd: Decimal) -> Decimal:
    """The price increment the broker accepts at `price_usd`."""
    return CENT if price_usd >= 1 else SUB_DOLLAR_TICK


def time_in_force(leg: Leg) -> str:
    """`gtc` for crypto (it trades around the clock), else `day`.

    `day` is the only one fractional and notional orders take.
    """
    return "gtc" if leg.crypto else "day"


def backoff_seconds(attempt: int, reset_after_s: float | None, cap_s: float = 8.0) -> float:
    """Seconds to wait before retry `attempt` (1-based).

    The rate limit's reset when the broker gave one, else exponential from 0.25 s; capped.
    """
    if reset_after_s is not None and reset_after_s >= 0:
        return min(reset_after_s, cap_s)
    return float(min(cap_s, 0.25 * 2.0 ** (attempt - 1)))


def outcome(legs: Sequence[Leg]) -> PlanStatus:
    """The finished plan's status: all filled, some, or none."""
    filled = [leg for leg in legs if leg.status is LegStatus.FILLED]
    partly = [leg for leg in legs if leg.status is LegStatus.PARTIALLY_FILLED]
    if legs and len(filled) == len(legs):
        return PlanStatus.COMPLETED_SUCCESS
    if not filled and not partly:
        return PlanStatus.FAILED if legs else PlanStatus.COMPLETED_SUCCESS
    return PlanStatus.COMPLETED_ADJUSTED


def capped_sell(leg: Leg, held_qty: Decimal) -> Leg:
    """A sell leg cut to what is held when it is sent (skipped, with the reason, at 0).

    Args:
        leg: A pending sell leg.
        held_qty: Shares of the symbol held now and not already being sold by this plan.

    Returns:
        The leg unchanged when the holding covers it; else its quantity rounded down to
        what the broker accepts (9 decimals, or whole shares), or skipped when none is left.
    """
    if leg.order_qty <= held_qty:
        return leg
    step = QTY_STEP if leg.fractionable else Decimal(1)
    qty = max(ZERO, held_qty).quantize(step, rounding=ROUND_DOWN)
    if qty <= 0:
        return replace(leg, qty=ZERO, status=LegStatus.SKIPPED, error="nothing of it is held now")
    return replace(leg, qty=qty, error=f"cut to the {qty} shares held when sent")


def resized(leg: Leg, qty: Decimal, reason: str | None) -> Leg:
    """A buy leg with the quantity it is sent with (skipped, with the reason, when 0)."""
    if qty <= 0:
        return replace(leg, qty=ZERO, status=LegStatus.SKIPPED, error=reason)
    return replace(leg, qty=qty)
