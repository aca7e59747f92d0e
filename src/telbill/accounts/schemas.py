"""Specs the API, the CLI and the synthetic operator hand to the accounts services.

Frozen Pydantic models: each field is normalised on the way in (VAT compacted, phone to E.164
later, codes upper-cased) and every problem is reported at once. `parse_spec` turns Pydantic's
error into a ValidationFailed that names each field and why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from telbill.accounts import rules
from telbill.billing.periods import describe_length, parse_length
from telbill.core.errors import TelbillError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _refuse_inexact(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("amounts must be written exactly (a string or Decimal), not as a float")
    return value


class Address(_Spec):
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postcode: str = Field(min_length=1, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    country: str

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return rules.country_code(v)


class CustomerCreate(_Spec):
    kind: Literal["person", "company"]
    name: str = Field(min_length=1, max_length=200)
    legal_name: str | None = Field(default=None, max_length=200)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    registration_number: str | None = None
    vat_number: str | None = None
    country: str
    segment: str | None = None
    address: Address | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return rules.country_code(v)

    @field_validator("vat_number")
    @classmethod
    def _vat(cls, v: str | None) -> str | None:
        return rules.vat_number(v) if v else None

    @field_validator("segment")
    @classmethod
    def _segment(cls, v: str | None) -> str | None:
        return rules.one_of(v, rules.SEGMENTS, "segment") if v else None

    @model_validator(mode="after")
    def _company_identity(self) -> CustomerCreate:
        updates: dict[str, Any] = {}
        if self.registration_number:
            updates["registration_number"] = rules.registration_number(self.registration_number, self.country)
        if self.segment is None:
            updates["segment"] = "consumer" if self.kind == "person" else "smb"
        if self.kind == "company" and not self.legal_name:
            updates["legal_name"] = self.name
        for key, value in updates.items():
            object.__setattr__(self, key, value)
        return self


class CommunicationPreference(_Spec):
    channel: Literal["email", "sms", "post", "none"]
    opt_in: bool


class TaxExemption(_Spec):
    exempt: bool = True
    reason: str | None = Field(default=None, max_length=200)
    certificate_id: str | None = Field(default=None, max_length=100)
    valid_until: date | None = None

    @model_validator(mode="after")
    def _reason_required(self) -> TaxExemption:
        if self.exempt and not self.reason:
            raise ValueError("a tax exemption needs a reason (for example the legal basis)")
        return self


Communication = dict[Literal[rules.MESSAGE_TYPES], CommunicationPreference]  # type: ignore[valid-type]


class _Preferences(_Spec):
    """Validators shared by create and update."""

    @field_validator("currency", check_fields=False)
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        return rules.currency_code(v) if v is not None else None

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        return rules.timezone_name(v) if v is not None else None

    @field_validator("language", check_fields=False)
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        return rules.language(v) if v is not None else None

    @field_validator("credit_limit", mode="before", check_fields=False)
    @classmethod
    def _exact(cls, v: Any) -> Any:
        return _refuse_inexact(v)

    @field_validator("credit_limit", check_fields=False)
    @classmethod
    def _not_negative(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v < 0:
            raise ValueError(f"credit limit must not be negative, got {v}")
        return v


class BillingAccountCreate(_Preferences):
    customer_id: int | None = None  # None only inside bulk creation, where the customer is new
    name: str | None = Field(default=None, max_length=200)
    parent_id: int | None = None
    payment_responsibility: Literal["self", "parent"] | None = None  # None: "parent" if the parent pays
    pays_for_children: bool = False
    currency: str = "EUR"
    timezone: str = "Europe/Paris"
    language: str = "fr"
    bill_cycle_day: int = Field(default=1, ge=1, le=31)
    cycle: str = "monthly"
    cycle_anchor: date | None = None  # None: the local date of creation
    billing_start: date | None = None  # go-live: billed from this local date (None: from the start)
    payment_terms_days: int = Field(default=30, ge=0, le=rules.MAX_PAYMENT_TERMS_DAYS)
    invoice_delivery: Literal["email", "portal", "paper"] = "email"
    communication: Communication = Field(default_factory=dict)
    tax_exemption: TaxExemption | None = None
    credit_limit: Decimal | None = None

    @field_validator("cycle")
    @classmethod
    def _cycle(cls, v: str) -> str:
        return _cycle_name(v)

    @model_validator(mode="after")
    def _credit_in_currency(self) -> BillingAccountCreate:
        if self.credit_limit is not None:
            object.__setattr__(self, "credit_limit", rules.credit_limit(self.credit_limit, self.currency))
        return self


class PreferencesUpdate(_Preferences):
    """Only the fields given are changed; give `None` to clear credit_limit or tax_exemption."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    currency: str | None = None
    timezone: str | None = None
    language: str | None = None
    payment_terms_days: int | None = Field(default=None, ge=0, le=rules.MAX_PAYMENT_TERMS_DAYS)
    invoice_delivery: Literal["email", "portal", "paper"] | None = None
    communication: Communication | None = None
    tax_exemption: TaxExemption | None = None
    credit_limit: Decimal | None = None
    status: Literal["active", "closed"] | None = None
    pays_for_children: bool | None = None
    payment_responsibility: Literal["self", "parent"] | None = None
    billing_start: date | None = None  # give None to bill from the subscriptions' start

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ContactCreate(_Spec):
    customer_id: int | None = None
    billing_account_id: int | None = None
    roles: tuple[Literal["billing", "technical", "legal"], ...] = ("billing",)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    phone: str | None = None  # normalised to E.164 by the service (region from the address)
    address: Address | None = None
    language: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return rules.email_address(v) if v else None

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        return rules.language(v) if v else None

    @model_validator(mode="after")
    def _owner_and_roles(self) -> ContactCreate:
        if self.customer_id is None and self.billing_account_id is None:
            raise ValueError("a contact belongs to a customer or a billing account: give one of them")
        if not self.roles:
            raise ValueError("a contact needs at least one role (billing, technical, legal)")
        object.__setattr__(self, "roles", tuple(sorted(set(self.roles))))
        return self


class NewCustomerAccount(_Spec):
    """One entry of bulk creation: a new customer and its first billing account."""

    customer: CustomerCreate
    account: BillingAccountCreate


def _cycle_name(value: str) -> str:
    try:
        return describe_length(*parse_length(value))
    except TelbillError as exc:
        raise ValueError("; ".join([exc.message, *exc.details])) from None


def parse_spec(model: type[M], **data: Any) -> M:
    """Build a spec, turning Pydantic's error into ValidationFailed with one detail per problem."""
    try:
        return model(**data)
    except ValidationError as exc:
        details = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or model.__name__
            message = err["msg"].removeprefix("Value error, ")
            details.append(f"{where}: {message}")
        raise ValidationFailed(f"invalid {model.__name__}", details=details) from None
