"""Alpaca-shaped error answers: an HTTP status plus ``{"code", "message"}``."""

from __future__ import annotations

from typing import Any

MALFORMED = 40010000
INVALID = 40010001
UNAUTHORIZED = 40110000
FORBIDDEN = 40310000
NOT_FOUND = 40410000
NOT_ALLOWED = 40510000
NOT_CANCELABLE = 42210000
RATE_LIMITED = 42910000
SERVER_ERROR = 50010000


class ApiError(Exception):
    """An error answer; raising it anywhere in a handler sends it to the client."""

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Return the JSON body Alpaca sends with this error."""
        return {"code": self.code, "message": self.message}


def unauthorized() -> ApiError:
    """Missing or wrong credentials."""
    return ApiError(401, UNAUTHORIZED, "request is not authorized")


def forbidden(message: str) -> ApiError:
    """Insufficient buying power or quantity."""
    return ApiError(403, FORBIDDEN, message)


def malformed(message: str = "malformed JSON body") -> ApiError:
    """A request body that is not valid JSON (or not an object)."""
    return ApiError(400, MALFORMED, message)


def invalid(message: str) -> ApiError:
    """A field Alpaca refuses with 422."""
    return ApiError(422, INVALID, message)


def not_found(message: str) -> ApiError:
    """An unknown order, position, asset or path."""
    return ApiError(404, NOT_FOUND, message)


def not_allowed() -> ApiError:
    """A known path asked with a method it does not serve."""
    return ApiError(405, NOT_ALLOWED, "method not allowed")


def not_cancelable(status: str) -> ApiError:
    """Canceling an order that is already done."""
    return ApiError(422, NOT_CANCELABLE, f'order is already in "{status}" state')


def server_error() -> ApiError:
    """A 500 as Alpaca sends it."""
    return ApiError(500, SERVER_ERROR, "internal server error")


def bad_control(field: str, problem: str, status: int = 400) -> ApiError:
    """A control request refused; the message starts with the problem field."""
    # Alpaca's code scheme: the status followed by 10000 (40010000, 40410000, ...).
    return ApiError(status, status * 100_000 + 10_000, f"{field}: {problem}")
