"""The Factur-X PDF: Typst's PDF/A-3b with the CII XML embedded as `factur-x.xml` (AFRelationship Data).

`facturx` (7.8) adds the attachment, the `/AF` array and the XMP with the PDF/A and Factur-X
extension schemas. We give it our own `pypdf.PdfWriter` through `_facturx_update_metadata_add_attachment`
(the step its `generate_from_*` functions run) rather than calling `generate_from_binary`, because:

- `generate_from_binary` writes the new PDF into its input temporary file at the reader's last
  position, so the result starts with about 35 KB of the original PDF before the real one;
- it fills the Info dictionary with `/Keywords`, which its XMP lacks (`pdf:Keywords`), and stamps the
  Info and XMP dates with two separate clock readings: PDF/A wants Info entries mirrored in the XMP.
  We drop the Info dictionary (optional in PDF/A-3; the XMP carries title, author, subject, dates).

The XSD check is not run here: `validate_facturx` covers XSD and schematron, and the tests validate
every kind of document. The tests also pin the structure, so a change inside `facturx` shows there.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pypdf
from facturx.facturx import _facturx_update_metadata_add_attachment

from telbill.invoicing.content import DocumentType, InvoiceContent
from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.facturx_xml import facturx_xml, inexpressible_amounts
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
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf))
    writer.pdf_header = "%PDF-1.7"  # as Typst wrote it: PDF/A-3 is based on PDF 1.7 (pypdf defaults to 1.3)
    _facturx_update_metadata_add_attachment(
        writer,
        xml,
        metadata,
        "factur-x",
        "en16931",
        lang=locale_for(content.language).replace("_", "-"),
        afrelationship="data",
    )
    writer.metadata = None  # no Info dictionary: the XMP alone describes the document
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def render_invoice_pdf(
    content: InvoiceContent,
    call_list: Sequence[CallRecord] | None = None,
    renderer: TypstRenderer | None = None,
) -> bytes:
    """One invoice or credit note as a PDF/A-3b with its Factur-X EN 16931 XML embedded.

    A document whose amounts EN 16931 cannot write (millimes of a three-decimal currency, see
    `inexpressible_amounts`) is the PDF/A-3b alone: it keeps its exact amounts, and carries no
    e-invoice rather than one that states other amounts.
    """
    pdf = (renderer or default_renderer()).render(content, call_list)
    if inexpressible_amounts(content):
        return pdf
    return embed_facturx(pdf, facturx_xml(content), content)
