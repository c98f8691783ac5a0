"""Use case: link and unlink a user's brokerage account."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, timedelta

from rebalancer.domain.errors import BrokerAuthFailed, InvalidInput, TooManyAttempts
from rebalancer.service.context import Ports
from rebalancer.service.ports import BrokerCredentials, BrokerLink

# link_broker must not become an oracle for testing stolen keys: a few attempts an hour.
LINK_ATTEMPTS = 5
LINK_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class LinkedAccount:
    """What a client may see of a linked account: never the credentials."""

    account_number: str
    status: str
    paper: bool


def link_broker(uid: str, credentials: BrokerCredentials, ports: Ports) -> LinkedAccount:
    """Verify credentials with one account call, then store them encrypted.

    Every attempt counts, failed ones included: at most `LINK_ATTEMPTS` per uid in any
    `LINK_WINDOW`; beyond that the broker is not called.

    Raises:
        TooManyAttempts: If the caller made too many attempts lately (says when to retry).
        InvalidInput: If the broker refuses the credentials.
        BrokerError: If the broker cannot be reached.
    """
    now = ports.clock.now()
    retry_at = ports.users.count_attempt(uid, "link_broker", now, LINK_ATTEMPTS, LINK_WINDOW)
    if retry_at is not None:
        wait_s = max(1, math.ceil((retry_at - now).total_seconds()))
        when = retry_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        raise TooManyAttempts(
            f"too many link_broker attempts: at most {LINK_ATTEMPTS} per hour; "
            f"retry after {when} (in {wait_s} s)"
        )
    broker = ports.connector.connect(credentials)
    try:
        account = broker.get_account()
    except BrokerAuthFailed:
        field = "oauth_token" if credentials.oauth_token else "api_key_id"
        raise InvalidInput(field, "the broker refused these credentials") from None
    link = BrokerLink(
        sealed_credentials=ports.vault.seal(credentials),
        paper=credentials.paper,
        account_number=account.account_number,
        auth_type="oauth" if credentials.oauth_token else "api_key",
    )
    ports.users.save_broker_link(uid, link, now)
    return LinkedAccount(account.account_number, account.status, credentials.paper)


def unlink_broker(uid: str, ports: Ports) -> bool:
    """Forget the user's broker credentials; False when none were linked."""
    return ports.users.delete_broker_link(uid)
