"""Order sizing rules: how quantities round the way the broker accepts them."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from rebalancer.domain.models import ZERO, Side

# Alpaca accepts fractional quantities with up to 9 decimals.
QTY_STEP = Decimal("0.000000001")
WHOLE = Decimal(1)


def round_qty(qty: Decimal, *, fractionable: bool, side: Side) -> Decimal:
    """Round a share quantity to what the broker accepts.

    Buys round down and fractional sells round up, so that a basket never spends more
    than its sells raise; whole-share sells round to the nearest share so that the
    result lands as close to target as it can.

    Args:
        qty: The exact quantity, non-negative.
        fractionable: Whether the asset trades in fractions.
        side: Buy or sell.

    Returns:
        The rounded quantity, possibly zero.

    Raises:
        ValueError: If `qty` is negative or not finite.
    """
    if not qty.is_finite() or qty < 0:
        raise ValueError(f"quantity must be a finite non-negative number, got {qty}")
    if fractionable:
        rounding = ROUND_DOWN if side is Side.BUY else ROUND_UP
        return qty.quantize(QTY_STEP, rounding=rounding).normalize() + ZERO
    rounding = ROUND_DOWN if side is Side.BUY else ROUND_HALF_UP
    return qty.quantize(WHOLE, rounding=rounding)


def is_fractional(qty: Decimal) -> bool:
    """True when a quantity is not a whole number of shares."""
    return qty != qty.to_integral_value()
