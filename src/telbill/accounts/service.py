"""Use cases of the accounts context. They take a session and a clock, append outbox events, never commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from telbill.accounts import repository, rules
from telbill.accounts.hierarchy import consolidation_problems, placement_problems
from telbill.accounts.model import BillingAccount, Contact, Customer
from telbill.accounts.schemas import BillingAccountCreate, ContactCreate, CustomerCreate, TaxExemption
from telbill.accounts.tree import ancestors, get_account
from telbill.billing.periods import parse_length
from telbill.core.clock import Clock, zone
from telbill.core.errors import NotFound, ValidationFailed
from telbill.events import append_event

HasSubscriptions = Callable[[Session, int], bool]
# Whether the bill run has billed an account already (its go-live date is then fixed).
HasBeenBilled = Callable[[Session, int], bool]
# Fields a child invoiced by its parent takes from the parent unless the spec sets them.
INHERITED = ("currency", "timezone", "bill_cycle_day", "cycle", "cycle_anchor", "billing_start")


def format_number(series: str, value: int) -> str:
    return f"{'CUS' if series == 'customer' else 'ACC'}-{value:06d}"


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = repository.get_customer(session, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def get_customer_by_number(session: Session, number: str) -> Customer:
    customer = repository.customer_by_number(session, number.strip().upper())
    if customer is None:
        raise NotFound(f"customer {number} does not exist")
    return customer


def get_account_by_number(session: Session, number: str) -> BillingAccount:
    account = repository.account_by_number(session, number.strip().upper())
    if account is None:
        raise NotFound(f"billing account {number} does not exist")
    return account


def customer_row(spec: CustomerCreate) -> dict[str, Any]:
    """Column values of a new customer (without number and created_at)."""
    address = spec.address
    return {
        "kind": spec.kind,
        "name": spec.name,
        "legal_name": spec.legal_name,
        "given_name": spec.given_name,
        "family_name": spec.family_name,
        "registration_number": spec.registration_number,
        "vat_number": spec.vat_number,
        "country": spec.country,
        "segment": spec.segment,
        "address_line1": address.line1 if address else None,
        "address_line2": address.line2 if address else None,
        "postcode": address.postcode if address else None,
        "city": address.city if address else None,
        "region": address.region if address else None,
    }


def customer_event(customer_id: int, row: dict[str, Any]) -> dict[str, Any]:
    keys = ("number", "kind", "name", "country", "segment", "vat_number")
    return {"customer_id": customer_id, **{k: row[k] for k in keys}}


def create_customer(session: Session, clock: Clock, spec: CustomerCreate) -> Customer:
    row = customer_row(spec)
    row["number"] = format_number("customer", repository.allocate_numbers(session, "customer", 1))
    customer = repository.add(session, Customer(**row, created_at=clock.now()))
    append_event(
        session,
        clock,
        event_type="Customer.created",
        aggregate_type="customer",
        aggregate_id=customer.id,
        payload=customer_event(customer.id, row),
    )
    return customer


def exemption_columns(exemption: TaxExemption | None) -> dict[str, Any]:
    """The tax exemption columns; `None` (or exempt=False) clears them."""
    if exemption is None or not exemption.exempt:
        return {
            "tax_exempt": False,
            "tax_exemption_reason": None,
            "tax_exemption_certificate": None,
            "tax_exempt_until": None,
        }
    return {
        "tax_exempt": True,
        "tax_exemption_reason": exemption.reason,
        "tax_exemption_certificate": exemption.certificate_id,
        "tax_exempt_until": exemption.valid_until,
    }


def account_row(spec: BillingAccountCreate, customer_name: str, now: datetime) -> dict[str, Any]:
    """Column values of a new billing account from its spec (parent rules are checked elsewhere)."""
    unit, count = parse_length(spec.cycle)
    anchor = spec.cycle_anchor or now.astimezone(zone(spec.timezone)).date()
    communication = rules.default_communication()
    communication.update({k: v.model_dump() for k, v in spec.communication.items()})
    return {
        "customer_id": spec.customer_id,
        "parent_id": spec.parent_id,
        "payment_responsibility": spec.payment_responsibility or "self",
        "pays_for_children": spec.pays_for_children,
        "name": spec.name or customer_name,
        "status": "active",
        "currency": spec.currency,
        "timezone": spec.timezone,
        "language": spec.language,
        "bill_cycle_day": spec.bill_cycle_day,
        "cycle_unit": unit,
        "cycle_count": count,
        "cycle_anchor": anchor,
        "billing_start": spec.billing_start,
        "payment_terms_days": spec.payment_terms_days,
        "invoice_delivery": spec.invoice_delivery,
        "communication": communication,
        **exemption_columns(spec.tax_exemption),
        "credit_limit": spec.credit_limit,
        "created_at": now,
        "updated_at": now,
    }


def account_event(account_id: int, row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "number",
        "customer_id",
        "parent_id",
        "payment_responsibility",
        "currency",
        "timezone",
        "language",
    )
    cycle = {k: row[k] for k in ("bill_cycle_day", "cycle_unit", "cycle_count", "cycle_anchor")}
    extra = {"billing_start": row["billing_start"]} if row.get("billing_start") else {}
    return {"billing_account_id": account_id, **{k: row[k] for k in keys}, **cycle, **extra}


def with_parent_defaults(spec: BillingAccountCreate, parent: BillingAccount | None) -> BillingAccountCreate:
    """Resolve who pays, and let a child paid by its parent inherit the parent's cycle and currency."""
    if parent is None:
        return spec
    responsibility = spec.payment_responsibility or ("parent" if parent.pays_for_children else "self")
    inherited: dict[str, Any] = {"payment_responsibility": responsibility}
    if responsibility == "parent":
        parent_values = {
            "currency": parent.currency,
            "timezone": parent.timezone,
            "bill_cycle_day": parent.bill_cycle_day,
            "cycle": parent.cycle_name,
            "cycle_anchor": parent.cycle_anchor,
            "billing_start": parent.billing_start,
        }
        inherited.update({k: v for k, v in parent_values.items() if k not in spec.model_fields_set})
    return spec.model_copy(update=inherited)


