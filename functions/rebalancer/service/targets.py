"""Use case: set and read a user's target allocation."""

from __future__ import annotations

from rebalancer.domain.errors import InvalidInput
from rebalancer.domain.models import Target
from rebalancer.service.context import Ports, open_broker


def set_targets(uid: str, targets: list[Target], ports: Ports) -> list[Target]:
    """Replace the user's allocation after checking every symbol is tradable at the broker.

    The schema already checked ranges, duplicates and the sum; this adds what only the
    broker knows. A linked broker account is required for that check.

    Raises:
        NoBrokerLinked: If the user has no linked account.
        InvalidInput: If a symbol is unknown or not tradable (naming its index).
    """
    broker = open_broker(uid, ports)
    assets = broker.get_assets([t.symbol for t in targets])
    for index, target in enumerate(targets):
        asset = assets.get(target.symbol)
        field = f"allocations.{index}.symbol"
        if asset is None:
            raise InvalidInput(field, f"{target.symbol} is not known at the broker")
        if not asset.tradable:
            raise InvalidInput(field, f"{target.symbol} is not tradable")
    ports.users.replace_targets(uid, targets, ports.clock.now())
    return targets


def get_targets(uid: str, ports: Ports) -> list[Target]:
    """The user's allocation as stored."""
    return ports.users.get_targets(uid)
