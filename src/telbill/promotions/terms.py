"""From stored promotions to the billing discount values, and back: pure, over plain attributes.

A coupon is sold in several currencies (one amount per currency); the terms an account gets are
those in its own currency, fixed when it redeems. Discount ids tell the bill run's records apart:
`redemption-<id>`, `account-discount-<id>`, `bundle-<subscription id>`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from telbill.billing.discounts import (
    Coupon,
    DiscountKind,
    DiscountSource,
    DiscountTerms,
    Duration,
    Eligibility,
    Scope,
    Stacking,
)
from telbill.core.errors import ValidationFailed

PREFIX = {
    DiscountSource.COUPON: "redemption-",
    DiscountSource.ACCOUNT: "account-discount-",
    DiscountSource.BUNDLE: "bundle-",
}


class StoredCoupon(Protocol):
    code: str
    name: str
    kind: str
    percent: Decimal | None
    amounts: dict[str, str]
    duration: str
    cycles: int | None
    scope: str
    targets: list[str]
    new_customers_only: bool
    segments: list[str] | None
    countries: list[str] | None
    max_redemptions: int | None
    max_per_account: int | None
    stacking: str
    priority: int


def plain(value: Decimal) -> Decimal:
    """Without the trailing zeros PostgreSQL's NUMERIC(24, 6) adds: 20.000000 → 20, 12.500000 → 12.5."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def offered_in(stored: StoredCoupon, currency_code: str) -> bool:
    """Whether an account in that currency can use the coupon (percentages: any currency)."""
    return stored.kind == DiscountKind.PERCENTAGE or currency_code in stored.amounts


def coupon_terms(stored: StoredCoupon, currency_code: str) -> DiscountTerms:
    """The coupon's terms for an account billed in `currency_code`."""
    kind = DiscountKind(stored.kind)
    if kind is DiscountKind.AMOUNT and currency_code not in stored.amounts:
        raise ValidationFailed(f"coupon {stored.code} has no amount in {currency_code}")
    value = stored.percent if kind is DiscountKind.PERCENTAGE else Decimal(stored.amounts[currency_code])
    return DiscountTerms(
        kind=kind,
        value=plain(value) if value is not None else Decimal(0),
        currency=currency_code if kind is DiscountKind.AMOUNT else None,
        duration=Duration(stored.duration),
        cycles=stored.cycles,
        scope=Scope(stored.scope),
        targets=frozenset(stored.targets),
        stacking=Stacking(stored.stacking),
        priority=stored.priority,
    )


def billing_coupon(
    stored: StoredCoupon, terms: DiscountTerms, valid_from: datetime | None, valid_until: datetime | None
) -> Coupon:
    """The billing `Coupon` (what `check_redemption` reads)."""
    return Coupon(
        code=stored.code,
        description=stored.name,
        terms=terms,
        eligibility=Eligibility(
            new_customers_only=stored.new_customers_only,
            segments=None if stored.segments is None else frozenset(stored.segments),
            countries=None if stored.countries is None else frozenset(stored.countries),
        ),
        valid_from=valid_from,
        valid_until=valid_until,
        max_redemptions=stored.max_redemptions,
        max_per_account=stored.max_per_account,
    )


def used_up(terms: DiscountTerms, cycles_applied: int) -> bool:
    """Whether a redemption has had all its cycles (forever never ends)."""
    if terms.duration is Duration.ONCE:
        return cycles_applied >= 1
    if terms.duration is Duration.CYCLES:
        return cycles_applied >= (terms.cycles or 0)
    return False


def discount_id(source: DiscountSource, row_id: int) -> str:
    return f"{PREFIX[source]}{row_id}"


def row_id_of(source: DiscountSource, discount_id: str) -> int | None:
    """The stored id behind a discount id of that source (None when it is not one of ours)."""
    prefix = PREFIX[source]
    tail = discount_id.removeprefix(prefix)
    return int(tail) if discount_id.startswith(prefix) and tail.isdigit() else None
