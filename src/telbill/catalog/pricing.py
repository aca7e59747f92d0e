"""Pricing: one pure function per model, each returning the unrounded amount and its breakdown.

Amounts are not rounded here: billing rounds each line once, to the currency's minor unit.
A quantity of 0 costs nothing in every quantity-based model (no tier flat fee either).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from telbill.catalog.pricing_models import (
    FlatPricing,
    GraduatedPricing,
    PackagePricing,
    PartialBlocks,
    PercentagePricing,
    PerUnitPricing,
    PricingModel,
    Tier,
    VolumePricing,
)
from telbill.catalog.types import price_in
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, to_decimal
from telbill.core.records import quick_init

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@quick_init
@dataclass(frozen=True, slots=True)
class PriceStep:
    """One line of the explanation: tier index into `tiers` (None if untiered), quantity, price, amount."""

    tier: int | None
    quantity: Decimal
    unit_price: Decimal | None
    flat_fee: Decimal
    amount: Decimal
    note: str


@quick_init
@dataclass(frozen=True, slots=True)
class PriceResult:
    currency: str
    amount: Decimal
    steps: tuple[PriceStep, ...]

    def money(self) -> Money:
        """The unrounded amount as Money (round it once, where the line is billed)."""
        return Money(self.amount, self.currency)


def _quantity(value: Decimal | int) -> Decimal:
    q = to_decimal(value)
    if q < 0:
        raise ValidationFailed(f"quantity must not be negative, got {q}")
    return q


def _bounds(tier: Tier) -> str:
    return f"[{tier.from_}, {'∞' if tier.up_to is None else tier.up_to})"


def price_flat(model: FlatPricing, currency: str) -> PriceResult:
    amount = price_in(model.price, currency)
    return PriceResult(currency, amount, (PriceStep(None, Decimal(1), None, amount, amount, "flat price"),))


def price_per_unit(model: PerUnitPricing, quantity: Decimal | int, currency: str) -> PriceResult:
    q = _quantity(quantity)
    unit = price_in(model.unit_price, currency)
    amount = q * unit
    return PriceResult(currency, amount, (PriceStep(None, q, unit, ZERO, amount, f"{q} × {unit}"),))


def price_graduated(model: GraduatedPricing, quantity: Decimal | int, currency: str) -> PriceResult:
    """Each tier [from, up_to) prices the part of the quantity inside it, plus its flat fee if used."""
    q = _quantity(quantity)
    steps = []
    for i, tier in enumerate(model.tiers):
        if q <= tier.from_:
            break
        top = q if tier.up_to is None else min(q, tier.up_to)
        in_tier = top - tier.from_
        unit = price_in(tier.unit_price, currency)
        fee = price_in(tier.flat_fee, currency) if tier.flat_fee else ZERO
        amount = in_tier * unit + fee
        note = f"tier {_bounds(tier)}: {in_tier} × {unit}" + (f" + {fee}" if fee else "")
        steps.append(PriceStep(i, in_tier, unit, fee, amount, note))
    return PriceResult(currency, sum((s.amount for s in steps), ZERO), tuple(steps))


def price_volume(model: VolumePricing, quantity: Decimal | int, currency: str) -> PriceResult:
    """The tier with from <= quantity < up_to prices all of the quantity (plus its flat fee)."""
    q = _quantity(quantity)
    if q == 0:
        return PriceResult(currency, ZERO, ())
    i, tier = next(
        (i, t) for i, t in enumerate(model.tiers) if t.from_ <= q and (t.up_to is None or q < t.up_to)
    )
    unit = price_in(tier.unit_price, currency)
    fee = price_in(tier.flat_fee, currency) if tier.flat_fee else ZERO
    amount = q * unit + fee
    note = f"all {q} in tier {_bounds(tier)} at {unit}" + (f" + {fee}" if fee else "")
    return PriceResult(currency, amount, (PriceStep(i, q, unit, fee, amount, note),))


def price_package(model: PackagePricing, quantity: Decimal | int, currency: str) -> PriceResult:
    q = _quantity(quantity)
    mode = ROUND_CEILING if model.partial_blocks is PartialBlocks.UP else ROUND_FLOOR
    blocks = (q / model.package_size).to_integral_value(rounding=mode)
    unit = price_in(model.price, currency)
    amount = blocks * unit
    note = f"{q} in blocks of {model.package_size} → {blocks} block(s) × {unit}"
    return PriceResult(currency, amount, (PriceStep(None, blocks, unit, ZERO, amount, note),))


def price_percentage(model: PercentagePricing, base_amount: Decimal | int, currency: str) -> PriceResult:
    """percent % of the base, then clamped to [minimum, maximum]; the minimum applies only to a base > 0."""
    base = _quantity(base_amount)
    raw = base * model.percent / HUNDRED
    steps = [PriceStep(None, base, model.percent, ZERO, raw, f"{model.percent}% of {base}")]
    amount = raw
    low = model.minimum.get(currency) if model.minimum else None
    high = model.maximum.get(currency) if model.maximum else None
    if low is not None and base > 0 and amount < low:
        amount = low
        steps.append(PriceStep(None, ZERO, None, ZERO, amount, f"raised to the minimum {low}"))
    if high is not None and amount > high:
        amount = high
        steps.append(PriceStep(None, ZERO, None, ZERO, amount, f"capped at the maximum {high}"))
    return PriceResult(currency, amount, tuple(steps))


def price_of(
    model: PricingModel, currency: str, quantity: Decimal | int = 0, *, base_amount: Decimal | int = 0
) -> PriceResult:
    """Price any model: `quantity` for the quantity-based ones, `base_amount` for percentage."""
    if isinstance(model, FlatPricing):
        return price_flat(model, currency)
    if isinstance(model, PerUnitPricing):
        return price_per_unit(model, quantity, currency)
    if isinstance(model, GraduatedPricing):
        return price_graduated(model, quantity, currency)
    if isinstance(model, VolumePricing):
        return price_volume(model, quantity, currency)
    if isinstance(model, PackagePricing):
        return price_package(model, quantity, currency)
    return price_percentage(model, base_amount, currency)
