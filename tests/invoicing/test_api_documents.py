"""Bill documents over HTTP: rendered and stored on first request, then served as stored."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pypdf
from sqlalchemy.orm import Session

from telbill import fx
from telbill.invoicing import get_document
from tests.invoicing.test_api_support import BASE, world  # noqa: F401
from tests.invoicing.test_store_support import issued, ln, new_account


def test_pdf_is_rendered_stored_once_and_carries_its_factur_x(world):  # noqa: F811
    url = f"{BASE}/customerBill/{world.ids['first']}/document"
    with Session(world.engine) as s:
        assert get_document(s, world.ids["first"], "pdf") is None
    r = world.client.get(url, headers=world.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="{world.numbers["first"]}.pdf"'
    assert r.content.startswith(b"%PDF")
    attachments = pypdf.PdfReader(io.BytesIO(r.content)).attachments
    assert list(attachments) == ["factur-x.xml"]
    with Session(world.engine) as s:
        stored = get_document(s, world.ids["first"], "pdf")
        assert stored is not None and stored.data == r.content  # kept: the issued copy never changes
    assert world.client.get(url, headers=world.auth()).content == r.content

    xml = world.client.get(url, params={"format": "facturx-xml"}, headers=world.auth())
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    assert xml.content == attachments["factur-x.xml"][0]
    assert world.numbers["first"].encode() in xml.content and b"1234.56" in xml.content
    assert xml.headers["content-disposition"].endswith('-factur-x.xml"')


def test_credit_note_pdf_and_document_errors(world):  # noqa: F811
    r = world.client.get(f"{BASE}/customerBill/{world.ids['note']}/document", headers=world.auth())
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert world.numbers["note"] in r.headers["content-disposition"]
    missing = world.client.get(f"{BASE}/customerBill/424242/document", headers=world.auth())
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    odd = world.client.get(
        f"{BASE}/customerBill/{world.ids['note']}/document", params={"format": "docx"}, headers=world.auth()
    )
    assert odd.status_code == 422
    assert world.client.get(f"{BASE}/customerBill/{world.ids['note']}/document").status_code == 401


def test_a_dinar_bill_in_millimes_has_a_pdf_but_no_factur_x(world):  # noqa: F811
    """45.255 TND + 20 % VAT (9.051) = 54.306 TND: the PDF keeps the millimes and embeds no e-invoice;
    asking for the Factur-X XML is a 422 naming the amounts EN 16931 cannot write."""
    with Session(world.engine) as s, s.begin():
        account = new_account(s, world.clock, name="Carthage SARL", currency="TND")
        rate = fx.checked_rate("EUR", "TND", "3.3412", world.clock.now().date() - timedelta(days=3), "BCT")
        fx.record_rates(s, world.clock, [rate])  # its VAT in EUR (BT-111) needs the rate in force
        line = replace(ln("1", "1", "45.255"), net_amount=Decimal("45.255"))
        bill = issued(s, world.clock, account, [line])
        assert bill.grand_total == Decimal("54.306")
        bill_id = bill.id
    url = f"{BASE}/customerBill/{bill_id}/document"
    pdf = world.client.get(url, headers=world.auth())
    assert pdf.status_code == 200 and pypdf.PdfReader(io.BytesIO(pdf.content)).attachments == {}
    xml = world.client.get(url, params={"format": "facturx-xml"}, headers=world.auth())
    assert xml.status_code == 422, xml.text
    body = xml.json()
    assert body["code"] == "facturx_not_applicable" and "at most two decimals" in body["message"]
    assert "BT-112 total with VAT: 54.306 TND" in body["message"]
