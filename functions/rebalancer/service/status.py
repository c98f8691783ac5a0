"""Use case: what an app shows before anything else (`get_status`): can I trade, am I linked."""

from __future__ import annotations

from dataclasses import dataclass

from rebalancer.service.context import Ports
from rebalancer.service.ports import BrokerLink
from rebalancer.service.trading import kill_switch_refusal


@dataclass(frozen=True)
class AppStatus:
    """Whether orders may go out now (and why not), and the caller's linked account."""

    trading_enabled: bool
    trading_message: str | None
    link: BrokerLink | None


def app_status(uid: str, ports: Ports) -> AppStatus:
    """The kill-switch as users may see it (fail closed), and the caller's broker link.

    No broker call is made: the link is what was stored when the account was linked.
    """
    refusal = kill_switch_refusal(ports.system)
    return AppStatus(refusal is None, refusal, ports.users.get_broker_link(uid))
