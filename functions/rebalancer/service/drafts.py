"""A plan made from what was just read, ready to store: one flow, written once.

`propose_plan`, the drift check, the nightly run and the executor's re-plan all read the
user and the market, then plan and record through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from rebalancer.domain.models import ZERO
from rebalancer.domain.plan import Plan
from rebalancer.domain.plan_record import AccountRef, NewPlan
from rebalancer.domain.planning import build_plan
from rebalancer.domain.settings import Strategy
from rebalancer.service.market import MarketView, UserView, planning_input


@dataclass(frozen=True)
class Draft:
    """A plan, and the plan to store as `proposed` (for the account read)."""

    plan: Plan
    new: NewPlan


def draft_plan(
    user: UserView,
    market: MarketView,
    as_of: date,
    now: datetime,
    reason: str,
    strategy: Strategy = Strategy.AUTO,
    cash_to_invest_usd: Decimal = ZERO,
    cash_to_raise_usd: Decimal = ZERO,
) -> Draft:
    """Plan from the user's data and the market as read, for the account read.

    Raises:
        EmptyAccount, InvalidInput: As the planners (no value; a withdrawal too large).
    """
    inp = planning_input(user, market, as_of, cash_to_invest_usd, cash_to_raise_usd)
    plan = build_plan(inp, strategy)
    account = AccountRef(market.account_number, user.paper)
    new = NewPlan(plan, reason, now, account, cash_to_invest_usd, cash_to_raise_usd)
    return Draft(plan, new)
