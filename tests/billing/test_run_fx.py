"""A bill run with invoices in another currency than the seller's VAT accounting currency: each
carries its VAT in EUR at the rate of its issue date; without a rate, that account's item fails
with an error naming the pair and the date, the others are billed, and the run bills it once the
rate is recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from telbill import fx
from telbill.billing.model import BillRunItem
from telbill.billing.run import BillRunOptions, bill_run, process_batch, resume_runs
from telbill.billing.writing import StoreWriter
from telbill.invoicing import invoice_content
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: fx, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00", USD: "25.00"}}]
"""


def _world(session):  # type: ignore[no-untyped-def]
    w = World(session, CATALOG, utc(2027, 1, 1))
    eur = w.account(bill_cycle_day=1)
    usd = w.account(bill_cycle_day=1, currency="USD")
    for acc in (eur, usd):
        w.order(acc, "basic")
    return w, eur, usd


@pytest.mark.parametrize("writer", [None, StoreWriter()], ids=["bulk", "store"])
def test_missing_rate_fails_that_account_then_it_is_billed_once_recorded(session, writer):
    w, eur, usd = _world(session)
    options = BillRunOptions()
    at = utc(2027, 2, 1)
    w.clock.advance_to(at)
    from telbill.billing.run import plan_run

    run_id, _ = plan_run(session, w.clock, at)
    result = process_batch(session, w.clock, [run_id], options, writer=writer)
    assert (result.invoices, result.failed) == (1, 1)
    assert result.errors == [
        f"account {usd}: no exchange rate in force for USD/EUR on 2027-02-01: record one dated on or "
        "before that day (telbill fx import FILE)"
    ]
    item = session.scalars(select(BillRunItem).where(BillRunItem.account_id == usd)).one()
    assert item.state == "failed" and "USD/EUR on 2027-02-01" in (item.error or "")
    assert w.invoices(usd) == [] and len(w.invoices(eur)) == 1
    assert invoice_content(session, w.invoices(eur)[0].id).accounting_vat is None

    fx.record_rates(session, w.clock, [fx.checked_rate("EUR", "USD", "1.0830", date(2027, 1, 29), "ECB")])
    assert resume_runs(session) == [run_id]
    again = process_batch(session, w.clock, [run_id], options, writer=writer)
    assert (again.invoices, again.failed) == (1, 0)
    (invoice,) = w.invoices(usd)
    content = invoice_content(session, invoice.id)
    # January and February at 25.00 USD, 20 %: 10.00 USD of VAT; 10.00 / 1.0830 = 9.2336… → 9.23 EUR
    assert (content.totals.line_total, content.totals.tax_total) == (Decimal("50.00"), Decimal("10.00"))
    vat = content.accounting_vat
    assert vat is not None
    assert (vat.currency, vat.tax_total, vat.rate, vat.rate_date) == (
        "EUR",
        Decimal("9.23"),
        Decimal("1.0830"),
        date(2027, 1, 29),
    )


def test_a_run_in_the_accounting_currency_looks_no_rate_up(session, monkeypatch):
    w = World(session, CATALOG, utc(2027, 1, 1))
    w.order(w.account(bill_cycle_day=1), "basic")

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("no look-up expected")

    monkeypatch.setattr(fx, "rates_in_force", never)
    assert bill_run(session, w.clock, utc(2027, 2, 1)).invoices == 1
