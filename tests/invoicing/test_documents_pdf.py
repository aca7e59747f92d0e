"""The PDF is a PDF/A-3b with the Factur-X XML attached, and shows the legal mentions in its language."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal

import pypdf
import pytest
from lxml import etree

from telbill.core.errors import ValidationFailed
from telbill.invoicing.content import DocumentType, InvoiceContent, Party, TaxCategory
from telbill.invoicing.documents import RenderFailed, TypstRenderer, facturx_xml, render_invoice_pdf
from telbill.invoicing.documents.samples import BUYER_DE, line, sample_calls, sample_invoice

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"


def round_total(language: str = "fr") -> InvoiceContent:
    """1 028,80 net + 20 % VAT = 1 234,56 total."""
    return sample_invoice(language=language, lines=(line("1", "Liaison fibre dédiée", "2", "514.40"),))


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@pytest.fixture(scope="module")
def content() -> InvoiceContent:
    return round_total("fr")


@pytest.fixture(scope="module")
def pdf(content: InvoiceContent) -> bytes:
    return render_invoice_pdf(content)


def test_pdf_declares_pdfa3b_with_an_output_intent(pdf: bytes) -> None:
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    intents = root["/OutputIntents"]
    assert len(intents) >= 1
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    xmp = etree.fromstring(root["/Metadata"].get_object().get_data())
    assert xmp.findtext(f".//{{{PDFAID}}}part") == "3"
    assert xmp.findtext(f".//{{{PDFAID}}}conformance") == "B"
    assert xmp.findtext(f".//{{{FX}}}ConformanceLevel") == "EN 16931"
    assert xmp.findtext(f".//{{{FX}}}DocumentFileName") == "factur-x.xml"


def test_the_file_is_one_pdf_from_its_first_byte(pdf: bytes, content: InvoiceContent, renderer) -> None:
    """No leftover of the visual PDF before the Factur-X one (see pdf.py)."""
    assert pdf.startswith(b"%PDF-1.7\n%") and pdf.count(b"%PDF-") == 1
    assert all(byte > 127 for byte in pdf[10:14])  # the binary comment PDF/A asks for on line 2
    assert pdf.rstrip().endswith(b"%%EOF") and pdf.count(b"%%EOF") == 1
    assert len(pdf) < len(renderer.render(content)) + 8192  # the XML and XMP add a few KiB, not a copy


def test_no_info_dictionary_contradicts_the_xmp(pdf: bytes, content: InvoiceContent) -> None:
    """PDF/A wants Info entries mirrored in the XMP; the document has none, the XMP says it all."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert "/Info" not in reader.trailer
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    dc = "http://purl.org/dc/elements/1.1/"
    assert content.number in "".join(xmp.find(f".//{{{dc}}}title").itertext())
    assert content.seller.name in "".join(xmp.find(f".//{{{dc}}}creator").itertext())


def test_the_embedded_xml_is_the_generated_one(pdf: bytes, content: InvoiceContent) -> None:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    associated = [spec.get_object() for spec in reader.trailer["/Root"]["/AF"]]
    assert [(spec["/F"], spec["/AFRelationship"]) for spec in associated] == [("factur-x.xml", "/Data")]
    assert reader.attachments["factur-x.xml"] == [facturx_xml(content)]


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_qpdf_finds_no_structural_error(pdf: bytes, tmp_path) -> None:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


def test_french_invoice_shows_french_amounts_dates_and_mentions(pdf: bytes) -> None:
    text = text_of(pdf)
    assert "Facture" in text
    assert "F2025-000123" in text
    assert "1 234,56 €" in text
    assert "1 028,80 €" in text
    assert "1 février 2025" in text and "3 mars 2025" in text
    assert "SIREN 303265045" in text and "FR40303265045" in text and "FR23334175221" in text
    assert "Pénalités de retard" in text
    assert "40,00 €" in text and "L441-10" in text  # fixed recovery indemnity between businesses
    assert "Récapitulatif de la TVA" in text and "20 %" in text


def test_english_invoice_shows_english_amounts() -> None:
    text = text_of(render_invoice_pdf(round_total("en")))
    assert "Invoice" in text
    assert "€1,234.56" in text
    assert "1 February 2025" in text
    assert "€40.00" in text


def test_a_consumer_invoice_has_no_business_indemnity_mention() -> None:
    consumer = Party("Jeanne Martin", "8 allée des Tilleuls", "Nantes", "44000", "FR")
    text = text_of(render_invoice_pdf(sample_invoice(buyer=consumer)))
    assert "L441-10" not in text


