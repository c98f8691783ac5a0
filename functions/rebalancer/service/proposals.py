"""Use case: propose a plan from live data and store it for the user to review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from rebalancer.domain.models import ZERO
from rebalancer.domain.plan import Plan
from rebalancer.domain.settings import Strategy
from rebalancer.service.context import Ports
from rebalancer.service.drafts import draft_plan
from rebalancer.service.market import read_market, read_user, trading_day

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Proposal:
    """A stored plan and its id."""

    plan_id: str
    plan: Plan


def propose_plan(
    uid: str,
    ports: Ports,
    strategy: Strategy = Strategy.AUTO,
    cash_to_invest_usd: Decimal = ZERO,
    cash_to_raise_usd: Decimal = ZERO,
) -> Proposal:
    """Build a plan with `strategy` and store it as `proposed` in the user's history.

    Raises:
        NoTargets, TargetsNotSummingTo100, NoBrokerLinked: Before any broker call.
        BrokerError: When the broker cannot be read; nothing is written then.
        EmptyAccount: When the account (with the deposit) has no value.
        InvalidInput: When `cash_to_raise_usd` is more than the account is worth (all of
            it is a legitimate withdrawal: the plan sells everything).
    """
    user = read_user(uid, ports)
    market = read_market(user.broker, user.targets)
    value = market.portfolio.total_value_usd
    if value < cash_to_raise_usd <= value.quantize(CENT, rounding=ROUND_CEILING):
        # The value a client shows is in cents: withdrawing that figure is withdrawing
        # everything, even when the account is worth a fraction of a cent less.
        cash_to_raise_usd = value
    now = ports.clock.now()
    reason = "Cash flow" if cash_to_invest_usd or cash_to_raise_usd else "Manual"
    draft = draft_plan(
        user,
        market,
        trading_day(now),
        now,
        reason,
        strategy,
        cash_to_invest_usd,
        cash_to_raise_usd,
    )
    plan_id = ports.plans.new_id()
    ports.plans.add_plan(uid, plan_id, draft.new)
    return Proposal(plan_id, draft.plan)
