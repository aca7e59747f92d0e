"""Products, offers, offer versions and the per-offer policies subscriptions and billing follow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from telbill.catalog.charges import (
    Allowance,
    Charge,
    Phase,
    RecurringCharge,
    phase_issues,
)
from telbill.catalog.types import Code, Days, Instant, Issue, NonNegative, PricePoints, Spec, rules_broken
from telbill.core.errors import NotFound


class ProductKind(StrEnum):
    MOBILE_VOICE = "mobile_voice"
    MOBILE_SMS = "mobile_sms"
    MOBILE_DATA = "mobile_data"
    MOBILE = "mobile"
    FIXED_BROADBAND = "fixed_broadband"
    TV = "tv"
    DEVICE = "device"
    SERVICE = "service"


class Product(Spec):
    code: Code
    name: str
    kind: ProductKind
    description: str | None = None


class BundleReplace(Spec):
    """The components' recurring charges are replaced by this version's own recurring charges."""

    mode: Literal["replace"]


class BundleDiscount(Spec):
    """The components keep their prices, reduced by a percentage or a fixed amount per period."""

    mode: Literal["discount"]
    percent: Annotated[NonNegative, Field(le=100)] | None = None
    amount: PricePoints | None = None

    @model_validator(mode="after")
    def _one(self) -> BundleDiscount:
        if (self.percent is None) == (self.amount is None):
            raise rules_broken([((), "give exactly one of `percent` or `amount`")])
        return self


BundlePrice = Annotated[BundleReplace | BundleDiscount, Field(discriminator="mode")]


def price_points_in(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict]]:
    """Every price-points mapping inside a spec, with its path (used to check currencies agree)."""
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            yield from price_points_in(getattr(node, name), (*path, field.alias or name))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from price_points_in(item, (*path, i))
    elif isinstance(node, dict) and node and all(isinstance(v, Decimal) for v in node.values()):
        yield path, node


class OfferVersion(Spec):
    """The prices of an offer from `effective_from` on. Published versions never change."""

    effective_from: Instant
    charges: list[Charge] = Field(default_factory=list)
    allowances: list[Allowance] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)
    bundle_price: BundlePrice | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OfferVersion:
        issues: list[Issue] = []
        for field, items in (("charges", self.charges), ("allowances", self.allowances)):
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.code in seen:
                    issues.append(((field, i, "code"), f"duplicate code {item.code!r} in this version"))
                seen.add(item.code)
        issues.extend(phase_issues(self.phases))
        issues.extend(self._currency_issues())
        if issues:
            raise rules_broken(issues)
        return self

    def _currency_issues(self) -> list[Issue]:
        points = list(price_points_in(self))
        if not points:
            return []
        expected = set(points[0][1])
        return [
            (path, f"priced in {sorted(p)} but this version is priced in {sorted(expected)}")
            for path, p in points[1:]
            if set(p) != expected
        ]

    def currencies(self) -> set[str]:
        """The currencies this version can be sold in."""
        points = list(price_points_in(self))
        return set(points[0][1]) if points else set()

    def recurring_charges(self) -> list[RecurringCharge]:
        return [c for c in self.charges if isinstance(c, RecurringCharge)]


class NoticePolicy(Spec):
    """A new version reaches existing subscriptions at their first cycle start on/after
    effective_from + notice_days."""

    policy: Literal["notice"]
    notice_days: Days

    @property
    def notice(self) -> timedelta:
        return timedelta(days=self.notice_days)


class GrandfatheredPolicy(Spec):
    """Existing subscriptions keep the version they subscribed to."""

    policy: Literal["grandfathered"]


PriceUpdate = Annotated[NoticePolicy | GrandfatheredPolicy, Field(discriminator="policy")]


class ChangeTiming(StrEnum):
    IMMEDIATE = "immediate"
    END_OF_PERIOD = "end_of_period"


class ProrationBasis(StrEnum):
    ACTUAL_DAYS = "actual_days"
    THIRTY_DAY_MONTH = "thirty_day_month"
    SECONDS = "seconds"


class ProrationOnChange(StrEnum):
    CREDIT_AND_CHARGE = "credit_and_charge"
    NONE = "none"


class Proration(Spec):
    basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS
    on_change: ProrationOnChange = ProrationOnChange.CREDIT_AND_CHARGE


class OfferKind(StrEnum):
    PLAN = "plan"
    ADDON = "addon"
    BUNDLE = "bundle"


POLICY_FIELDS = ("price_update", "plan_change", "proration", "cancellation")


class Offer(Spec):
    code: Code
    name: str
    kind: OfferKind
    description: str | None = None
    products: list[Code] = Field(default_factory=list)
    compatible_with: list[Code] = Field(default_factory=list)
    components: list[Code] = Field(default_factory=list)
    price_update: PriceUpdate = NoticePolicy(policy="notice", notice_days=30)
    plan_change: ChangeTiming = ChangeTiming.IMMEDIATE
    proration: Proration = Proration()
    cancellation: ChangeTiming = ChangeTiming.END_OF_PERIOD
    versions: Annotated[list[OfferVersion], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Offer:
        issues = self._kind_issues()
        for i in range(1, len(self.versions)):
            before, this = self.versions[i - 1].effective_from, self.versions[i].effective_from
            if this <= before:
                what = "repeats" if this == before else "is before"
                issues.append(
                    (
                        ("versions", i, "effective_from"),
                        f"{this.isoformat()} {what} the previous version's {before.isoformat()}; "
                        "versions must be listed in increasing effective_from order",
                    )
                )
        if issues:
            raise rules_broken(issues)
        return self

    def _kind_issues(self) -> list[Issue]:
        issues: list[Issue] = []
        bundle = self.kind is OfferKind.BUNDLE
        if self.compatible_with and self.kind is not OfferKind.ADDON:
            issues.append((("compatible_with",), "only add-ons have `compatible_with`"))
        if self.components and not bundle:
            issues.append((("components",), "only bundles have `components`"))
        if bundle and len(self.components) < 2:
            issues.append((("components",), "a bundle needs at least two component offers"))
        if not bundle and not self.products:
            issues.append((("products",), f"a {self.kind} offer needs at least one product"))
        for i, version in enumerate(self.versions):
            if bundle and version.bundle_price is None:
                issues.append((("versions", i, "bundle_price"), "a bundle version needs a `bundle_price`"))
            if not bundle and version.bundle_price is not None:
                issues.append((("versions", i, "bundle_price"), "only bundle versions have a `bundle_price`"))
        return issues

    def version(self, number: int) -> OfferVersion:
        """Version `number` (1-based, in the order published)."""
        if not 1 <= number <= len(self.versions):
            raise NotFound(f"offer {self.code!r} has no version {number} (it has {len(self.versions)})")
        return self.versions[number - 1]

    def policies(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(POLICY_FIELDS))
