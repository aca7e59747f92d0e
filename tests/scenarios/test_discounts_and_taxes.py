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


TWO_OFFERS = """\
catalog: {name: promos, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: fibre, name: Fibre, kind: fixed_broadband}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
  - code: home
    name: Home
    kind: plan
    products: [fibre]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "30.00"}}]
"""


def test_a_line_of_a_bill_run_invoice_with_a_product_coupon_is_credited_net_of_its_discount(session):
    """Basic 20.00 with 25 % off Basic only, Home 30.00: 45.00 + 9.00 = 54.00. The bill run
    records the coupon's 5.00 on the Basic line, so crediting Home gives back 30.00 + 6.00 and
    Basic 15.00 + 3.00: the whole invoice, nothing refused."""
    from telbill.invoicing import CreditSpec, LineCredit, invoice_content, issue_credit_note

    w = World(session, TWO_OFFERS, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1)
    w.order(acc, "basic")
    w.order(acc, "home")
    spec = parse(CouponCreate, code="B25", name="Basic -25%", kind="percentage", percent="25",
                 duration="forever", scope="product", targets=["basic"])  # fmt: skip
    create_coupon(session, w.clock, spec)
    redeem(session, w.clock, acc, "B25")
    w.advance(utc(2027, 1, 2))
    (inv,) = w.invoices(acc)
    assert inv.grand_total == Decimal("54.00")
    by_amount = {ln.net_amount: ln.line_id for ln in invoice_content(session, inv.id).lines}
    totals = []
    for amount in (Decimal("30.00"), Decimal("20.00")):
        spec_ = CreditSpec(lines=(LineCredit(by_amount[amount]),))
        totals.append(issue_credit_note(session, w.clock, inv.id, spec_, reason="test").grand_total)
    assert totals == [Decimal("36.00"), Decimal("18.00")] and inv.state == "void"
