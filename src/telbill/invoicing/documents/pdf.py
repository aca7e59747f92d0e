"""The Factur-X PDF: Typst's PDF/A-3b with the CII XML embedded as `factur-x.xml` (AFRelationship Data).

`facturx.generate_from_binary` adds the attachment, the `/AF` array and the Factur-X XMP extension
schema. Its XSD check is switched off here because `validate_facturx` covers XSD and schematron and
the XML comes from our own writer; the tests validate every kind of document.
"""

from __future__ import annotations

from collections.abc import Sequence

import facturx

from telbill.invoicing.content import DocumentType, InvoiceContent
from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.facturx_xml import facturx_xml
from telbill.invoicing.documents.i18n import Formatter, locale_for
from telbill.invoicing.documents.typst_render import TypstRenderer

_renderer: TypstRenderer | None = None


def default_renderer() -> TypstRenderer:
    """The process's compiler, made on first use and then reused."""
    global _renderer
    if _renderer is None:
        _renderer = TypstRenderer()
    return _renderer


def embed_facturx(pdf: bytes, xml: bytes, content: InvoiceContent) -> bytes:
    fmt = Formatter(content.language, content.currency)
    kind = "credit_note" if content.document_type is DocumentType.CREDIT_NOTE else "invoice"
    title = f"{content.seller.name}: {fmt.label(kind)} {content.number}"
    metadata = {
        "author": content.seller.name,
        "keywords": "Factur-X, " + fmt.label(kind),
        "title": title,
        "subject": f"Factur-X {fmt.label(kind)} {content.number} {content.issue_date.isoformat()}",
    }
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        pdf_metadata=metadata,
        lang=locale_for(content.language).replace("_", "-"),
    )


def render_invoice_pdf(
    content: InvoiceContent,
    call_list: Sequence[CallRecord] | None = None,
    renderer: TypstRenderer | None = None,
) -> bytes:
    """One invoice or credit note as a PDF/A-3b with its Factur-X EN 16931 XML embedded."""
    pdf = (renderer or default_renderer()).render(content, call_list)
    return embed_facturx(pdf, facturx_xml(content), content)
