"""Injected faults: the next ``count`` requests of a route misbehave in a chosen way."""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paper_broker import errors
from paper_broker.errors import ApiError, bad_control
from paper_broker.fields import decimal_field, int_field, only_fields, str_field
from paper_broker.money import fmt

KINDS = ("http_500", "rate_limit", "slow", "reject", "partial_fill", "error_after_commit")
ORDER_ROUTE = "POST /v2/orders"
FIELDS = (
    "route",
    "kind",
    "count",
    "skip",
    "account_id",
    "reset_seconds",
    "delay_ms",
    "status",
    "code",
    "message",
    "fill_ratio",
)


@dataclass
class Fault:
    """One injected fault and how many more requests it will hit."""

    id: str
    route: str
    kind: str
    remaining: int
    account_id: str | None
    reset_seconds: int
    delay_ms: int
    status: int
    code: int
    message: str
    fill_ratio: Decimal
    skip: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return the fault as the control API lists it."""
        return {
            "id": self.id,
            "route": self.route,
            "kind": self.kind,
            "remaining": self.remaining,
            "skip": self.skip,
            "account_id": self.account_id,
            "reset_seconds": self.reset_seconds,
            "delay_ms": self.delay_ms,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "fill_ratio": fmt(self.fill_ratio),
        }

    def error(self) -> ApiError | None:
        """Return the error this fault answers with before doing anything, if any."""
        if self.kind == "http_500":
            return errors.server_error()
        if self.kind == "reject":
            return ApiError(self.status, self.code, self.message)
        if self.kind == "rate_limit":
            headers = {
                "X-Ratelimit-Limit": "200",
                "X-Ratelimit-Remaining": "0",
                # Real epoch seconds: a client sleeps on its own clock, not the simulated one.
                "X-Ratelimit-Reset": str(int(time.time()) + self.reset_seconds),
            }
            return ApiError(429, errors.RATE_LIMITED, "too many requests", headers)
        return None


def parse_fault(
    body: Mapping[str, Any], routes: Collection[str], accounts: Collection[str]
) -> Fault:
    """Validate a ``POST /_paper/faults`` body into a fault."""
    only_fields(body, FIELDS)
    route = str_field(body, "route")
    if route is None or route not in routes:
        raise bad_control("route", f"unknown route {route!r}; known: {', '.join(sorted(routes))}")
    kind = str_field(body, "kind")
    if kind not in KINDS:
        raise bad_control("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "partial_fill" and route != ORDER_ROUTE:
        raise bad_control("route", f"partial_fill applies to {ORDER_ROUTE} only")
    account_id = str_field(body, "account_id")
    if account_id is not None and account_id not in accounts:
        raise bad_control("account_id", f"no account {account_id!r}", 404)
    ratio = decimal_field(body, "fill_ratio", positive=True)
    if ratio is not None and ratio >= 1:
        raise bad_control("fill_ratio", "must be between 0 and 1 (exclusive)")
    return Fault(
        id=str(uuid.uuid4()),
        route=route,
        kind=kind,
        remaining=int_field(body, "count", 1, 1, 1_000_000),
        account_id=account_id,
        reset_seconds=int_field(body, "reset_seconds", 1, 0, 3600),
        delay_ms=int_field(body, "delay_ms", 2000, 0, 60_000),
        status=int_field(body, "status", 422, 400, 599),
        code=int_field(body, "code", errors.INVALID, 0, 99_999_999),
        message=str_field(body, "message", "rejected by an injected fault") or "",
        fill_ratio=ratio if ratio is not None else Decimal("0.5"),
        skip=int_field(body, "skip", 0, 0, 1_000_000),
    )


class FaultBook:
    """The faults waiting to hit requests, in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        self._faults.append(fault)

    def take(self, route: str, account_id: str | None) -> Fault | None:
        """Consume one hit of the first fault matching a request's route and account."""
        for fault in self._faults:
            if fault.route == route and fault.account_id in (None, account_id):
                if fault.skip > 0:
                    fault.skip -= 1  # let this one through: the fault hits a later request
                    return None
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def to_json(self) -> list[dict[str, Any]]:
        """Return the queued faults."""
        return [fault.to_json() for fault in self._faults]

    def clear(self) -> None:
        """Drop every fault."""
        self._faults.clear()
