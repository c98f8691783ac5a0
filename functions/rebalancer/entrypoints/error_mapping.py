"""The one place domain errors become callable errors, and the uid comes from the token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from firebase_functions.https_fn import CallableRequest, FunctionsErrorCode, HttpsError

from rebalancer.config import ENFORCE_APP_CHECK
from rebalancer.domain.errors import RebalancerError

T = TypeVar("T")
log = logging.getLogger("rebalancer")


def caller_uid(req: CallableRequest[Any]) -> str:
    """The signed-in caller's uid, from the verified ID token only.

    Raises:
        HttpsError: `unauthenticated` when the request carries no valid token.
    """
    if req.auth is None or not req.auth.uid:
        raise HttpsError(FunctionsErrorCode.UNAUTHENTICATED, "sign in to call this function")
    return str(req.auth.uid)


def require_app_check(req: CallableRequest[Any]) -> None:
    """Refuse a request without a verified App Check token when `ENFORCE_APP_CHECK` is on.

    The SDK sets `req.app` only for a token it verified; a missing or invalid one leaves it
    None.

    Raises:
        HttpsError: `unauthenticated` when enforcement is on and the token is not valid.
    """
    if req.app is None and ENFORCE_APP_CHECK.value:
        raise HttpsError(FunctionsErrorCode.UNAUTHENTICATED, "App Check token missing or invalid")


def answer(req: CallableRequest[Any], handler: Callable[[str, Any], T]) -> T:
    """Check the caller (token, App Check), run `handler(uid, data)`, map every failure."""
    uid = caller_uid(req)
    require_app_check(req)
    try:
        return handler(uid, req.data)
    except RebalancerError as error:
        raise HttpsError(FunctionsErrorCode(error.code), error.message) from None
    except HttpsError:
        raise
    except Exception:
        # Only the type and the uid: messages of client libraries can carry secrets.
        log.exception("unexpected error for uid %s", uid)
        raise HttpsError(FunctionsErrorCode.INTERNAL, "internal error") from None
