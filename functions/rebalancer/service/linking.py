"""Use case: link and unlink a user's brokerage account."""

from __future__ import annotations

from dataclasses import dataclass

from rebalancer.domain.errors import BrokerAuthFailed, InvalidInput
from rebalancer.service.context import Ports
from rebalancer.service.ports import BrokerCredentials, BrokerLink


@dataclass(frozen=True)
class LinkedAccount:
    """What a client may see of a linked account: never the credentials."""

    account_number: str
    status: str
    paper: bool


def link_broker(uid: str, credentials: BrokerCredentials, ports: Ports) -> LinkedAccount:
    """Verify credentials with one account call, then store them encrypted.

    Raises:
        InvalidInput: If the broker refuses the credentials.
        BrokerError: If the broker cannot be reached.
    """
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
    ports.store.save_broker_link(uid, link, ports.clock.now())
    return LinkedAccount(account.account_number, account.status, credentials.paper)


def unlink_broker(uid: str, ports: Ports) -> bool:
    """Forget the user's broker credentials; False when none were linked."""
    return ports.store.delete_broker_link(uid)
