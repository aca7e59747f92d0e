"""Stories: an operator migrating its customers with their history sets a go-live date.

Offer "Mobile": 31.00 a month in advance, a weekly pass of 7.00 billed per occurrence, activation
10.00; FR consumer (20 % VAT), account in UTC, BCD 1. The customer subscribed on Wednesday
10 June 2026 (in the old system); the account's go-live date is Friday 15 January 2027.

- No bill run happens before the go-live (June 2026 → January 2027 were billed by the old system).
- 1 Feb 2027, the first invoice:
  - January straddles the go-live: [15 Jan, 1 Feb) is 17 of 31 days, 31.00 × 17/31 = **17.00**;
  - February in advance: **31.00**;
  - the pass's occurrences start every Wednesday from 10 June 2026: the one of 13 → 20 Jan
    straddles the go-live, billed 15 → 20 Jan, 7.00 × 5/7 = **5.00**; then 20, 27 Jan, 3, 10,
    17, 24 Feb: 6 × 7.00 = **42.00**;
  - the activation (June 2026) was the old system's: not billed.
  95.00 + 19.00 VAT = **114.00**.
- 1 Mar 2027: 31.00 + five Wednesdays (3, 10, 17, 24, 31 Mar) × 7.00 = 66.00 + 13.20 = **79.20**.

A subscription taken after the go-live is billed as usual, activation included: ordered on
Wednesday 20 Jan 2027, the 1 Feb invoice adds 10.00 + 31.00 × 12/31 = 12.00 + 31.00 + six passes
(20, 27 Jan, 3, 10, 17, 24 Feb) 42.00 = 95.00 more, so 190.00 + 38.00 VAT = **228.00**.
"""

from __future__ import annotations

from decimal import Decimal

from telbill.billing.run import plan_run
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: migration, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: mobile
    name: Mobile
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "31.00"}}
          - {type: recurring, code: pass, name: Pass, period: {unit: weeks, count: 1}, price: {EUR: "7.00"}}
          - {type: one_time, code: sim, kind: activation, price: {EUR: "10.00"}}
"""


def _migrated(session, **prefs):
    w = World(session, CATALOG, utc(2026, 6, 10))
    acc = w.account(bill_cycle_day=1, cycle_anchor="2026-06-01", billing_start="2027-01-15", **prefs)
    w.order(acc, "mobile")
    return w, acc


def test_first_invoice_bills_from_the_go_live_date(session):
    w, acc = _migrated(session)
    w.advance(utc(2027, 1, 31))
    assert w.invoices(acc) == []  # the old system billed everything before the go-live
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("114.00")), ("2027-03-01", Decimal("79.20"))]
    feb = w.invoices(acc)[0]
    amounts = sorted(amount for _, amount in w.lines(feb))
    assert amounts == [Decimal("5"), *[Decimal("7")] * 6, Decimal("17"), Decimal("31")]
    assert not any("sim" in text.lower() for text, _ in w.lines(feb))


def test_a_subscription_after_the_go_live_is_billed_as_usual(session):
    w, acc = _migrated(session)
    w.advance(utc(2027, 1, 20))
    w.order(acc, "mobile")
    w.advance(utc(2027, 2, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("228.00"))]
    assert Decimal("10") in [amount for _, amount in w.lines(w.invoices(acc)[0])]


def test_planning_waits_for_the_first_boundary_after_the_go_live(session):
    """plan_run (SQL per calendar) and the account-by-account path agree: nothing is due on
    1 Jan 2027 (the go-live is 15 Jan), the account is due on 1 Feb."""
    w, acc = _migrated(session)
    parent, child_acc = _consolidated(w)
    w.clock.advance_to(utc(2027, 1, 1))
    _, planned = plan_run(session, w.clock, utc(2027, 1, 1))
    assert planned == 0
    _, planned = plan_run(session, w.clock, utc(2027, 2, 1))
    assert planned == 2  # the simple account (SQL) and the consolidated parent (per account)
    assert {acc, parent} <= _planned_accounts(session)
    assert child_acc not in _planned_accounts(session)


def _consolidated(w: World) -> tuple[int, int]:
    parent = w.account(
        bill_cycle_day=1, cycle_anchor="2026-06-01", billing_start="2027-01-15", pays_for_children=True
    )
    child = w.account(parent_id=parent)
    w.order(child, "mobile")
    return parent, child


def _planned_accounts(session) -> set[int]:
    from sqlalchemy import select

    from telbill.billing.model import BillRunItem

    return set(session.scalars(select(BillRunItem.account_id)))
