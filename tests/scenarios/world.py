"""A small world for billing stories: a catalog written as text, accounts, orders and a test
clock; advancing the clock runs every job that falls due, bill runs included."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.core.clock import TestClock
from telbill.invoicing.model import Invoice, InvoiceLineRow
from telbill.scheduler import advance
from telbill.subscriptions import OrderCreate, OrderItemCreate, get_subscription, order_items, place_order


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class World:
    def __init__(self, session, catalog_text: str, start: datetime) -> None:
        self.session = session
        self.clock = TestClock(start)
        load_catalog(session, self.clock, parse_catalog_text(catalog_text))

    def account(self, *, country: str = "FR", kind: str = "person", vat: str | None = None, **prefs) -> int:
        customer = create_customer(
            self.session,
            self.clock,
            parse_spec(
                CustomerCreate, kind=kind, name=prefs.pop("name", "Ada"), country=country, vat_number=vat
            ),
        )
        prefs.setdefault("timezone", "UTC")
        prefs.setdefault("language", "en")
        spec = parse_spec(BillingAccountCreate, customer_id=customer.id, **prefs)
        return create_billing_account(self.session, self.clock, spec).id

    def order(self, account: int, offer: str, *, at: datetime | None = None, quantity: int | None = None):
        item = OrderItemCreate(offer_code=offer, requested_at=at, quantity=quantity)
        order = place_order(self.session, self.clock, OrderCreate(account=account, items=[item]))
        assert order.state == "completed", order.failure_reasons
        return get_subscription(self.session, order_items(self.session, order.id)[0].subscription_id)

    def advance(self, to: datetime) -> None:
        advance(self.session, self.clock, to)

    def invoices(self, account: int) -> list[Invoice]:
        stmt = (
            select(Invoice)
            .where(Invoice.payer_account_id == account)
            .order_by(Invoice.period_start, Invoice.id)
        )
        return list(self.session.scalars(stmt))

    def lines(self, invoice: Invoice) -> list[tuple[str, Decimal]]:
        stmt = (
            select(InvoiceLineRow)
            .where(InvoiceLineRow.invoice_id == invoice.id)
            .order_by(InvoiceLineRow.position)
        )
        return [(r.description, r.net_amount.normalize()) for r in self.session.scalars(stmt)]

    def totals(self, account: int) -> list[tuple[str, Decimal]]:
        """(period start, grand total) of each invoice of the account."""
        return [
            (i.period_start.isoformat(), i.grand_total.quantize(Decimal("0.01")))
            for i in self.invoices(account)
        ]
