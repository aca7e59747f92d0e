"""Specs handed to the promotions services, and the read models they return.

Specs are frozen Pydantic models that normalise on the way in (codes upper-cased for
comparison, countries and currencies checked) and report every problem at once; `parse`
turns Pydantic's error into a `ValidationFailed` naming each field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from telbill.billing.discounts import DiscountKind, DiscountTerms, Duration, Scope, Stacking
from telbill.core.clock import ensure_utc
from telbill.core.errors import TelbillError, ValidationFailed
from telbill.core.money import currency

M = TypeVar("M", bound=BaseModel)
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$")
SEGMENTS = ("consumer", "smb", "enterprise", "wholesale", "public")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def code_key(code: str) -> str:
    """Codes are compared without regard to case: WELCOME3 = welcome3."""
    return code.strip().upper()


def _code(value: str) -> str:
    if not CODE.match(value):
        raise ValueError(
            f"{value!r} is not a valid code: 3 to 40 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def _exact(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("amounts must be written exactly (a string or Decimal), not as a float")
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("give a timezone (e.g. 2026-01-01T00:00:00+01:00)")
    return ensure_utc(value)


class _TermsSpec(_Spec):
    """The terms shared by coupons and account discounts."""

    scope: Scope = Scope.INVOICE
    targets: frozenset[str] = frozenset()
    stacking: Stacking = Stacking.STACKABLE
    priority: int = Field(default=100, ge=0, le=10_000)

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, v: Any) -> Any:
        return frozenset(str(t).strip() for t in v if str(t).strip()) if v is not None else frozenset()


class CouponCreate(_TermsSpec):
    code: str
    name: str = Field(min_length=1, max_length=200)
    kind: DiscountKind
    percent: Decimal | None = None
    amounts: dict[str, Decimal] = Field(default_factory=dict)  # one amount per currency it is sold in
    duration: Duration = Duration.ONCE
    cycles: int | None = None
    new_customers_only: bool = False
    segments: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None  # exclusive
    max_redemptions: int | None = Field(default=None, ge=1)
    max_per_account: int | None = Field(default=1, ge=1)

    @field_validator("code")
    @classmethod
    def _check_code(cls, v: str) -> str:
        return _code(v)

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _check_times(cls, v: datetime | None) -> datetime | None:
        return _aware(v)

    @field_validator("percent", mode="before")
    @classmethod
    def _percent(cls, v: Any) -> Any:
        return _exact(v)

    @field_validator("amounts", mode="before")
    @classmethod
    def _amounts(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        return {str(k).strip().upper(): _exact(a) for k, a in v.items()}

    @field_validator("segments")
    @classmethod
    def _segments(cls, v: frozenset[str] | None) -> frozenset[str] | None:
        if v is None:
            return None
        unknown = sorted(s for s in v if s not in SEGMENTS)
        if unknown:
            raise ValueError(f"unknown segment(s) {unknown}; segments are {', '.join(SEGMENTS)}")
        return v

    @field_validator("countries")
    @classmethod
    def _countries(cls, v: frozenset[str] | None) -> frozenset[str] | None:
        if v is None:
            return None
        codes = frozenset(c.strip().upper() for c in v)
        bad = sorted(c for c in codes if not re.fullmatch(r"[A-Z]{2}", c))
        if bad:
            raise ValueError(f"countries are ISO 3166-1 alpha-2 codes (such as FR), got {bad}")
        return codes

    @model_validator(mode="after")
    def _consistent(self) -> CouponCreate:
        problems = []
        if self.kind is DiscountKind.PERCENTAGE and (self.percent is None or self.amounts):
            problems.append("a percentage coupon gives `percent` and no `amounts`")
        if self.kind is DiscountKind.AMOUNT and (self.percent is not None or not self.amounts):
            problems.append("an amount coupon gives `amounts` (one per currency) and no `percent`")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            problems.append("valid_until must be after valid_from")
        if not problems:
            for code in self.amounts or [None]:
                problems.extend(_terms_problems(lambda c=code: self.terms_in(c)))
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))
        return self

    def terms_in(self, currency_code: str | None) -> DiscountTerms:
        """The discount terms for an account in `currency_code` (amount coupons need that currency)."""
        value = self.percent if self.kind is DiscountKind.PERCENTAGE else self.amounts[currency_code or ""]
        return DiscountTerms(
            kind=self.kind,
            value=value or Decimal(0),
            currency=currency_code if self.kind is DiscountKind.AMOUNT else None,
            duration=self.duration,
            cycles=self.cycles,
            scope=self.scope,
            targets=self.targets,
            stacking=self.stacking,
            priority=self.priority,
        )


class AccountDiscountCreate(_TermsSpec):
    account_id: int
    kind: DiscountKind
    value: Decimal  # a percent, or an amount in the account's currency
    valid_from: datetime
    valid_to: datetime | None = None  # exclusive; None: until ended
    reason: str = Field(min_length=1, max_length=300)
    created_by: str = Field(min_length=1, max_length=100)

    @field_validator("valid_from", "valid_to")
    @classmethod
    def _check_times(cls, v: datetime | None) -> datetime | None:
        return _aware(v)

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: Any) -> Any:
        return _exact(v)

    @model_validator(mode="after")
    def _consistent(self) -> AccountDiscountCreate:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self

    def terms_in(self, currency_code: str) -> DiscountTerms:
        return DiscountTerms(
            kind=self.kind,
            value=self.value,
            currency=currency_code if self.kind is DiscountKind.AMOUNT else None,
            duration=Duration.FOREVER,
            scope=self.scope,
            targets=self.targets,
            stacking=self.stacking,
            priority=self.priority,
        )


class PromoCodeCreate(_Spec):
    coupon_code: str
    code: str
    max_uses: int | None = Field(default=None, ge=1)

    @field_validator("code")
    @classmethod
    def _check_code(cls, v: str) -> str:
        return _code(v)


class Redemption(_Spec):
    """An account's redemption of a coupon, as the services hand it out."""

    id: int
    coupon_code: str
    account_id: int
    promo_code: str | None
    currency: str
    redeemed_at: datetime
    first_cycle: int | None
    cycles_applied: int
    status: Literal["active", "exhausted", "revoked"]
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


def _terms_problems(build: Callable[[], DiscountTerms]) -> list[str]:
    """What DiscountTerms (and the currency's minor unit) say is wrong, as plain messages."""
    try:
        terms = build()
    except TelbillError as exc:
        return exc.details or [exc.message]
    if terms.currency and terms.value != terms.value.quantize(currency(terms.currency).quantum):
        return [f"{terms.value} {terms.currency} has more decimals than the currency's minor unit"]
    return []


def parse(model: type[M], **data: Any) -> M:
    """Build a spec, turning Pydantic's error into ValidationFailed with one detail per problem."""
    try:
        return model(**data)
    except ValidationError as exc:
        details = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or model.__name__
            details.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise ValidationFailed(f"invalid {model.__name__}", details=details) from None
