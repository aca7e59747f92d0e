"""Stories: monthly invoices driven by the test clock."""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: stories, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "20.00"}}
  - code: trial
    name: Trial plan
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "30.00"}}
        phases: [{kind: trial, duration: {unit: days, count: 14}}, {kind: evergreen}]
  - code: trial-frozen
    name: Trial plan, no proration on change
    kind: plan
    products: [mobile]
    proration: {basis: actual_days, on_change: none}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "30.00"}}
        phases: [{kind: trial, duration: {unit: days, count: 14}}, {kind: evergreen}]
"""


def test_monthly_invoices_in_advance(session):
    """Subscribed 1 Jan 2027 (UTC account, BCD 1, FR consumer, 20 % VAT): each month 20.00 + 4.00 VAT
    = 24.00, one invoice per month, numbered in order."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc = w.account(bill_cycle_day=1)
    w.order(acc, "basic")
    w.advance(utc(2027, 3, 15))
    assert w.totals(acc) == [
        ("2027-01-01", Decimal("24.00")),
        ("2027-02-01", Decimal("24.00")),
        ("2027-03-01", Decimal("24.00")),
    ]
    numbers = [i.number for i in w.invoices(acc)]
    assert numbers == sorted(numbers) and all(numbers)


def test_trial_end_is_billed_under_no_proration_on_change(session):
    """`on_change: none` freezes a period's terms against the customer's changes (plan, quantity,
    cancellation); a trial ending is no such change, so it is billed like a suspension ending: the
    paid part from the trial's end, prorated. Same story as below: trial 10 → 24 Feb 2027 free;
    1 Mar: 5/28 × 30.00 = 5.36 for 24 Feb → 1 Mar plus March 30.00: 35.36 + 7.07 = 42.43 — not
    February priced as trial throughout (36.00)."""
    w = World(session, CATALOG, utc(2027, 2, 10))
    acc = w.account(bill_cycle_day=1, cycle_anchor="2027-02-01")
    w.order(acc, "trial-frozen")
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-03-01", Decimal("42.43"))]
    (inv,) = w.invoices(acc)
    assert sorted(a for _, a in w.lines(inv)) == [Decimal("5.36"), Decimal("30")]


def test_trial_then_paid_phase(session):
    """Trial 10 → 24 Feb 2027 free; first invoice 1 Mar: 5/28 × 30.00 = 5.357… → 5.36 for 24 Feb →
    1 Mar, plus March 30.00 in advance: 35.36 + 20 % VAT 7.07 = 42.43."""
    w = World(session, CATALOG, utc(2027, 2, 10))
    acc = w.account(bill_cycle_day=1, cycle_anchor="2027-02-01")
    w.order(acc, "trial")
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-03-01", Decimal("42.43"))]
    (inv,) = w.invoices(acc)
    assert sorted(a for _, a in w.lines(inv)) == [Decimal("5.36"), Decimal("30")]