def create_billing_account(session: Session, clock: Clock, spec: BillingAccountCreate) -> BillingAccount:
    if spec.customer_id is None:
        raise ValidationFailed("a billing account needs a customer", details=["customer_id: missing"])
    customer = get_customer(session, spec.customer_id)
    parent = get_account(session, spec.parent_id) if spec.parent_id is not None else None
    spec = with_parent_defaults(spec, parent)
    if parent is None and spec.payment_responsibility == "parent":
        raise ValidationFailed("an account without a parent pays for itself", details=["parent_id: missing"])
    row = account_row(spec, customer.name, clock.now())
    if parent is not None:
        problems = placement_problems(None, [parent, *ancestors(session, parent.id)], set(), 0)
        if row["payment_responsibility"] == "parent":
            problems += consolidation_problems(SimpleNamespace(**row), parent)  # type: ignore[arg-type]
        if problems:
            raise ValidationFailed(f"cannot place the account under {parent.number}", details=problems)
    row["number"] = format_number("account", repository.allocate_numbers(session, "account", 1))
    account = repository.add(session, BillingAccount(**row))
    append_event(
        session,
        clock,
        event_type="BillingAccount.created",
        aggregate_type="billing_account",
        aggregate_id=account.id,
        payload=account_event(account.id, row),
    )
    return account


def list_accounts(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    currency: str | None = None,
    parent_id: int | None = None,
    roots_only: bool = False,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[BillingAccount]:
    return repository.list_accounts(
        session,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        status=status,
        currency=currency,
        parent_id=parent_id,
        roots_only=roots_only,
        search=search,
    )


def count_accounts(session: Session, **filters: Any) -> int:
    return repository.count_accounts(session, **filters)


def add_contact(session: Session, clock: Clock, spec: ContactCreate) -> Contact:
    """A contact of a customer, or of one of its billing accounts; its phone is stored as E.164."""
    account = get_account(session, spec.billing_account_id) if spec.billing_account_id is not None else None
    customer_id = spec.customer_id if spec.customer_id is not None else account.customer_id  # type: ignore[union-attr]
    customer = get_customer(session, customer_id)
    if account is not None and account.customer_id != customer.id:
        raise ValidationFailed(
            f"billing account {account.number} does not belong to customer {customer.number}"
        )
    address = spec.address
    phone = None
    if spec.phone:
        region = address.country if address else customer.country
        try:
            phone = rules.phone_number(spec.phone, region)
        except ValueError as exc:
            raise ValidationFailed("invalid contact", details=[f"phone: {exc}"]) from None
    contact = Contact(
        customer_id=customer.id,
        billing_account_id=account.id if account else None,
        roles=list(spec.roles),
        name=spec.name,
        email=spec.email,
        phone=phone,
        address_line1=address.line1 if address else None,
        address_line2=address.line2 if address else None,
        postcode=address.postcode if address else None,
        city=address.city if address else None,
        region=address.region if address else None,
        country=address.country if address else None,
        language=spec.language,
        created_at=clock.now(),
    )
    repository.add(session, contact)
    append_event(
        session,
        clock,
        event_type="Contact.added",
        aggregate_type="customer",
        aggregate_id=customer.id,
        payload={
            "contact_id": contact.id,
            "billing_account_id": contact.billing_account_id,
            "roles": contact.roles,
        },
    )
    return contact


def list_contacts(
    session: Session, *, customer_id: int | None = None, billing_account_id: int | None = None
) -> Sequence[Contact]:
    return repository.contacts_of(session, customer_id=customer_id, billing_account_id=billing_account_id)
