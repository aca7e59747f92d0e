"""Stories on the calendar: 31st-day anchors through February, annual plans, timezones at the
period edge, a price update after its notice period."""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: calendar, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    price_update: {policy: notice, notice_days: 30}
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
      - effective_from: 2027-02-01
        charges: [{type: recurring, code: fee, price: {EUR: "25.00"}}]
  - code: legacy
    name: Legacy
    kind: plan
    products: [mobile]
    price_update: {policy: grandfathered}
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
      - effective_from: 2027-02-01
        charges: [{type: recurring, code: fee, price: {EUR: "25.00"}}]
  - code: yearly
    name: Yearly
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, period: {unit: years, count: 1}, price: {EUR: "240.00"}}]
"""


def test_bcd_31_through_february_in_a_leap_year(session):
    """BCD 31 from 31 Jan 2028: periods start 31 Jan, 29 Feb, 31 Mar, 30 Apr — each a full period
    at version 2 (in effect when subscribed): 25.00 + 5.00 VAT."""
    w = World(session, CATALOG, utc(2028, 1, 31))
    acc = w.account(bill_cycle_day=31, cycle_anchor="2028-01-01")
    w.order(acc, "legacy")
    w.advance(utc(2028, 5, 1))
    starts = [d for d, _ in w.totals(acc)]
    assert starts == ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]
    assert {t for _, t in w.totals(acc)} == {Decimal("30.00")}


def test_bcd_31_through_february_in_a_common_year(session):
    """The same in 2027: 31 Jan, 28 Feb, then back to 31 Mar."""
    w = World(session, CATALOG, utc(2027, 1, 31))
    acc = w.account(bill_cycle_day=31, cycle_anchor="2027-01-01")
    w.order(acc, "legacy")
    w.advance(utc(2027, 4, 1))
    assert [d for d, _ in w.totals(acc)] == ["2027-01-31", "2027-02-28", "2027-03-31"]


def test_annual_plan_with_a_leading_period(session):
    """Annual cycle (BCD 1, January), 240.00 a year, subscribed 1 Mar 2027. On 1 Jan 2028: leading
    1 Mar → 1 Jan = 306/365 × 240.00 = 201.205… → 201.21, plus 2028 in advance 240.00 = 441.21,
    VAT 88.242 → 88.24, total 529.45."""
    w = World(session, CATALOG, utc(2027, 3, 1))
    acc = w.account(bill_cycle_day=1, cycle="annual", cycle_anchor="2027-01-01")
    w.order(acc, "yearly")
    w.advance(utc(2028, 1, 2))
    assert w.totals(acc) == [("2028-01-01", Decimal("529.45"))]


def test_timezone_at_the_period_edge(session):
    """BCD 1 in Paris and New York: March starts 28 Feb 23:00 UTC in Paris, 1 Mar 05:00 UTC in New
    York. At 1 Mar 04:59 UTC only Paris has its March invoice; at 05:00 both do."""
    w = World(session, CATALOG, utc(2027, 2, 1, 12))
    paris = w.account(bill_cycle_day=1, timezone="Europe/Paris", cycle_anchor="2027-02-01")
    ny = w.account(bill_cycle_day=1, timezone="America/New_York", cycle_anchor="2027-02-01")
    for acc in (paris, ny):
        w.order(acc, "legacy", at=utc(2027, 2, 1, 12))
    w.advance(utc(2027, 3, 1, 4, 59))
    assert [d for d, _ in w.totals(paris)] == ["2027-03-01"]
    assert w.totals(ny) == []
    w.advance(utc(2027, 3, 1, 5, 0))
    assert [d for d, _ in w.totals(ny)] == ["2027-03-01"]


def test_price_update_after_notice_and_grandfathered(session):
    """Version 2 (25.00) is effective 1 Feb 2027 with 30 days' notice: it reaches existing
    subscriptions at the first cycle on or after 3 Mar, i.e. 1 Apr (the invoice shows the new price).
    A grandfathered offer keeps 20.00."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    acc, old = w.account(bill_cycle_day=1), w.account(bill_cycle_day=1)
    w.order(acc, "basic")
    w.order(old, "legacy")
    w.advance(utc(2027, 4, 2))
    assert [t for _, t in w.totals(acc)] == [Decimal("24.00")] * 3 + [Decimal("30.00")]
    assert [t for _, t in w.totals(old)] == [Decimal("24.00")] * 4
    april = w.invoices(acc)[-1]
    assert any("v2" in d and a == Decimal("25") for d, a in w.lines(april))
