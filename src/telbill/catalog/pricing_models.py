"""Pricing model specs: flat, per_unit, graduated, volume, package, percentage (`model:` selects one).

Tiers are half-open `[from, up_to)`; the last one is open (`up_to: null`). They start at 0, are
contiguous and increase, so every quantity falls in exactly one tier.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from telbill.catalog.types import Issue, NonNegative, PricePoints, Quantity, Spec, rules_broken


class Tier(Spec):
    from_: Quantity = Field(alias="from")
    up_to: Quantity | None
    unit_price: PricePoints
    flat_fee: PricePoints | None = None


def tier_issues(tiers: list[Tier]) -> list[Issue]:
    """Everything wrong with a tier list, each with its path (e.g. tiers[2].from)."""
    if not tiers:
        return [(("tiers",), "needs at least one tier")]
    issues: list[Issue] = []
    if tiers[0].from_ != 0:
        issues.append((("tiers", 0, "from"), f"the first tier must start at 0, not {tiers[0].from_}"))
    for i, tier in enumerate(tiers):
        last = i == len(tiers) - 1
        if i > 0 and tiers[i - 1].up_to is not None and tier.from_ != tiers[i - 1].up_to:
            issues.append(
                (
                    ("tiers", i, "from"),
                    f"tiers must be contiguous: expected from {tiers[i - 1].up_to} "
                    f"(the previous tier's up_to), got {tier.from_}",
                )
            )
        if tier.up_to is None and not last:
            issues.append((("tiers", i, "up_to"), "only the last tier may be open (up_to: null)"))
        if tier.up_to is not None and last:
            issues.append((("tiers", i, "up_to"), "the last tier must be open: write up_to: null"))
        if tier.up_to is not None and tier.up_to <= tier.from_:
            issues.append((("tiers", i, "up_to"), f"up_to {tier.up_to} must exceed from {tier.from_}"))
    currencies = set(tiers[0].unit_price)
    for i, tier in enumerate(tiers):
        for field, points in (("unit_price", tier.unit_price), ("flat_fee", tier.flat_fee)):
            if points is not None and set(points) != currencies:
                message = f"currencies {sorted(points)} differ from tier 0's {sorted(currencies)}"
                issues.append((("tiers", i, field), message))
    return issues


class _Tiered(Spec):
    tiers: list[Tier]

    @model_validator(mode="after")
    def _tiers_ok(self) -> _Tiered:
        issues = tier_issues(self.tiers)
        if issues:
            raise rules_broken(issues)
        return self


class FlatPricing(Spec):
    """One amount whatever the quantity."""

    model: Literal["flat"]
    price: PricePoints


class PerUnitPricing(Spec):
    """quantity × unit price."""

    model: Literal["per_unit"]
    unit_price: PricePoints


class GraduatedPricing(_Tiered):
    """Each tier prices the units that fall inside it; the amounts add up."""

    model: Literal["graduated"]


class VolumePricing(_Tiered):
    """The tier the whole quantity falls in prices every unit."""

    model: Literal["volume"]


class PartialBlocks(StrEnum):
    UP = "up"
    DOWN = "down"


class PackagePricing(Spec):
    """A price per block of `package_size` units; a partial block counts as a whole one (or none)."""

    model: Literal["package"]
    package_size: Annotated[Quantity, Field(gt=0)]
    price: PricePoints
    partial_blocks: PartialBlocks = PartialBlocks.UP


class PercentagePricing(Spec):
    """A percentage of a base amount (e.g. a top-up value), clamped to an optional minimum and maximum."""

    model: Literal["percentage"]
    percent: NonNegative
    minimum: PricePoints | None = None
    maximum: PricePoints | None = None

    @model_validator(mode="after")
    def _bounds(self) -> PercentagePricing:
        issues: list[Issue] = []
        for code, low in (self.minimum or {}).items():
            high = (self.maximum or {}).get(code)
            if high is not None and high < low:
                issues.append((("maximum", code), f"maximum {high} is below minimum {low}"))
        if issues:
            raise rules_broken(issues)
        return self


PricingModel = Annotated[
    FlatPricing | PerUnitPricing | GraduatedPricing | VolumePricing | PackagePricing | PercentagePricing,
    Field(discriminator="model"),
]
