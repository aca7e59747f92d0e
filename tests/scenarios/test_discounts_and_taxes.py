"""Stories: a coupon for 3 cycles, the last redemption taken, reverse charge, a consolidated
parent invoice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telbill.promotions import CouponCreate, RedemptionLimitReached, create_coupon, parse, redeem
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: promos, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
"""


def _coupon(w: World, code: str, **extra) -> None:
    spec = parse(CouponCreate, code=code, name=f"{code} offer", kind="percentage", percent="25", **extra)
    create_coupon(w.session, w.clock, spec)


def test_coupon_for_three_cycles(session):
    """25 % off for 3 cycles on 20.00: 5.00 off on the first three invoices (15.00 + 3.00 VAT =
    18.00), nothing on the fourth (24.00)."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1)
    w.order(acc, "basic")
    _coupon(w, "THREE", duration="cycles", cycles=3)
    redeem(session, w.clock, acc, "THREE")
    w.advance(utc(2027, 4, 2))
    assert [t for _, t in w.totals(acc)] == [Decimal("18.00")] * 3 + [Decimal("24.00")]


def test_max_redemptions_reached(session):
    """A coupon limited to one redemption: the first account gets 25 % off, the second is refused
    and billed in full."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    first, second = w.account(bill_cycle_day=1), w.account(bill_cycle_day=1)
    for acc in (first, second):
        w.order(acc, "basic")
    _coupon(w, "ONLYONE", duration="forever", max_redemptions=1)
    redeem(session, w.clock, first, "ONLYONE")
    with pytest.raises(RedemptionLimitReached):
        redeem(session, w.clock, second, "ONLYONE")
    w.advance(utc(2027, 1, 2))
    assert w.totals(first) == [("2027-01-01", Decimal("18.00"))]
    assert w.totals(second) == [("2027-01-01", Decimal("24.00"))]


def test_reverse_charge_for_a_company_in_another_member_state(session):
    """A German company with a valid VAT number, billed by a French seller: category AE at 0 %, the
    invoice is 20.00 net with the reverse-charge mention."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1, country="DE", kind="company", vat="DE136695976", name="Muster GmbH")
    w.order(acc, "basic")
    w.advance(utc(2027, 1, 2))
    (inv,) = w.invoices(acc)
    from telbill.invoicing import invoice_content

    content = invoice_content(session, inv.id)
    (subtotal,) = content.tax_subtotals
    assert (subtotal.category.value, subtotal.tax_amount, content.totals.grand_total) == (
        "AE", Decimal("0.00"), Decimal("20.00"),
    )  # fmt: skip
    assert subtotal.exemption_code == "VATEX-EU-AE"


def test_consolidated_parent_invoice(session):
    """A parent paying for its child: one invoice to the parent with both subscriptions (the child's
    line names its account), none to the child: 40.00 + 8.00 VAT = 48.00."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    parent = w.account(bill_cycle_day=1, pays_for_children=True, cycle_anchor="2027-01-01")
    from telbill.accounts import BillingAccountCreate, create_billing_account, get_account, parse_spec

    customer_id = get_account(session, parent).customer_id
    child = create_billing_account(
        session, w.clock, parse_spec(BillingAccountCreate, customer_id=customer_id, parent_id=parent)
    ).id
    w.order(parent, "basic")
    w.order(child, "basic")
    w.advance(utc(2027, 1, 2))
    assert w.totals(parent) == [("2027-01-01", Decimal("48.00"))]
    child_number = get_account(session, child).number
    descriptions = [d for d, _ in w.lines(w.invoices(parent)[0])]
    assert sum(d.startswith(child_number) for d in descriptions) == 1
    from sqlalchemy import select

    from telbill.invoicing.model import Invoice

    assert session.scalars(select(Invoice).where(Invoice.account_id == child)).all() == []
