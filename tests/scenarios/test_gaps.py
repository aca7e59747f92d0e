"""Stories: instalments that end after N periods, a consolidated child's coupon, the family data
pool across a consolidated hierarchy, and a change backdated beyond three periods."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telbill.accounts import BillingAccountCreate, create_billing_account, get_account, parse_spec
from telbill.billing.loading import BatchSources
from telbill.billing.preview import preview_invoice
from telbill.billing.usage import InMemoryUsage, UsageAggregate
from telbill.promotions import CouponCreate, create_coupon, parse, redeem
from telbill.subscriptions import resume, suspend
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: gaps, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: phone, name: Phone, kind: device}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
  - code: phone
    name: Phone
    kind: plan
    products: [phone]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: instalment, price: {EUR: "10.00"}, max_periods: 3}]
  - code: family
    name: Family
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "10.00"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing: {model: per_unit, unit_price: {EUR: "0.01"}}
        allowances:
          - {code: pool, usage_type: data, quantity: 1000, unit: MB, shared: family}
"""


def _child(w: World, parent: int, **prefs) -> int:
    customer_id = get_account(w.session, parent).customer_id
    spec = parse_spec(BillingAccountCreate, customer_id=customer_id, parent_id=parent, **prefs)
    return create_billing_account(w.session, w.clock, spec).id


def test_instalments_stop_after_max_periods(session):
    """A phone paid 10.00 a month for 3 periods: January, February and March carry it
    (12.00 with VAT), April only… nothing: the plan has no other charge, so no April invoice."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1)
    w.order(acc, "phone")
    w.advance(utc(2027, 5, 2))
    assert w.totals(acc) == [(f"2027-0{m}-01", Decimal("12.00")) for m in (1, 2, 3)]


def test_coupon_of_a_consolidated_child(session):
    """A parent pays for its child; the child redeemed 25 % off: the child's 20.00 line is
    discounted by 5.00, the parent's is not: 35.00 + 7.00 VAT = 42.00, recorded for the child."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    parent = w.account(bill_cycle_day=1, pays_for_children=True, cycle_anchor="2027-01-01")
    child = _child(w, parent)
    w.order(parent, "basic")
    w.order(child, "basic")
    spec = parse(
        CouponCreate, code="KID", name="Kid offer", kind="percentage", percent="25", duration="forever"
    )
    create_coupon(session, w.clock, spec)
    redeem(session, w.clock, child, "KID")
    w.advance(utc(2027, 1, 2))
    assert w.totals(parent) == [("2027-01-01", Decimal("42.00"))]
    from sqlalchemy import select

    from telbill.promotions.model import DiscountApplicationRow

    owners = session.scalars(select(DiscountApplicationRow.account_id)).all()
    assert owners == [child]


def test_family_pool_spans_the_consolidated_hierarchy(session):
    """Parent, child and grandchild each on Family (1,000 MB pooled): 3,000 MB shared. January use
    2,500 + 400 + 300 = 3,200 MB → 200 MB billed at 0.01 = 2.00, on whichever line exhausts the
    pool (subscription order): the grandchild's."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    parent = w.account(bill_cycle_day=1, pays_for_children=True, cycle_anchor="2027-01-01")
    child = _child(w, parent, pays_for_children=True)
    grandchild = _child(w, child)
    subs = [w.order(a, "family") for a in (parent, child, grandchild)]
    usage = InMemoryUsage(
        UsageAggregate(s.account_id, s.id, "data", "data", utc(2027, 1, 10), Decimal(mb), "MB", events=1)
        for s, mb in zip(subs, (2500, 400, 300), strict=True)
    )
    invoice = preview_invoice(session, grandchild, utc(2027, 2, 1), sources=BatchSources(usage))
    assert invoice is not None
    data = [ln for ln in invoice.content.lines if "data" in ln.description.lower() or ln.unit_code == "4L"]
    assert sum(ln.net_amount for ln in data) == Decimal("2.00")
    assert [ln.net_amount for ln in data if ln.net_amount] == [Decimal("2.00")]
    assert invoice.content.buyer_reference == get_account(session, parent).number


def test_change_backdated_beyond_three_periods_is_repaired(session):
    """Billed 20.00 every month from January; on 2 July a suspension from 15 February to 1 March
    is recorded. February (28 days) owed 14/28 × 20.00 = 10.00: the August invoice (6 periods
    later) credits 10.00: 20.00 − 10.00 = 10.00 + 2.00 VAT = 12.00."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1)
    sub = w.order(acc, "basic")
    w.advance(utc(2027, 7, 2))
    suspend(session, w.clock, sub.id, at=datetime(2027, 2, 15, tzinfo=UTC), backdate_limit_days=400)
    resume(session, w.clock, sub.id, at=datetime(2027, 3, 1, tzinfo=UTC), backdate_limit_days=400)
    w.advance(utc(2027, 8, 2))
    assert w.totals(acc)[-1] == ("2027-08-01", Decimal("12.00"))
    assert ("Credit for unused time — Basic — fee", Decimal("-10.00")) in w.lines(w.invoices(acc)[-1])
