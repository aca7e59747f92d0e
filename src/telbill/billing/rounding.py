"""Rounding exact rationals to a currency's minor unit.

Proration fractions stay exact (`fractions.Fraction`) until an amount is charged; this module
turns `amount × fraction` into money once, with a named mode, without ever passing through a
float or a truncated Decimal.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding, currency

_HALF = Fraction(1, 2)


def round_to_int(value: Fraction, rounding: Rounding) -> int:
    """The integer nearest to `value` under `rounding` (HALF_UP rounds ties away from zero)."""
    floor = value.numerator // value.denominator
    rest = value - floor
    if rest == 0:
        return floor
    ceil = floor + 1
    positive = value > 0
    match rounding:
        case Rounding.FLOOR:
            return floor
        case Rounding.CEILING:
            return ceil
        case Rounding.DOWN:
            return floor if positive else ceil
        case Rounding.UP:
            return ceil if positive else floor
    if rest != _HALF:
        return floor if rest < _HALF else ceil
    if rounding is Rounding.HALF_UP:
        return ceil if positive else floor
    return floor if floor % 2 == 0 else ceil  # HALF_EVEN


def as_fraction(value: Fraction | Decimal | int) -> Fraction:
    """An exact Fraction from a Fraction, Decimal or int (floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, (Fraction, Decimal, int)):
        raise TypeError(f"expected an exact number, got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationFailed(f"not a finite number: {value}")
    return Fraction(value)


def money_of_fraction(value: Fraction, code: str, rounding: Rounding) -> Money:
    """Exact rational amount → Money rounded to the currency's minor unit."""
    minor_units = currency(code).minor_units
    return Money.from_minor(round_to_int(value * 10**minor_units, rounding), code)


def fraction_as_decimal(value: Fraction, places: int = 12) -> Decimal:
    """A Decimal view of an exact fraction for storage or display (half-even at `places`)."""
    scaled = round_to_int(value * 10**places, Rounding.HALF_EVEN)
    return Decimal(scaled).scaleb(-places)
