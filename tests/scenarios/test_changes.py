"""Stories: changes inside a period — upgrade and downgrade (both policies), cancellation with
credit, suspension and resume, quantity change. UTC accounts, BCD 1, French consumers (20 % VAT).
February 2027 has 28 days."""

from __future__ import annotations

from decimal import Decimal

from telbill.subscriptions import cancel, change_plan, change_quantity, resume, suspend
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: changes, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    plan_change: immediate
    cancellation: immediate
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
  - code: premium
    name: Premium
    kind: plan
    products: [mobile]
    plan_change: end_of_period
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "50.00"}}]
  - code: fixed
    name: Fixed terms
    kind: plan
    products: [mobile]
    proration: {basis: actual_days, on_change: none}
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
  - code: lines
    name: Extra lines
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "10.00"}}]
"""


def _start(session, offer, quantity=None):
    w = World(session, CATALOG, utc(2027, 2, 1))
    acc = w.account(bill_cycle_day=1)
    sub = w.order(acc, offer, quantity=quantity)
    w.advance(utc(2027, 2, 15))
    return w, acc, sub


def test_upgrade_immediately_credits_unused_time(session):
    """Basic 20.00 → Premium 50.00 on 15 Feb. March invoice: Basic used 14/28 → 10.00, billed 20.00:
    −10.00; Premium 14/28 × 50.00 = 25.00; March Premium 50.00. 65.00 + 13.00 VAT = 78.00."""
    w, acc, sub = _start(session, "basic")
    change_plan(session, w.clock, sub.id, "premium")
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("24.00")), ("2027-03-01", Decimal("78.00"))]
    assert sorted(a for _, a in w.lines(w.invoices(acc)[1])) == [Decimal("-10"), Decimal("25"), Decimal("50")]


def test_downgrade_at_the_end_of_the_period_prorates_nothing(session):
    """Premium's policy is end_of_period: the downgrade asked on 15 Feb applies on 1 Mar.
    March invoice: Basic 20.00 in advance, nothing else: 24.00."""
    w, acc, sub = _start(session, "premium")
    change_plan(session, w.clock, sub.id, "basic")
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("60.00")), ("2027-03-01", Decimal("24.00"))]


def test_change_without_proration_keeps_the_period_as_billed(session):
    """`on_change: none`: the upgrade on 15 Feb takes effect at once but February stays billed as it
    stood; March: Premium 50.00 → 60.00."""
    w, acc, sub = _start(session, "fixed")
    change_plan(session, w.clock, sub.id, "premium", timing="immediate")
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("24.00")), ("2027-03-01", Decimal("60.00"))]


def test_cancellation_credits_unused_time_as_a_credit_note(session):
    """Cancelled on 20 Feb (immediate): used 19/28 × 20.00 = 13.571… → 13.57, billed 20.00 → −6.43.
    The March document totals −6.43 − 1.29 VAT: a credit note of 7.72, kept as account credit."""
    w, acc, sub = _start(session, "basic")
    w.advance(utc(2027, 2, 20))
    cancel(session, w.clock, sub.id, when="now")
    w.advance(utc(2027, 3, 2))
    _feb, march = w.invoices(acc)
    assert (march.document_type, march.grand_total.quantize(Decimal("0.01"))) == ("381", Decimal("7.72"))
    from telbill.invoicing import account_credit_balance

    assert account_credit_balance(session, acc, "EUR") == Decimal("7.72")


def test_suspension_and_resume(session):
    """Suspended 8 → 22 Feb: February's expected charge is 7/28 + 7/28 of 20.00 = 5.00 + 5.00, billed
    20.00 → −10.00; March 20.00. March invoice 10.00 + 2.00 VAT = 12.00."""
    w = World(session, CATALOG, utc(2027, 2, 1))
    acc = w.account(bill_cycle_day=1)
    sub = w.order(acc, "basic")
    w.advance(utc(2027, 2, 8))
    suspend(session, w.clock, sub.id)
    w.advance(utc(2027, 2, 22))
    resume(session, w.clock, sub.id)
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("24.00")), ("2027-03-01", Decimal("12.00"))]


def test_quantity_change(session):
    """3 lines at 10.00, 5 from 22 Feb: February 3 × 10 × 21/28 = 22.50 and 5 × 10 × 7/28 = 12.50 =
    35.00 against 30.00 billed → +5.00; March 50.00. 55.00 + 11.00 VAT = 66.00."""
    w, acc, sub = _start(session, "lines", quantity=3)
    w.advance(utc(2027, 2, 22))
    change_quantity(session, w.clock, sub.id, 5)
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("36.00")), ("2027-03-01", Decimal("66.00"))]
