"""The Vault port on Fernet (AES-128-CBC with HMAC-SHA256), keyed by a secret param."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from rebalancer.domain.errors import NoBrokerLinked
from rebalancer.service.ports import BrokerCredentials


class FernetVault:
    """Seals broker credentials with a Fernet key; the key never leaves this object."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise ValueError("BROKER_CREDENTIALS_KEY is not a valid Fernet key") from None

    def seal(self, credentials: BrokerCredentials) -> str:
        """Encrypt credentials into an opaque token."""
        payload = {
            "api_key_id": credentials.api_key_id,
            "secret_key": credentials.secret_key,
            "oauth_token": credentials.oauth_token,
            "paper": credentials.paper,
        }
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def open(self, sealed: str) -> BrokerCredentials:
        """Decrypt a token made by `seal`."""
        try:
            payload = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            # A rotated key makes old links unreadable; the user has to link again.
            raise NoBrokerLinked("stored broker credentials are unreadable; link again") from None
        return BrokerCredentials(
            api_key_id=payload["api_key_id"],
            secret_key=payload["secret_key"],
            oauth_token=payload["oauth_token"],
            paper=bool(payload["paper"]),
        )
