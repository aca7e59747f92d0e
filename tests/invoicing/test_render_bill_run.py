"""Documents of real bill-run invoices: their Factur-X XML passes the EN 16931 XSD and schematron
(due payable amount, UN/ECE rec 20 unit codes, VAT breakdown, reverse charge, credit note), and
`render_and_store` stores one PDF/A-3 per issued document that had none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telbill.billing.loading import BatchSources
from telbill.billing.run import BillRunOptions, bill_run
from telbill.billing.usage import InMemoryUsage, UsageAggregate
from telbill.core.settings import Seller
from telbill.invoicing import facturx_xml, get_document, invoice_content, validate_facturx
from telbill.invoicing.render import missing_documents, render_and_store
from telbill.subscriptions import cancel
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: docs, timezone: UTC}
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
  - code: data
    name: Data
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
          - {code: data, usage_type: data, quantity: 1, unit: GB}
"""
SELLER = Seller()  # the demo operator: a French company with a SIREN and VAT number


def _world(session):
    w = World(session, CATALOG, utc(2027, 1, 1))
    person = w.account(bill_cycle_day=1)
    company = w.account(bill_cycle_day=1, country="DE", kind="company", vat="DE136695976", name="Muster GmbH")
    leaving = w.account(bill_cycle_day=1)
    data_sub = w.order(person, "data")
    w.order(company, "basic")
    gone = w.order(leaving, "basic")
    usage = InMemoryUsage(
        [UsageAggregate(person, data_sub.id, "data", "data", utc(2027, 1, 9), Decimal(1500), "MB", events=3)]
    )
    options, sources = BillRunOptions(seller=SELLER), BatchSources(usage)
    for month in (1, 2):
        w.clock.advance_to(utc(2027, month, 1))
        bill_run(session, w.clock, utc(2027, month, 1), options, sources)
    w.clock.advance_to(utc(2027, 2, 10))
    cancel(session, w.clock, gone.id, when="now")
    w.clock.advance_to(utc(2027, 3, 1))
    bill_run(session, w.clock, utc(2027, 3, 1), options, sources)
    return w, person, company, leaving


def _contents(w, account):
    return [invoice_content(w.session, i.id) for i in w.invoices(account) if i.state != "draft"]


def test_facturx_of_bill_run_documents_is_valid(session):
    w, person, company, leaving = _world(session)
    usage_invoice = next(c for c in _contents(w, person) if any(ln.unit_code == "4L" for ln in c.lines))
    reverse = _contents(w, company)[0]
    credit = next(c for c in _contents(w, leaving) if c.document_type.value == "381")
    assert {s.category.value for s in reverse.tax_subtotals} == {"AE"}
    for content in (usage_invoice, reverse, credit):
        assert content.totals.due_payable == content.totals.grand_total - content.totals.prepaid
        report = validate_facturx(facturx_xml(content))
        assert report.errors == (), (content.number, report.errors)


@pytest.mark.slow
def test_render_and_store_the_missing_documents(session):
    w, person, *_ = _world(session)
    ids = [i.id for i in w.invoices(person)][:2]
    assert missing_documents(session, ids) == ids
    result = render_and_store(session, ids, workers=1)
    assert (result.rendered, result.failed) == (2, [])
    assert all(get_document(session, i, "pdf").data.startswith(b"%PDF") for i in ids)
    assert missing_documents(session, ids) == []
