"""The rules of a target allocation, for what `set_targets` writes and what is read back.

Allocation documents (`userSettings/{uid}/allocation/{symbol}`) can be written by clients
straight to Firestore. `firestore.rules` checks each document on its own; the rules that
span documents (a substitute that is another target, a substitute listed by two targets)
and anything written around the rules (by the backend before a rule existed, or by an
admin) are checked here, when the allocation is read. A document that breaks a rule
raises `InvalidAllocation` naming the document and the field, so that no plan is ever
made from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeGuard

from rebalancer.domain.errors import InvalidAllocation
from rebalancer.domain.models import HUNDRED, Target

# The same pattern as firestore.rules and the callables' schema.
SYMBOL_PATTERN = r"^[A-Z][A-Z0-9]{0,9}([./][A-Z]{1,5})?$"
MAX_TARGETS = 50
MAX_SUBSTITUTES = 5
MIN_PERCENT = Decimal("0.01")
MIN_USD = Decimal("0.01")
MIN_QTY = Decimal("1e-9")
QTY_DECIMALS = 9

_SYMBOL = re.compile(SYMBOL_PATTERN)


def is_symbol(value: object) -> TypeGuard[str]:
    """True when `value` is a string the symbol pattern matches in full."""
    return isinstance(value, str) and _SYMBOL.fullmatch(value) is not None


def allocation_doc_id(symbol: str) -> str:
    """Document ids cannot hold '/', so crypto pairs such as BTC/USD are stored as BTC-USD."""
    return symbol.replace("/", "-")


def shown(value: object) -> str:
    """A stored value as an error message shows it: short, whatever a client wrote."""
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def target_from_document(document: str, doc_id: str, data: Mapping[str, object]) -> Target:
    """Read one allocation document, refusing any field of the wrong type or range.

    A missing `symbol` is the document id and a missing `enabled` is true (documents of
    older clients); `threshold_percent` and `substitutes` are optional (null is absent).
    Fields this backend does not know are ignored.

    Args:
        document: The document's path, as error messages name it.
        doc_id: The document id.
        data: The document's fields.

    Returns:
        The target, checked with `check_target`.

    Raises:
        InvalidAllocation: Naming the document and the first field that breaks a rule.
    """
    symbol = data.get("symbol", doc_id)
    if not is_symbol(symbol):
        raise InvalidAllocation(document, "symbol", f"{shown(symbol)} is not a valid symbol")
    if allocation_doc_id(symbol) != doc_id:
        raise InvalidAllocation(document, "symbol", f"{symbol} does not match the document id")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidAllocation(document, "enabled", "must be true or false")
    threshold = data.get("threshold_percent")
    substitutes = data.get("substitutes")
    if substitutes is not None and not isinstance(substitutes, list):
        raise InvalidAllocation(document, "substitutes", "must be a list of symbols")
    for index, substitute in enumerate(substitutes or []):
        if not isinstance(substitute, str):
            field = f"substitutes.{index}"
            raise InvalidAllocation(document, field, f"{shown(substitute)} is not a valid symbol")
    target = Target(
        symbol=symbol,
        target_percent=_percent(document, "target_percent", data.get("target_percent")),
        threshold_percent=None
        if threshold is None
        else _percent(document, "threshold_percent", threshold),
        enabled=enabled,
        substitutes=tuple(s for s in substitutes or [] if isinstance(s, str)),
    )
    check_target(document, target)
    return target


def _percent(document: str, field: str, value: object) -> Decimal:
    if value is None:
        raise InvalidAllocation(document, field, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAllocation(document, field, f"must be a number, not {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidAllocation(document, field, "must be a finite number")
    return Decimal(str(value))


def check_target(document: str, target: Target) -> None:
    """Check the rules one allocation document can break on its own.

    `target_percent` and `threshold_percent` (when set) lie in [0.01, 100]; at most 5
    substitutes, each a valid symbol, none the target's own symbol, none listed twice.

    Raises:
        InvalidAllocation: Naming the document and the field.
    """
    if not is_symbol(target.symbol):
        raise InvalidAllocation(document, "symbol", f"{shown(target.symbol)} is not a valid symbol")
    _check_percent(document, "target_percent", target.target_percent)
    if target.threshold_percent is not None:
        _check_percent(document, "threshold_percent", target.threshold_percent)
    substitutes = target.substitutes
    if len(substitutes) > MAX_SUBSTITUTES:
        raise InvalidAllocation(
            document, "substitutes", f"at most {MAX_SUBSTITUTES} allowed, found {len(substitutes)}"
        )
    for index, substitute in enumerate(substitutes):
        if not is_symbol(substitute):
            field = f"substitutes.{index}"
            raise InvalidAllocation(document, field, f"{shown(substitute)} is not a valid symbol")
        if substitute == target.symbol:
            raise InvalidAllocation(
                document, "substitutes", f"{substitute} is the target's own symbol"
            )
        if substitute in substitutes[:index]:
            raise InvalidAllocation(document, "substitutes", f"{substitute} is listed twice")


def _check_percent(document: str, field: str, value: Decimal) -> None:
    if not value.is_finite():
        raise InvalidAllocation(document, field, "must be a finite number")
    if value < MIN_PERCENT:
        raise InvalidAllocation(document, field, f"must be at least {MIN_PERCENT}, not {value}")
    if value > HUNDRED:
        raise InvalidAllocation(document, field, f"must be at most 100, not {value}")


def check_allocation(allocation: Mapping[str, Target]) -> list[Target]:
    """Check a whole allocation: every document, then the rules that span documents.

    No substitute is itself a target (enabled or not), and no substitute is listed by two
    targets: either would count one holding twice.

    Args:
        allocation: Each target by the path of its document.

    Returns:
        The targets, in document order.

    Raises:
        InvalidAllocation: Naming the first document (by path) that breaks a rule.
    """
    ordered = sorted(allocation.items())
    for document, target in ordered:
        check_target(document, target)
    owners = {target.symbol: document for document, target in ordered}
    listed_by: dict[str, str] = {}
    for document, target in ordered:
        for substitute in target.substitutes:
            if substitute in owners:
                raise InvalidAllocation(document, "substitutes", f"{substitute} is itself a target")
            if substitute in listed_by:
                raise InvalidAllocation(
                    document,
                    "substitutes",
                    f"{substitute} is also a substitute in {listed_by[substitute]}",
                )
            listed_by[substitute] = document
    return [target for _, target in ordered]


def check_document_count(collection: str, count: int) -> None:
    """Refuse an allocation of more than 50 documents (a read stops at 51).

    Raises:
        InvalidAllocation: Naming the collection.
    """
    if count > MAX_TARGETS:
        raise InvalidAllocation(
            collection,
            None,
            f"more than {MAX_TARGETS} documents; call set_targets to replace the allocation",
        )
