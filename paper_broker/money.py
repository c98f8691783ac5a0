"""Decimal parsing, rounding and formatting for money, prices and quantities."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
CENT = Decimal("0.01")
# Alpaca quantities and notional-derived quantities carry at most 9 decimals.
QTY_PLACES = 9
# Anything this large is a typo, and it keeps every product within Decimal's precision.
LIMIT = Decimal("1e15")


def to_decimal(value: object) -> Decimal | None:
    """Return a finite Decimal for a JSON number or numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        # str() first: alpaca-py sends floats, and str(float) is their shortest exact form.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= LIMIT:
        return None
    return number


def decimal_places(number: Decimal) -> int:
    """Return how many significant decimals a number has ("1.50" has one)."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def floor_places(number: Decimal, places: int = QTY_PLACES) -> Decimal:
    """Round a non-negative number down to ``places`` decimals."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def cents(number: Decimal) -> Decimal:
    """Round an amount of money to the cent, half up."""
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(number: Decimal, places: int = QTY_PLACES) -> str:
    """Serialise a Decimal as Alpaca does: plain digits, no exponent, no trailing zeros."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    # Adding zero turns a negative zero into "0".
    text = format(rounded.normalize() + ZERO, "f")
    return text


def fmt_opt(number: Decimal | None, places: int = QTY_PLACES) -> str | None:
    """Serialise an optional Decimal, keeping None as JSON null."""
    return None if number is None else fmt(number, places)


def money(number: Decimal) -> str:
    """Serialise an amount of money with at most two decimals."""
    return fmt(number, 2)


def ratio(number: Decimal) -> str:
    """Serialise a ratio (a percentage as a fraction) with up to ten decimals."""
    return fmt(number, 10)
