"""Stories: a weekly fee on a monthly bill cycle, billed per occurrence.

Account in Europe/Paris, BCD 1, FR consumer (20 % VAT); offer "Weekly" charges 15.00 per week in
advance, proration on actual days. Subscribed Wednesday 13 January 2027 at 00:00 Paris time, so
the fee's occurrences start every Wednesday at local midnight: 13, 20, 27 Jan, 3, 10, 17, 24 Feb,
3, 10, 17, 24, 31 Mar (the clocks go forward on 28 Mar: 31 Mar starts at 22:00 UTC on the 30th,
24 Mar at 23:00 UTC on the 23rd), 7, 14, 21, 28 Apr …

- 1 Feb invoice: the January occurrences (13, 20, 27 Jan — the subscription's first period) and
  the February ones in advance (3, 10, 17, 24 Feb): 7 × 15.00 = 105.00 + 21.00 VAT = 126.00.
- 1 Mar invoice: March has five Wednesdays (3, 10, 17, 24, 31): 75.00 + 15.00 VAT = 90.00
  (February had four).
- 1 Apr invoice: 7, 14, 21, 28 Apr: 60.00 + 12.00 VAT = 72.00.
- Cancelled (immediately) on Friday 2 Apr at 00:00 Paris: the occurrence of 31 Mar → 7 Apr was
  used 2 days of 7: 15.00 × 2/7 = 4.2857… → 4.29, billed 15.00 → −10.71; the four April
  occurrences paid in advance no longer exist → −15.00 each. The 1 May document carries those
  five credits (70.71 before VAT): a credit note.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from telbill.billing.preview import preview_invoice
from telbill.billing.run import bill_run
from telbill.invoicing.model import InvoiceLineRow
from telbill.subscriptions import cancel
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: weekly, timezone: Europe/Paris}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: weekly
    name: Weekly
    kind: plan
    products: [mobile]
    cancellation: immediate
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, period: {unit: weeks, count: 1}, price: {EUR: "15.00"}}
"""

PARIS_MIDNIGHT_13_JAN = utc(2027, 1, 12, 23)


def _lines(w: World, invoice) -> list[tuple[date | None, Decimal]]:
    stmt = (
        select(InvoiceLineRow)
        .where(InvoiceLineRow.invoice_id == invoice.id)
        .order_by(InvoiceLineRow.period_start, InvoiceLineRow.net_amount)
    )
    return [(r.period_start, r.net_amount.normalize()) for r in w.session.scalars(stmt)]


def _start(session):
    w = World(session, CATALOG, PARIS_MIDNIGHT_13_JAN)
    acc = w.account(bill_cycle_day=1, timezone="Europe/Paris", cycle_anchor="2027-01-01")
    sub = w.order(acc, "weekly")
    return w, acc, sub


def test_first_invoices_carry_each_weekly_occurrence(session):
    w, acc, _ = _start(session)
    w.advance(utc(2027, 3, 2))
    assert w.totals(acc) == [("2027-02-01", Decimal("126.00")), ("2027-03-01", Decimal("90.00"))]
    feb, march = w.invoices(acc)
    fifteen = Decimal(15)
    assert _lines(w, feb) == [(date(2027, 1, d), fifteen) for d in (13, 20, 27)] + [
        (date(2027, 2, d), fifteen) for d in (3, 10, 17, 24)
    ]
    assert _lines(w, march) == [(date(2027, 3, d), fifteen) for d in (3, 10, 17, 24, 31)]
    keys = session.scalars(select(InvoiceLineRow.source_ref).where(InvoiceLineRow.invoice_id == march.id))
    assert sorted(keys)[-1].endswith("|occ|2027-03-30T22:00:00+00:00")  # local midnight after DST


def test_rerun_proposes_nothing(session):
    w, acc, _ = _start(session)
    w.advance(utc(2027, 3, 2))
    again = bill_run(session, w.clock, utc(2027, 3, 1))
    assert again.invoices == 0
    preview = preview_invoice(session, acc, utc(2027, 3, 1))
    assert preview is None or not preview.content.lines


def test_cancellation_mid_occurrence_credits_unused_days(session):
    w, acc, sub = _start(session)
    w.advance(utc(2027, 4, 1, 22))  # 2 Apr 00:00 Paris
    cancel(session, w.clock, sub.id, when="now")
    w.advance(utc(2027, 5, 2))
    *_, april, may = w.invoices(acc)
    assert april.grand_total == Decimal("72.00")
    assert may.document_type == "381"  # a credit note: its lines are stated positive
    assert sorted(a for _, a in _lines(w, may)) == [Decimal("10.71")] + [Decimal("15")] * 4
