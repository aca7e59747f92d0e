"""Money: a Decimal amount tied to an ISO 4217 currency. The only way to make an amount.

Floats are refused everywhere. Rounding happens only when asked, with an explicit mode,
to the currency's own minor unit (JPY 0, EUR 2, TND 3), taken from Babel's CLDR data.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from telbill.core.errors import CurrencyMismatch, ValidationFailed
from telbill.core.records import quick_init

MICROS = 1_000_000
_MICRO = Decimal("0.000001")


class Rounding(StrEnum):
    """Rounding modes by name, so every call site writes down which one it uses."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    UP = "up"
    DOWN = "down"
    CEILING = "ceiling"
    FLOOR = "floor"

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.UP: decimal.ROUND_UP,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.CEILING: decimal.ROUND_CEILING,
    Rounding.FLOOR: decimal.ROUND_FLOOR,
}


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    minor_units: int

    @property
    def quantum(self) -> Decimal:
        q = _QUANTA.get(self.minor_units)
        return q if q is not None else Decimal(1).scaleb(-self.minor_units)


_QUANTA = {n: Decimal(1).scaleb(-n) for n in range(5)}  # asked for on every rounded amount


@cache
def _known_codes() -> frozenset[str]:
    return frozenset(list_currencies())


@cache
def currency(code: str) -> Currency:
    """The currency for an ISO 4217 code; unknown codes are a validation error."""
    if not isinstance(code, str) or code.upper() != code or code not in _known_codes():
        raise ValidationFailed(f"unknown currency code {code!r} (expected an ISO 4217 code such as EUR)")
    return Currency(code, get_currency_precision(code))


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Build a Decimal from an exact value; floats are refused because they are not exact."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"money must not be built from {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationFailed(f"not a decimal amount: {value!r}") from None
    else:
        raise TypeError(f"cannot make an amount from {type(value).__name__}")
    if not result.is_finite():
        raise ValidationFailed(f"amount must be finite, got {value!r}")
    return result


@quick_init
@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", to_decimal(self.amount))
        elif not self.amount.is_finite():
            raise ValidationFailed(f"amount must be finite, got {self.amount!r}")
        currency(self.currency)

    # construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, amount: Decimal | int | str, code: str) -> Money:
        return cls(to_decimal(amount), code)

    @classmethod
    def zero(cls, code: str) -> Money:
        return cls(Decimal(0), code)

    @classmethod
    def from_minor(cls, minor: int, code: str) -> Money:
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise TypeError("minor units must be an int")
        return cls(Decimal(minor).scaleb(-currency(code).minor_units), code)

    @classmethod
    def from_micros(cls, micros: int, code: str) -> Money:
        if not isinstance(micros, int) or isinstance(micros, bool):
            raise TypeError("micros must be an int")
        return cls(Decimal(micros) * _MICRO, code)

    # conversion ---------------------------------------------------------------------------
    def rounded(self, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Rounded to the currency's minor unit with the given mode."""
        q = currency(self.currency).quantum
        return Money(self.amount.quantize(q, rounding=rounding.decimal_mode), self.currency)

    def to_minor(self, rounding: Rounding = Rounding.HALF_UP) -> int:
        cur = currency(self.currency)
        return int(self.rounded(rounding).amount.scaleb(cur.minor_units))

    def to_micros(self, rounding: Rounding = Rounding.HALF_UP) -> int:
        return int(self.amount.quantize(_MICRO, rounding=rounding.decimal_mode).scaleb(6))

    @property
    def is_rounded(self) -> bool:
        return self.amount == self.rounded().amount

    # arithmetic ---------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"currency mismatch: {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if other == 0:  # lets sum() start from 0
            return self
        return self.__add__(other)  # type: ignore[arg-type]

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, Money):
            raise TypeError("cannot multiply money by money")
        return Money(self.amount * to_decimal(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Decimal | int) -> Money:
        if isinstance(divisor, Money):
            raise TypeError("divide amounts with .ratio(), not /")
        return Money(self.amount / to_decimal(divisor), self.currency)

    def ratio(self, other: Money) -> Decimal:
        return self.amount / self._same(other).amount

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __bool__(self) -> bool:
        return self.amount != 0

    def is_zero(self) -> bool:
        return self.amount == 0

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split a rounded amount by weights so the parts add up exactly (largest remainder)."""
        if not weights or any(to_decimal(w) < 0 for w in weights):
            raise ValidationFailed("allocation needs at least one non-negative weight")
        total_w = sum((to_decimal(w) for w in weights), Decimal(0))
        if total_w == 0:
            raise ValidationFailed("allocation weights must not all be zero")
        cur = currency(self.currency)
        total_minor = self.to_minor()
        exact = [Decimal(total_minor) * to_decimal(w) / total_w for w in weights]
        floors = [int(e.to_integral_value(rounding=decimal.ROUND_FLOOR)) for e in exact]
        left = total_minor - sum(floors)
        order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in order[:left]:
            floors[i] += 1
        return [Money.from_minor(m, cur.code) for m in floors]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"


def sum_money(items: Sequence[Money], code: str) -> Money:
    """Sum that is defined for an empty list, in the given currency."""
    total = Money.zero(code)
    for m in items:
        total = total + m
    return total
