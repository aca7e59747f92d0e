"""The VAT total in the seller's accounting currency (EN 16931 BT-6, BT-111): frozen at
finalisation with the rate in force on the issue date, by the store and by the bulk writer alike
(the same bytes), mirrored by credit notes at the invoice's rate, refused without a rate, and
written in the Factur-X and the PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from lxml import etree

from telbill import fx
from telbill.core.settings import Seller
from telbill.fx import MissingExchangeRate, checked_rate
from telbill.invoicing import (
    AccountingVat,
    CreditSpec,
    LineCredit,
    create_draft,
    credit_notes_of,
    finalise,
    invoice_content,
    issue_credit_note,
)
from telbill.invoicing.bulk import create_and_finalise_many
from telbill.invoicing.documents import facturx_xml, validate_facturx
from telbill.invoicing.documents.view import document_view
from telbill.invoicing.model import Invoice
from telbill.invoicing.service import buyer_party
from tests.invoicing.test_store_support import SELLER, draft_for, ln, new_account, new_clock

D = Decimal
NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
SUMMATION = "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def _rates(session, clock, *rows: tuple[str, str, str, str]) -> None:
    fx.record_rates(
        session, clock, [checked_rate(b, q, r, date.fromisoformat(d), "desk") for d, b, q, r in rows]
    )


def _usd_account(session, clock, **fields):  # type: ignore[no-untyped-def]
    return new_account(session, clock, currency="USD", **fields)


def _usd_invoice(session, clock, account, lines=None, **fields):  # type: ignore[no-untyped-def]
    draft = create_draft(session, clock, draft_for(account, lines or [ln("1", "1", "100")], **fields))
    return finalise(session, clock, draft.id, SELLER)


def _xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_usd_invoice_freezes_its_vat_in_eur_at_the_rate_of_its_issue_date(session):
    clock = new_clock()  # 2026-02-01 06:00 UTC
    _rates(
        session, clock,
        ("2026-01-10", "USD", "EUR", "0.9100"),
        ("2026-01-20", "USD", "EUR", "0.9234"),  # in force on 1 February
        ("2026-02-02", "USD", "EUR", "0.9500"),  # not yet
    )  # fmt: skip
    invoice = _usd_invoice(session, clock, _usd_account(session, clock))
    content = invoice_content(session, invoice.id)
    assert (content.currency, content.totals.tax_total) == ("USD", D("20.00"))
    # 20.00 USD × 0.9234 = 18.468 EUR → 18.47 (half-up, once)
    assert content.accounting_vat == AccountingVat(
        currency="EUR", tax_total=D("18.47"), rate=D("0.9234"), rate_base="USD", rate_quote="EUR",
        rate_date=date(2026, 1, 20), rate_source="desk",
    )  # fmt: skip
    assert '"accounting_vat":{"currency":"EUR","rate":"0.9234"' in invoice.content


def test_the_rate_is_the_one_in_force_on_the_issue_date_in_the_payers_timezone(session):
    clock = new_clock()  # 2026-02-01 06:00 UTC is still 31 January in Los Angeles
    _rates(session, clock, ("2026-01-31", "EUR", "USD", "1.0830"), ("2026-02-01", "EUR", "USD", "1.0900"))
    paris = _usd_invoice(session, clock, _usd_account(session, clock, timezone="Europe/Paris"))
    la = _usd_invoice(session, clock, _usd_account(session, clock, timezone="America/Los_Angeles"))
    assert (paris.issue_date, la.issue_date) == (date(2026, 2, 1), date(2026, 1, 31))
    vat_paris = invoice_content(session, paris.id).accounting_vat
    vat_la = invoice_content(session, la.id).accounting_vat
    assert vat_paris is not None and vat_la is not None
    # the ECB's way round: 1 EUR = 1.0900 USD → 20.00 / 1.09 = 18.3486… → 18.35
    assert (vat_paris.rate, vat_paris.rate_date, vat_paris.tax_total) == (
        D("1.0900"),
        date(2026, 2, 1),
        D("18.35"),
    )
    # 20.00 / 1.083 = 18.4672… → 18.47
    assert (vat_la.rate, vat_la.rate_date, vat_la.tax_total) == (D("1.0830"), date(2026, 1, 31), D("18.47"))


def test_an_invoice_in_the_accounting_currency_has_none_and_needs_no_rate(session):
    clock = new_clock()
    invoice = _usd_invoice(session, clock, new_account(session, clock))  # EUR, no rate recorded
    assert invoice_content(session, invoice.id).accounting_vat is None
    assert '"accounting_vat":null' in invoice.content
    usd_seller = replace(SELLER, accounting_currency="USD")  # a seller accounting in USD
    _rates(session, clock, ("2026-01-01", "EUR", "USD", "1.05"))
    draft = create_draft(session, clock, draft_for(new_account(session, clock), [ln("1", "1", "100")]))
    vat = invoice_content(session, finalise(session, clock, draft.id, usd_seller).id).accounting_vat
    assert vat is not None and (vat.currency, vat.tax_total) == ("USD", D("21.00"))  # 20.00 EUR × 1.05


def test_finalising_without_a_rate_is_refused_naming_the_pair_and_date(session):
    clock = new_clock()
    account = _usd_account(session, clock)
    _rates(session, clock, ("2026-02-02", "USD", "EUR", "0.9234"))  # only after the issue date
    draft = create_draft(session, clock, draft_for(account, [ln("1", "1", "100")]))
    with pytest.raises(MissingExchangeRate) as caught:
        finalise(session, clock, draft.id, SELLER)
    assert str(caught.value).startswith("no exchange rate in force for USD/EUR on 2026-02-01")
    assert caught.value.missing == (("USD", "EUR", date(2026, 2, 1)),)
    assert (draft.state, draft.number) == ("draft", None)  # refused before a number was taken
    _rates(session, clock, ("2026-02-01", "USD", "EUR", "0.9234"))
    assert finalise(session, clock, draft.id, SELLER).state == "finalised"


def test_credit_notes_use_the_invoice_rate_cumulatively(session):
    """50.00 + 50.00 USD at 20 %: VAT 20.00 USD = 18.47 EUR at 0.9234. A new rate (0.9500) is in
    force when the notes are issued; they keep the invoice's. Each line gives back 10.00 USD of
    VAT: round(10 × 0.9234) = 9.23, then round(20 × 0.9234) − 9.23 = 9.24 (two separate
    conversions would give back 18.46 of the 18.47 declared)."""
    clock = new_clock()
    _rates(session, clock, ("2026-01-20", "USD", "EUR", "0.9234"))
    invoice = _usd_invoice(
        session, clock, _usd_account(session, clock), [ln("1", "1", "50"), ln("2", "1", "50")]
    )
    clock.advance(timedelta(days=9))
    _rates(session, clock, ("2026-02-05", "USD", "EUR", "0.9500"))
    first = issue_credit_note(
        session, clock, invoice.id, CreditSpec(lines=(LineCredit("1"),)), reason="Outage"
    )
    second = issue_credit_note(
        session, clock, invoice.id, CreditSpec(lines=(LineCredit("2"),)), reason="Outage"
    )
    notes = [invoice_content(session, n.id) for n in (first, second)]
    assert [n.totals.tax_total for n in notes] == [D("10.00"), D("10.00")]
    vats = [n.accounting_vat for n in notes]
    assert all(v is not None and (v.rate, v.rate_date) == (D("0.9234"), date(2026, 1, 20)) for v in vats)
    assert [v.tax_total for v in vats if v] == [D("9.23"), D("9.24")]
    assert invoice.state == "void" and len(credit_notes_of(session, invoice.id)) == 2
    for note in notes:
        report = validate_facturx(facturx_xml(note))
        assert report.errors == (), report.errors


def test_a_credit_note_of_an_invoice_without_them_has_none(session):
    clock = new_clock()
    invoice = _usd_invoice(session, clock, new_account(session, clock))  # EUR
    note = issue_credit_note(session, clock, invoice.id, reason="Cancelled")
    assert invoice_content(session, note.id).accounting_vat is None


def test_facturx_carries_bt6_and_bt111_and_passes_xsd_and_schematron(session):
    clock = new_clock()
    _rates(session, clock, ("2026-01-20", "USD", "EUR", "0.9234"))
    content = invoice_content(session, _usd_invoice(session, clock, _usd_account(session, clock)).id)
    xml = facturx_xml(content)
    report = validate_facturx(xml)
    assert report.errors == (), report.errors
    settlement = "//ram:ApplicableHeaderTradeSettlement"
    assert _xpath(xml, f"{settlement}/ram:TaxCurrencyCode/text()") == ["EUR"]  # BT-6
    assert _xpath(xml, f"{settlement}/ram:InvoiceCurrencyCode/text()") == ["USD"]  # BT-5
    assert _xpath(xml, f"{SUMMATION}/ram:TaxTotalAmount[@currencyID='USD']/text()") == ["20.00"]  # BT-110
    assert _xpath(xml, f"{SUMMATION}/ram:TaxTotalAmount[@currencyID='EUR']/text()") == ["18.47"]  # BT-111
    notes = _xpath(xml, "//ram:IncludedNote[ram:SubjectCode='TXD']/ram:Content/text()")
    assert notes == ["TVA en EUR : 18,47\u00a0€ (taux 1 USD = 0,9234 EUR du 20 janvier 2026, desk)."]
    # BR-53: BT-6 without BT-111 is an error — the schematron sees it
    tree = etree.fromstring(xml)
    (bt111,) = tree.xpath(f"{SUMMATION}/ram:TaxTotalAmount[@currencyID='EUR']", namespaces=NS)
    bt111.getparent().remove(bt111)
    assert "BR-53" in validate_facturx(etree.tostring(tree)).rules
    # an invoice in EUR has neither
    plain = facturx_xml(replace(content, currency="EUR", accounting_vat=None))
    assert _xpath(plain, f"{settlement}/ram:TaxCurrencyCode") == []
    assert len(_xpath(plain, f"{SUMMATION}/ram:TaxTotalAmount")) == 1


def test_the_pdf_view_shows_the_vat_in_eur_with_rate_and_date(session):
    clock = new_clock()
    _rates(session, clock, ("2026-01-20", "USD", "EUR", "0.9234"))
    account = _usd_account(session, clock, language="en")
    content = invoice_content(session, _usd_invoice(session, clock, account).id)
    view = document_view(content)
    labels = [(t["label"], t["value"]) for t in view["totals"]]
    at = labels.index(("Total VAT", "US$20.00"))
    assert labels[at + 1] == ("Total VAT in EUR", "€18.47")
    assert "VAT in EUR: €18.47 (rate 1 USD = 0.9234 EUR of 20 January 2026, desk)." in view["mentions"]


def test_bulk_writes_the_same_bytes_as_the_store(session):
    """The same draft, finalised by the store and (after rolling that back) by the bulk writer:
    same number, same content, byte for byte, BT-111 included."""
    clock = new_clock()
    _rates(session, clock, ("2026-01-20", "USD", "EUR", "0.9234"))
    account = _usd_account(session, clock)
    draft = draft_for(account, [ln("1", "3", "33.33"), ln("2", "1", "0.07", rate="5.5")])
    savepoint = session.begin_nested()
    stored = finalise(session, clock, create_draft(session, clock, draft).id, SELLER)
    expected, number = stored.content, stored.number
    savepoint.rollback()
    buyers = {account.id: buyer_party(session, account.id)}
    result = create_and_finalise_many(session, clock, [draft], buyers, SELLER)[draft.key]
    session.flush()
    bulk = session.get(Invoice, result.invoice_id)
    assert (bulk.number, bulk.content) == (number, expected)
    vat = invoice_content(session, bulk.id).accounting_vat
    # VAT 99.99 × 20 % = 20.00 (19.998) + 0.07 × 5.5 % = 0.00 (0.00385): 20.00 USD → 18.47 EUR
    assert vat is not None and vat.tax_total == D("18.47")


def test_bulk_without_a_rate_refuses_naming_every_pair(session):
    clock = new_clock()
    usd, gbp = _usd_account(session, clock), new_account(session, clock, currency="GBP")
    drafts = [draft_for(a, [ln("1", "1", "10")]) for a in (usd, gbp)]
    buyers = {a.id: buyer_party(session, a.id) for a in (usd, gbp)}
    with pytest.raises(MissingExchangeRate) as caught:
        create_and_finalise_many(session, clock, drafts, buyers, Seller())
    assert caught.value.missing == (("GBP", "EUR", date(2026, 2, 1)), ("USD", "EUR", date(2026, 2, 1)))


def test_the_rendered_pdf_prints_it_in_french():
    from telbill.invoicing.documents import render_invoice_pdf
    from telbill.invoicing.documents.samples import line, sample_invoice
    from tests.invoicing.test_documents_pdf import text_of

    content = sample_invoice(code="USD", lines=(line("1", "Liaison", "1", "100.00", code="USD"),))
    vat = AccountingVat("EUR", D("18.47"), D("0.9234"), "USD", "EUR", date(2025, 1, 31), "BCE")
    text = text_of(render_invoice_pdf(replace(content, accounting_vat=vat)))
    assert "otal TVA en EUR 18,47 €" in text  # beside "Total TVA 20,00 $US" (the extraction splits "T otal")
    assert "TVA en EUR : 18,47 € (taux 1 USD = 0,9234 EUR du 31 janvier 2025, BCE)." in text


@pytest.mark.parametrize("source", ["ECB", 'a "quoted" \\ "lines":[] source', "é ✓"])
def test_bulk_content_json_with_bt111_is_the_snapshot_bytes(source):
    from telbill.invoicing import bulk, snapshot
    from telbill.invoicing.documents.samples import sample_invoice

    content = sample_invoice(code="USD")
    vat = AccountingVat("EUR", D("18.47"), D("1.0830"), "EUR", "USD", date(2025, 1, 31), source)
    for accounting in (vat, None):
        full = replace(content, accounting_vat=accounting)
        lines = tuple(bulk._canonical(line, "USD") for line in full.lines)
        bare = replace(full, lines=(), seller=None)  # type: ignore[arg-type]
        text = bulk._content_json(
            bare, snapshot.canonical(full.seller), bulk._lines_json(full.lines, "USD", {})
        )
        assert text == snapshot.content_to_json(replace(full, lines=lines))
        assert snapshot.content_from_json(text).accounting_vat == accounting
        assert ('"accounting_vat":null' in text) is (accounting is None)


def test_invoices_show_prints_the_vat_in_the_accounting_currency(fresh_db_url):
    from typer.testing import CliRunner

    from telbill.cli.main import app
    from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
    from telbill.db.models import load_all_models

    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with session_scope(make_sessionmaker(engine)) as session:
        _rates(session, clock, ("2026-01-20", "USD", "EUR", "0.9234"))
        usd = _usd_invoice(session, clock, _usd_account(session, clock)).number
        eur = _usd_invoice(session, clock, new_account(session, clock)).number  # in EUR: none
    engine.dispose()
    show = ["--database-url", fresh_db_url, "invoices", "show"]
    shown = CliRunner().invoke(app, [*show, usd], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())  # the console wraps at its width
    assert "VAT in the accounting currency 18.47 EUR (1 USD = 0.9234 EUR, desk of 2026-01-20)" in text
    plain = CliRunner().invoke(app, [*show, eur], catch_exceptions=False)
    assert plain.exit_code == 0 and "accounting currency" not in plain.output