def test_credit_note_says_so_and_names_the_invoice_it_corrects() -> None:
    note = sample_invoice(
        "AV2025-000007", document_type=DocumentType.CREDIT_NOTE, preceding_invoice="F2025-000123"
    )
    text = text_of(render_invoice_pdf(note))
    assert "Avoir" in text and "AV2025-000007" in text
    assert "Avoir sur la facture" in text and "F2025-000123" in text
    english = text_of(render_invoice_pdf(replace(note, language="en")))
    assert "Credit note" in english and "F2025-000123" in english


def test_reverse_charge_mention_is_printed() -> None:
    content = sample_invoice(
        language="en",
        buyer=BUYER_DE,
        lines=(line("1", "SIP trunk", "1", "450.00", rate="0", category=TaxCategory.REVERSE_CHARGE),),
    )
    text = text_of(render_invoice_pdf(content))
    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    assert "DE136695976" in text


def test_usage_summary_and_a_call_list_over_several_pages(renderer) -> None:
    content = round_total("fr")
    pdf = render_invoice_pdf(content, sample_calls(150), renderer=renderer)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    text = text_of(pdf)
    assert "Récapitulatif des consommations" in text and "2:05:30" in text and "18 432,5 Mo" in text
    assert "Détail des communications" in text
    assert "+33 6" in text and "XX XX" in text
    assert f"Page {len(reader.pages)} sur {len(reader.pages)}" in text


def test_a_proration_credit_line_renders_and_validates() -> None:
    from telbill.invoicing.documents import validate_facturx

    content = sample_invoice(
        lines=(
            line("1", "Forfait Pro 100 Go", "1", "39.99", unit_code="MON"),
            line("2", "Crédit : ancien forfait du 15 au 31 janvier", "-0.5484", "29.99", unit_code="MON"),
        )
    )
    assert content.lines[1].net_amount == Decimal("-16.45")
    assert validate_facturx(facturx_xml(content)).errors == ()
    assert "-16,45 €" in text_of(render_invoice_pdf(content))


def test_text_from_the_content_is_printed_verbatim_never_run_as_markup() -> None:
    hostile = '#set page(width: 1cm) *bold* $x^2$ ] // @ref <label> \\ #panic("no")'
    buyer = replace(BUYER_DE, name=hostile)
    text = text_of(render_invoice_pdf(sample_invoice(buyer=buyer)))
    assert '#set page(width: 1cm) *bold* $x^2$ ] // @ref <label> \\ #panic("no")' in text


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="unsupported document language"):
        render_invoice_pdf(sample_invoice(language="de"))


def test_same_content_gives_the_same_visual_pdf(renderer) -> None:
    content = round_total("fr")
    assert renderer.render(content) == renderer.render(content)


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="unknown currency"):
        render_invoice_pdf(replace(sample_invoice(), currency="XYZ"))


def test_a_template_error_is_a_render_failure(tmp_path) -> None:
    broken = tmp_path / "broken.typ"
    broken.write_text("#let d = json(bytes(sys.inputs.data))\n#d.missing_field\n")
    with pytest.raises(RenderFailed, match="typst could not render"):
        TypstRenderer(template=broken).render(sample_invoice())


def test_greek_cyrillic_and_arabic_names_render_and_a_glyph_outside_the_font_is_a_render_failure() -> None:
    for name in ("Ελληνική ΑΕ", "Тест ООО", "شركة الاختبار"):
        assert name.split()[0] in text_of(
            render_invoice_pdf(sample_invoice(buyer=replace(BUYER_DE, name=name)))
        )
    with pytest.raises(RenderFailed, match="could not be displayed"):
        render_invoice_pdf(sample_invoice(buyer=replace(BUYER_DE, name="株式会社テスト")))


def test_a_dinar_invoice_in_millimes_is_a_pdf_a_3_without_e_invoice() -> None:
    """EN 16931 cannot write 45.255 TND: the PDF/A-3b keeps the millimes and embeds no XML."""
    millimes = sample_invoice(code="TND", lines=(line("1", "Forfait", "1", "45.255", code="TND"),))
    pdf = render_invoice_pdf(millimes)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert "/AF" not in reader.trailer["/Root"] and reader.attachments == {}
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp and (b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp)
    assert "45,255" in text_of(pdf)
    whole = sample_invoice(code="TND", lines=(line("1", "Forfait", "1", "45.250", code="TND"),))
    assert list(pypdf.PdfReader(io.BytesIO(render_invoice_pdf(whole))).attachments) == ["factur-x.xml"]
