from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.core.errors import CurrencyMismatch, ValidationFailed
from telbill.core.money import Money, Rounding, currency, sum_money

amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False)
codes = st.sampled_from(["EUR", "JPY", "TND", "USD", "GBP"])


def test_minor_units_come_from_the_currency():
    assert currency("EUR").minor_units == 2
    assert currency("JPY").minor_units == 0
    assert currency("TND").minor_units == 3


def test_unknown_currency_is_a_validation_error():
    with pytest.raises(ValidationFailed, match="unknown currency"):
        Money.of("1", "EURO")
    with pytest.raises(ValidationFailed):
        Money.of("1", "eur")


def test_float_is_refused():
    with pytest.raises(TypeError, match="float"):
        Money.of(1.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of("1", "EUR") * 1.5  # type: ignore[operator]


def test_currency_mismatch_is_an_error():
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "EUR") + Money.of("1", "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1", "EUR") < Money.of("2", "USD")


@pytest.mark.parametrize(
    ("amount", "code", "mode", "expected"),
    [
        ("2.345", "EUR", Rounding.HALF_UP, "2.35"),
        ("2.345", "EUR", Rounding.HALF_EVEN, "2.34"),
        ("2.341", "EUR", Rounding.UP, "2.35"),
        ("2.349", "EUR", Rounding.DOWN, "2.34"),
        ("-2.345", "EUR", Rounding.HALF_UP, "-2.35"),
        ("-2.341", "EUR", Rounding.CEILING, "-2.34"),
        ("-2.341", "EUR", Rounding.FLOOR, "-2.35"),
        ("1234.5", "JPY", Rounding.HALF_UP, "1235"),
        ("1.2345", "TND", Rounding.HALF_UP, "1.235"),
        ("1.2345", "TND", Rounding.HALF_EVEN, "1.234"),
    ],
)
def test_rounding_modes_to_the_minor_unit(amount, code, mode, expected):
    assert Money.of(amount, code).rounded(mode).amount == Decimal(expected)
    assert str(Money.of(amount, code).rounded(mode).amount) == expected


def test_minor_and_micros_round_trip():
    assert Money.of("12.34", "EUR").to_minor() == 1234
    assert Money.from_minor(1234, "EUR") == Money.of("12.34", "EUR")
    assert Money.from_minor(1234, "JPY") == Money.of("1234", "JPY")
    assert Money.from_minor(1234, "TND") == Money.of("1.234", "TND")
    assert Money.of("0.0123456", "EUR").to_micros() == 12346
    assert Money.from_micros(12346, "EUR").amount == Decimal("0.012346")


@given(a=amounts, b=amounts, code=codes)
def test_addition_is_exact_and_commutative(a, b, code):
    x, y = Money(a, code), Money(b, code)
    assert x + y == y + x
    assert (x + y) - y == x
    assert (x + y).amount == a + b


@given(a=amounts, code=codes)
def test_rounding_is_idempotent_and_within_half_a_unit(a, code):
    m = Money(a, code)
    r = m.rounded()
    assert r.rounded() == r
    assert abs(r.amount - m.amount) <= currency(code).quantum / 2


@given(
    total=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(any),
    code=codes,
)
def test_allocation_adds_up_exactly(total, weights, code):
    m = Money.from_minor(total, code)
    parts = m.allocate(weights)
    assert sum_money(parts, code) == m
    assert all(p.amount >= 0 for p in parts)
    assert all(p.is_rounded for p in parts)


def test_sum_of_empty_list_is_zero_in_the_currency():
    assert sum_money([], "EUR") == Money.zero("EUR")
    assert sum([Money.of("1.10", "EUR"), Money.of("2.20", "EUR")]) == Money.of("3.30", "EUR")
