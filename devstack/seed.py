"""The demo user: a linked paper account holding a drifted portfolio, and its targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devstack.broker import PaperBroker
from devstack.firebase import Stack, User

DEMO_TARGETS = [
    {"symbol": "SPY", "target_percent": 40},
    {"symbol": "QQQ", "target_percent": 30},
    {"symbol": "TLT", "target_percent": 20},
    {"symbol": "GLD", "target_percent": 10},
]
# At the paper broker's default prices (SPY 500, QQQ 430, TLT 95, GLD 190) this is
# about 50 / 24 / 14 / 10 % with 2.5 % cash: SPY is 10 points over its target.
# Ages, not dates: `PaperBroker.seed_lots` dates them back from the broker's clock, so
# the second SPY lot is a short-term holding (and none is inside the 30-day wash-sale
# window) whatever date the stack runs at.
DEMO_LOTS = [
    {"symbol": "SPY", "qty": "60", "cost_per_share": "410.00", "held_days": "1398"},
    {"symbol": "SPY", "qty": "40", "cost_per_share": "520.00", "held_days": "168"},
    {"symbol": "QQQ", "qty": "55", "cost_per_share": "350.00", "held_days": "1004"},
    {"symbol": "TLT", "qty": "150", "cost_per_share": "101.00", "held_days": "924"},
    {"symbol": "GLD", "qty": "50", "cost_per_share": "180.00", "held_days": "689"},
]
DEMO_CASH_USD = "2500"


@dataclass(frozen=True)
class Demo:
    """A seeded demo user and its paper account."""

    user: User
    account: dict[str, Any]


def expect_ok(answer: tuple[int, Any], what: str) -> Any:
    """The callable's result, or a clear error with its status and body."""
    status, body = answer
    if status != 200 or "result" not in body:
        raise RuntimeError(f"{what} failed: {status} {body}")
    return body["result"]


def seed_demo(stack: Stack, broker: PaperBroker, email: str | None = None) -> Demo:
    """Create the demo user, its paper account and portfolio, link it and set targets."""
    user = stack.sign_up(email)
    account = broker.new_account(DEMO_CASH_USD)
    broker.seed_lots(account["id"], DEMO_LOTS)
    broker.open_market()
    credentials = {"api_key_id": account["api_key_id"], "secret_key": account["secret_key"]}
    expect_ok(stack.call("link_broker", {**credentials, "paper": True}, user.id_token), "link")
    expect_ok(stack.call("set_targets", {"allocations": DEMO_TARGETS}, user.id_token), "targets")
    return Demo(user, account)
