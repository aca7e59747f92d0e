"""What an offer version charges and grants: charges, allowances, phases (trial, fixed term, evergreen)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from telbill.catalog.pricing_models import PricingModel
from telbill.catalog.types import (
    Code,
    Count,
    CurrencyCode,
    Issue,
    NonNegative,
    Period,
    PeriodUnit,
    PricePoints,
    Quantity,
    Spec,
    rules_broken,
)
from telbill.catalog.units import Unit, UsageType, unit_fits, units_for

ScopeCode = Code  # free-form scope codes such as `national`, `eu-roaming`
MONTHLY = Period(unit=PeriodUnit.MONTHS, count=1)


class Timing(StrEnum):
    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class RecurringCharge(Spec):
    """A price per period; `max_periods` ends it after N periods (device instalments, promotions)."""

    type: Literal["recurring"]
    code: Code
    name: str | None = None
    period: Period = MONTHLY
    timing: Timing = Timing.IN_ADVANCE
    price: PricePoints
    max_periods: Count | None = None


class OneTimeKind(StrEnum):
    ACTIVATION = "activation"
    DEVICE = "device"
    EARLY_TERMINATION = "early_termination"
    OTHER = "other"


class OneTimeCharge(Spec):
    type: Literal["one_time"]
    code: Code
    name: str | None = None
    kind: OneTimeKind
    price: PricePoints


class UsageCharge(Spec):
    """Usage priced either by a tariff of the rating section (`tariff:`) or by its own `pricing:` model.

    Quantity-based models price the usage quantity in `unit`; `percentage` prices the usage's value
    (e.g. third-party content bought on the bill) and takes that value as its base amount.
    Tariffs are single-currency, so `tariff` is one code or one code per currency
    (`{EUR: intl-eur, GBP: intl-gbp}`): the account's currency picks it."""

    type: Literal["usage"]
    code: Code
    name: str | None = None
    usage_type: UsageType
    unit: Unit
    scope: list[ScopeCode] = Field(default_factory=list)
    tariff: Code | dict[CurrencyCode, Code] | None = None
    pricing: PricingModel | None = None

    def tariff_for(self, currency: str) -> str | None:
        """The tariff code that prices this charge for an account in `currency` (None: none)."""
        if isinstance(self.tariff, dict):
            return self.tariff.get(currency)
        return self.tariff

    def tariff_codes(self) -> list[str]:
        """Every tariff code this charge names."""
        if self.tariff is None:
            return []
        return list(self.tariff.values()) if isinstance(self.tariff, dict) else [self.tariff]

    @model_validator(mode="after")
    def _consistent(self) -> UsageCharge:
        issues: list[Issue] = []
        if (self.tariff is None) == (self.pricing is None):
            issues.append(((), "give exactly one of `tariff` (a rating tariff code) or `pricing` (a model)"))
        if isinstance(self.tariff, dict) and not self.tariff:
            issues.append((("tariff",), "a tariff per currency needs at least one currency"))
        if not unit_fits(self.usage_type, self.unit):
            allowed = ", ".join(units_for(self.usage_type))
            issues.append(
                (("unit",), f"{self.unit} does not measure {self.usage_type} usage (use {allowed})")
            )
        if issues:
            raise rules_broken(issues)
        return self


class AppliesTo(StrEnum):
    USAGE = "usage"
    ALL = "all"


class MinimumCommitment(Spec):
    """A minimum spend per period; with `true_up` the shortfall is billed at the period's end."""

    type: Literal["minimum_commitment"]
    code: Code
    name: str | None = None
    period: Period = MONTHLY
    amount: PricePoints
    true_up: bool = True
    applies_to: AppliesTo = AppliesTo.USAGE


Charge = Annotated[
    RecurringCharge | OneTimeCharge | UsageCharge | MinimumCommitment, Field(discriminator="type")
]


class Sharing(StrEnum):
    NONE = "none"
    FAMILY = "family"  # one pool across the account hierarchy


class Rollover(Spec):
    """Unused quantity carried to the next cycles, up to `max_quantity`, for at most `max_cycles`."""

    max_quantity: Quantity | None = None
    max_cycles: Count = 1


class Allowance(Spec):
    code: Code
    usage_type: UsageType
    quantity: Quantity | None = None
    unit: Unit | None = None
    unlimited: bool = False
    rollover: Rollover | None = None
    shared: Sharing = Sharing.NONE
    scope: list[ScopeCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Allowance:
        issues: list[Issue] = []
        if self.unlimited and (self.quantity is not None or self.rollover is not None):
            issues.append(((), "an unlimited allowance takes neither quantity nor rollover"))
        if not self.unlimited and self.quantity is None:
            issues.append((("quantity",), "give a quantity (with its unit) or `unlimited: true`"))
        if self.quantity is not None and self.unit is None:
            issues.append((("unit",), "a quantity needs its unit"))
        if self.unit is not None and not unit_fits(self.usage_type, self.unit):
            allowed = ", ".join(units_for(self.usage_type))
            issues.append(
                (("unit",), f"{self.unit} does not measure {self.usage_type} usage (use {allowed})")
            )
        if issues:
            raise rules_broken(issues)
        return self


class TrialPhase(Spec):
    """A first phase whose price replaces the recurring charges (free when `price` is absent)."""

    kind: Literal["trial"]
    duration: Period
    price: PricePoints | None = None


class FixedFee(Spec):
    kind: Literal["fixed"]
    amount: PricePoints


class RemainingMonths(Spec):
    """Remaining whole months of the term × the monthly recurring price."""

    kind: Literal["remaining_months"]


class PercentOfRemaining(Spec):
    """A percentage of what the remaining months would have cost."""

    kind: Literal["percent_of_remaining"]
    percent: Annotated[NonNegative, Field(le=100)]


EarlyTermination = Annotated[FixedFee | RemainingMonths | PercentOfRemaining, Field(discriminator="kind")]


class FixedTermPhase(Spec):
    """A commitment for `duration`; leaving early costs the early termination fee."""

    kind: Literal["fixed_term"]
    duration: Period
    early_termination: EarlyTermination | None = None


class EvergreenPhase(Spec):
    kind: Literal["evergreen"]


Phase = Annotated[TrialPhase | FixedTermPhase | EvergreenPhase, Field(discriminator="kind")]


def phase_issues(phases: list[Phase]) -> list[Issue]:
    """Phases run in order: an optional trial first, then fixed terms, and evergreen last."""
    issues: list[Issue] = []
    for i, phase in enumerate(phases):
        last = i == len(phases) - 1
        if isinstance(phase, EvergreenPhase) and not last:
            issues.append((("phases", i, "kind"), "evergreen must be the last phase"))
        if isinstance(phase, TrialPhase) and i != 0:
            issues.append((("phases", i, "kind"), "a trial can only be the first phase"))
    if phases and not isinstance(phases[-1], EvergreenPhase):
        issues.append((("phases", len(phases) - 1), "the last phase must be `kind: evergreen`"))
    return issues
