"""Invoice documents: PDF/A-3b invoices and credit notes with an embedded Factur-X EN 16931 e-invoice.

`render_invoice_pdf` renders one document, `render_many` many in a process pool, `facturx_xml` gives
the CII XML alone and `validate_facturx` checks it offline against the XSD and the EN 16931 schematron.
Amounts EN 16931 cannot write (millimes) get no e-invoice: `inexpressible_amounts`, `FacturXNotApplicable`.
"""

from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.facturx_xml import FacturXNotApplicable, facturx_xml, inexpressible_amounts
from telbill.invoicing.documents.pdf import render_invoice_pdf
from telbill.invoicing.documents.pool import render_many
from telbill.invoicing.documents.typst_render import RenderFailed, TypstRenderer
from telbill.invoicing.documents.validate import Finding, ValidationReport, validate_facturx

__all__ = [
    "CallRecord",
    "FacturXNotApplicable",
    "Finding",
    "RenderFailed",
    "TypstRenderer",
    "ValidationReport",
    "facturx_xml",
    "inexpressible_amounts",
    "render_invoice_pdf",
    "render_many",
    "validate_facturx",
]
