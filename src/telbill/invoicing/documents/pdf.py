"""The Factur-X PDF: Typst's PDF/A-3b with the CII XML embedded as `factur-x.xml` (AFRelationship Data).

`facturx` adds the attachment, the `/AF` array and the Factur-X XMP extension schema. We call
`generate_from_file` with an output path rather than `generate_from_binary`: with factur-x 7.8 and
pypdf 6, `generate_from_binary` writes the new PDF into its input temporary file at the reader's last
position, so the result starts with about 35 KB of the original PDF before the real one (readers
cope, a PDF/A validator would not, and the file is twice as big). The XSD check is switched off
because `validate_facturx` covers XSD and schematron; the tests validate every kind of document.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

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
    with tempfile.NamedTemporaryFile(prefix="telbill-", suffix=".pdf") as output:
        facturx.generate_from_file(
            io.BytesIO(pdf),
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,
            pdf_metadata=metadata,
            lang=locale_for(content.language).replace("_", "-"),
            output_pdf_file=output.name,
        )
        return Path(output.name).read_bytes()


def render_invoice_pdf(
    content: InvoiceContent,
    call_list: Sequence[CallRecord] | None = None,
    renderer: TypstRenderer | None = None,
) -> bytes:
    """One invoice or credit note as a PDF/A-3b with its Factur-X EN 16931 XML embedded."""
    pdf = (renderer or default_renderer()).render(content, call_list)
    return embed_facturx(pdf, facturx_xml(content), content)
