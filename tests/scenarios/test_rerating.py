"""Story: usage rated, invoiced, the tariff corrected, re-rated, and the difference billed once
on the next invoice."""

from __future__ import annotations

from decimal import Decimal

from telbill.billing import bill_run
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.invoicing.model import InvoiceLineRow
from telbill.rating import rate_pending, rerate_usage
from tests.rating.world import CATALOG, add_usage
from tests.scenarios.world import World, utc

UK = "447700900123"


def _lines(w: World, acc: int) -> list[list[tuple[str, str, Decimal]]]:
    """(kind of line by its key, description, net) of each invoice of the account, in order."""
    out = []
    for inv in w.invoices(acc):
        rows = w.session.query(InvoiceLineRow).filter_by(invoice_id=inv.id).order_by(InvoiceLineRow.position)
        out.append([(r.source_ref.split("|")[0], r.description, r.net_amount.normalize()) for r in rows])
    return out


def test_tariff_correction_is_billed_once_as_an_adjustment(session):
    """Plan A (10.00 a month in advance, UK calls at 0.60/min in whole minutes, 2 free
    international minutes a month), subscribed 1 March 2026, bill cycle day 1.

    March: 150 s to the UK → 3 minutes, 2 free, 1 paid = 0.60; then 30 s → 1 minute, bucket
    empty = 0.60. The 1 April invoice carries 1.20 of UK calls for March.
    The UK rate is corrected to 0.50 from 1 January (a new rating section). Re-rating March:
    2 × 0.50 = 1.00 instead of 1.20 → one adjustment of −0.20 on the 1 May invoice.
    Re-rating again and billing 1 June add nothing more."""
    w = World(session, CATALOG, utc(2026, 3, 1))
    acc = w.account(bill_cycle_day=1, currency="EUR")
    sub = w.order(acc, "plan-a", at=utc(2026, 3, 1))
    add_usage(session, sub, utc(2026, 3, 2, 9), to=UK, seconds=150)
    add_usage(session, sub, utc(2026, 3, 2, 10), to=UK, seconds=30)
    assert rate_pending(session, w.clock).rated == 2

    w.advance(utc(2026, 4, 1))
    april = _lines(w, acc)[-1]
    usage = [(d, a) for k, d, a in april if k == "us"]
    assert [a for _, a in usage] == [Decimal("1.2")], april

    load_catalog(session, w.clock, parse_catalog_text(CATALOG.replace('price: "0.60"', 'price: "0.50"')))
    first = rerate_usage(session, w.clock, utc(2026, 3, 1), utc(2026, 4, 1))
    assert (first.invoiced, first.adjustments) == (2, 1)

    w.advance(utc(2026, 5, 1))
    may = _lines(w, acc)[-1]
    assert [a for k, _, a in may if k == "ad"] == [Decimal("-0.2")], may
    assert not [a for k, _, a in may if k == "us"]

    second = rerate_usage(session, w.clock, utc(2026, 3, 1), utc(2026, 4, 1))
    assert (second.replaced, second.adjustments) == (0, 0)
    bill_run(session, w.clock, utc(2026, 5, 1))
    w.advance(utc(2026, 6, 1))
    invoices = _lines(w, acc)
    assert len(invoices) == 4
    assert [[(k, a) for k, _, a in inv] for inv in invoices] == [
        [("rc", Decimal(10))],
        [("rc", Decimal(10)), ("us", Decimal("1.2"))],
        [("rc", Decimal(10)), ("ad", Decimal("-0.2"))],
        [("rc", Decimal(10))],
    ]
