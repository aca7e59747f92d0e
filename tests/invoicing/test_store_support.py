"""Helpers shared by the invoice store tests (no tests here): an account, lines, a finalised invoice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.core.clock import TestClock
from telbill.core.settings import Seller
from telbill.invoicing import DraftInvoice, InvoiceLine, TaxCategory, create_draft, finalise

SELLER = Seller()
JAN = (date(2026, 1, 1), date(2026, 1, 31))


def new_clock() -> TestClock:
    return TestClock(datetime(2026, 2, 1, 6, 0, tzinfo=UTC))


def new_account(session, clock, *, name="Acme SAS", **fields):  # type: ignore[no-untyped-def]
    customer = create_customer(
        session,
        clock,
        parse_spec(
            CustomerCreate,
            kind="company",
            name=name,
            vat_number="FR40303265045",
            country="FR",
            address={"line1": "3 place du Marché", "postcode": "69002", "city": "Lyon", "country": "FR"},
        ),
    )
    spec = parse_spec(BillingAccountCreate, customer_id=customer.id, **fields)
    return create_billing_account(session, clock, spec)


def ln(
    line_id: str,
    quantity: str,
    unit_price: str,
    *,
    rate: str = "20",
    category: TaxCategory = TaxCategory.STANDARD,
    description: str | None = None,
) -> InvoiceLine:
    net = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return InvoiceLine(
        line_id=line_id,
        description=description or f"Service {line_id}",
        quantity=Decimal(quantity),
        unit_code="C62",
        unit_price=Decimal(unit_price),
        net_amount=net,
        tax_category=category,
        tax_rate=Decimal(rate) if category is TaxCategory.STANDARD else Decimal(0),
        period_start=JAN[0],
        period_end=JAN[1],
        product_code=f"P-{line_id}",
    )


def draft_for(account, lines, *, period=JAN, **fields) -> DraftInvoice:  # type: ignore[no-untyped-def]
    return DraftInvoice(
        account_id=account.id, period_start=period[0], period_end=period[1], lines=tuple(lines), **fields
    )


def issued(session, clock, account, lines, **fields):  # type: ignore[no-untyped-def]
    """A finalised invoice of `account` with `lines`."""
    draft = create_draft(session, clock, draft_for(account, lines, **fields))
    return finalise(session, clock, draft.id, SELLER)
