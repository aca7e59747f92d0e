"""Every pricing model at every tier edge (0, edge-1, edge, edge+1), expected values worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.catalog import (
    Unit,
    convert,
    price_flat,
    price_graduated,
    price_of,
    price_package,
    price_per_unit,
    price_percentage,
    price_volume,
)
from telbill.catalog.pricing_models import (
    FlatPricing,
    GraduatedPricing,
    PackagePricing,
    PercentagePricing,
    PerUnitPricing,
    VolumePricing,
)
from telbill.core.errors import TelbillError, ValidationFailed

D = Decimal

# [0, 100) at 0.10, [100, 500) at 0.08 with a 1.00 flat fee, [500, ∞) at 0.05
TIERS = [
    {"from": 0, "up_to": 100, "unit_price": {"EUR": "0.10"}},
    {"from": 100, "up_to": 500, "unit_price": {"EUR": "0.08"}, "flat_fee": {"EUR": "1.00"}},
    {"from": 500, "up_to": None, "unit_price": {"EUR": "0.05"}},
]
GRADUATED = GraduatedPricing.model_validate({"model": "graduated", "tiers": TIERS})
VOLUME = VolumePricing.model_validate({"model": "volume", "tiers": TIERS})


@pytest.mark.parametrize(
    ("quantity", "expected", "why"),
    [
        (0, "0", "nothing used, no tier touched, no flat fee"),
        (99, "9.90", "99 × 0.10"),
        (100, "10.00", "100 × 0.10; [100, 500) is not entered, so no fee"),
        (101, "11.08", "100 × 0.10 + 1 × 0.08 + 1.00 fee"),
        (499, "42.92", "10.00 + 399 × 0.08 (31.92) + 1.00"),
        (500, "43.00", "10.00 + 400 × 0.08 (32.00) + 1.00"),
        (501, "43.05", "43.00 + 1 × 0.05"),
    ],
)
def test_graduated_at_the_edges(quantity, expected, why):
    result = price_graduated(GRADUATED, quantity, "EUR")
    assert result.amount == D(expected), why
    assert sum(s.quantity for s in result.steps) == quantity
    assert sum(s.amount for s in result.steps) == result.amount


def test_graduated_breakdown_names_each_tier():
    result = price_graduated(GRADUATED, 501, "EUR")
    assert [(s.tier, s.quantity, s.unit_price, s.flat_fee, s.amount) for s in result.steps] == [
        (0, D(100), D("0.10"), D(0), D("10.00")),
        (1, D(400), D("0.08"), D("1.00"), D("33.00")),
        (2, D(1), D("0.05"), D(0), D("0.05")),
    ]
    assert result.steps[1].note == "tier [100, 500): 400 × 0.08 + 1.00"


@pytest.mark.parametrize(
    ("quantity", "expected", "tier", "why"),
    [
        (0, "0", None, "nothing used"),
        (99, "9.90", 0, "99 in [0, 100) × 0.10"),
        (100, "9.00", 1, "100 in [100, 500): 100 × 0.08 + 1.00"),
        (101, "9.08", 1, "101 × 0.08 + 1.00"),
        (499, "40.92", 1, "499 × 0.08 + 1.00"),
        (500, "25.00", 2, "500 in [500, ∞): 500 × 0.05"),
        (501, "25.05", 2, "501 × 0.05"),
    ],
)
def test_volume_at_the_edges(quantity, expected, tier, why):
    result = price_volume(VOLUME, quantity, "EUR")
    assert result.amount == D(expected), why
    assert [s.tier for s in result.steps] == ([] if tier is None else [tier])


def test_graduated_and_volume_differ_exactly_at_an_edge():
    """At 100 units, graduated still prices them all in tier 0; volume moves everything to tier 1."""
    assert price_graduated(GRADUATED, 100, "EUR").amount == D("10.00")
    assert price_volume(VOLUME, 100, "EUR").amount == D("9.00")


PACKAGE = PackagePricing.model_validate({"model": "package", "package_size": 1000, "price": {"EUR": "2.00"}})


@pytest.mark.parametrize(
    ("quantity", "up", "down"),
    [(0, "0", "0"), (1, "2.00", "0"), (999, "2.00", "0"), (1000, "2.00", "2.00"), (1001, "4.00", "2.00")],
)
def test_package_rounds_partial_blocks(quantity, up, down):
    assert price_package(PACKAGE, quantity, "EUR").amount == D(up)
    floor = PackagePricing.model_validate({**PACKAGE.model_dump(), "partial_blocks": "down"})
    assert price_package(floor, quantity, "EUR").amount == D(down)


def test_per_unit_and_flat_are_exact_and_unrounded():
    per_unit = PerUnitPricing.model_validate({"model": "per_unit", "unit_price": {"EUR": "0.05"}})
    assert price_per_unit(per_unit, 0, "EUR").amount == D(0)
    assert price_per_unit(per_unit, 3, "EUR").amount == D("0.15")
    assert price_per_unit(per_unit, D("2.5"), "EUR").amount == D("0.125")  # rounding is billing's job
    flat = FlatPricing.model_validate({"model": "flat", "price": {"EUR": "9.99", "GBP": "8.99"}})
    assert price_flat(flat, "GBP").amount == D("8.99")
    assert price_of(flat, "EUR", 12345).amount == D("9.99")


PERCENT = PercentagePricing.model_validate(
    {"model": "percentage", "percent": "5", "minimum": {"EUR": "0.10"}, "maximum": {"EUR": "5.00"}}
)


@pytest.mark.parametrize(
    ("base", "expected", "why"),
    [
        ("0", "0", "no purchase, no minimum"),
        ("1", "0.10", "5% is 0.05, raised to the 0.10 minimum"),
        ("2", "0.10", "5% is exactly the minimum"),
        ("50", "2.50", "5% of 50"),
        ("100", "5.00", "exactly the maximum"),
        ("100.01", "5.00", "5.0005 capped at 5.00"),
    ],
)
def test_percentage_with_minimum_and_maximum(base, expected, why):
    result = price_percentage(PERCENT, D(base), "EUR")
    assert result.amount == D(expected), why
    assert price_of(PERCENT, "EUR", base_amount=D(base)).amount == D(expected)


def test_missing_currency_and_negative_quantity_are_clear_errors():
    with pytest.raises(TelbillError, match=r"no price in GBP \(priced in EUR\)"):
        price_graduated(GRADUATED, 10, "GBP")
    with pytest.raises(ValidationFailed, match="must not be negative"):
        price_volume(VOLUME, -1, "EUR")


@given(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=2000))
def test_graduated_never_decreases_and_explains_itself(a, b):
    low, high = sorted((a, b))
    assert price_graduated(GRADUATED, low, "EUR").amount <= price_graduated(GRADUATED, high, "EUR").amount
    result = price_graduated(GRADUATED, high, "EUR")
    assert sum(s.quantity for s in result.steps) == high


@given(st.decimals(min_value=0, max_value=10_000, places=3))
def test_volume_prices_the_whole_quantity_in_one_tier(quantity):
    result = price_volume(VOLUME, quantity, "EUR")
    if quantity == 0:
        assert result.amount == 0
    else:
        (step,) = result.steps
        assert step.quantity == quantity
        assert result.amount == quantity * step.unit_price + step.flat_fee


def test_unit_conversions_are_exact():
    assert convert(1, Unit.GB, Unit.BYTES) == D(1_000_000_000)
    assert convert(1, Unit.GIB, Unit.MIB) == D(1024)
    assert convert(90, Unit.SECONDS, Unit.MINUTES) == D("1.5")
    assert convert(D("2.5"), Unit.MB, Unit.KB) == D(2500)
    with pytest.raises(ValueError, match="cannot convert"):
        convert(1, Unit.MB, Unit.MINUTES)
