"""What handlers receive and return, independent of the HTTP machinery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from paper_broker import errors
from paper_broker.state import Account


@dataclass
class Request:
    """One request, routed: path parameters, query, raw body and the caller's account."""

    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    now: datetime
    account: Account | None = None
    # Set by a partial_fill fault: the share of the order's quantity that will fill.
    fill_ratio: Decimal | None = None

    def json(self) -> Any:
        """Return the parsed JSON body, or raise 400 when it is not JSON."""
        try:
            return json.loads(self.raw_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise errors.malformed() from None

    def json_object(self) -> dict[str, Any]:
        """Return the JSON body as an object; an empty body is ``{}``."""
        if not self.raw_body.strip():
            return {}
        body = self.json()
        if not isinstance(body, dict):
            raise errors.malformed("request body must be a JSON object")
        return body

    @property
    def caller(self) -> Account:
        """Return the authenticated account (Alpaca paths always have one)."""
        if self.account is None:
            raise errors.unauthorized()
        return self.account


@dataclass
class Response:
    """A JSON answer (``body`` None means no content)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def ok(body: Any, status: int = 200) -> Response:
    """Return a JSON answer."""
    return Response(status, body)
