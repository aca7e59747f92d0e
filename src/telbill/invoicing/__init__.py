"""invoicing context: the invoice store (lifecycle, gapless numbering, immutability, credit notes,
account credit, stored documents) and the documents (PDF/A-3 with Factur-X).

Names are loaded on first use (PEP 562) so that importing `telbill.invoicing.content` — which the
billing context does — never drags in the services, which themselves import billing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # content contract
    "DocumentType": "content",
    "InvoiceContent": "content",
    "InvoiceLine": "content",
    "DocumentAllowance": "content",
    "TaxCategory": "content",
    "TaxSubtotal": "content",
    "Totals": "content",
    "Party": "content",
    "UsageSummaryRow": "content",
    "AccountingVat": "content",
    # inputs
    "DraftInvoice": "schemas",
    "LineSource": "schemas",
    "FinalisePolicy": "schemas",
    "BelowMinimum": "schemas",
    "CreditSpec": "schemas",
    "LineCredit": "schemas",
    "InvoiceFilters": "schemas",
    "draft_key": "schemas",
    "INVOICE_SERIES": "schemas",
    "CREDIT_NOTE_SERIES": "schemas",
    # lifecycle
    "InvoiceState": "lifecycle",
    "Standing": "lifecycle",
    # tables (read-only use by other contexts)
    "Invoice": "model",
    "InvoiceDocument": "model",
    "AccountCredit": "model",
    "immutability_ddl": "model",
    # numbering
    "configure_series": "numbering",
    "DEFAULT_SERIES": "numbering",
    # use cases
    "create_draft": "service",
    "replace_draft_lines": "service",
    "delete_draft": "service",
    "carry_forward": "service",
    "finalise": "service",
    "record_payment": "service",
    "get_invoice": "service",
    "get_invoice_by_number": "service",
    "list_invoices": "service",
    "invoice_content": "service",
    "draft_lines": "service",
    "standing_of": "service",
    "recomputed_totals": "service",
    "store_document": "service",
    "get_document": "service",
    "issue_credit_note": "credit_notes",
    "void": "credit_notes",
    "credit_notes_of": "credit_notes",
    "grant_account_credit": "credit_notes",
    "apply_account_credit": "credit_notes",
    "account_credit_balance": "credit_notes",
    # documents
    "render_invoice_pdf": "documents",
    "facturx_xml": "documents",
    "validate_facturx": "documents",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telbill.invoicing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"telbill.invoicing.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # the names above, for type checkers and editors
    from telbill.invoicing.content import (  # noqa: F401
        AccountingVat,
        DocumentAllowance,
        DocumentType,
        InvoiceContent,
        InvoiceLine,
        Party,
        TaxCategory,
        TaxSubtotal,
        Totals,
        UsageSummaryRow,
    )
    from telbill.invoicing.credit_notes import (  # noqa: F401
        account_credit_balance,
        apply_account_credit,
        credit_notes_of,
        grant_account_credit,
        issue_credit_note,
        void,
    )
    from telbill.invoicing.documents import facturx_xml, render_invoice_pdf, validate_facturx  # noqa: F401
    from telbill.invoicing.lifecycle import InvoiceState, Standing  # noqa: F401
    from telbill.invoicing.model import AccountCredit, Invoice, InvoiceDocument, immutability_ddl  # noqa: F401
    from telbill.invoicing.numbering import DEFAULT_SERIES, configure_series  # noqa: F401
    from telbill.invoicing.schemas import (  # noqa: F401
        CREDIT_NOTE_SERIES,
        INVOICE_SERIES,
        BelowMinimum,
        CreditSpec,
        DraftInvoice,
        FinalisePolicy,
        InvoiceFilters,
        LineCredit,
        LineSource,
        draft_key,
    )
    from telbill.invoicing.service import (  # noqa: F401
        carry_forward,
        create_draft,
        delete_draft,
        draft_lines,
        finalise,
        get_document,
        get_invoice,
        get_invoice_by_number,
        invoice_content,
        list_invoices,
        recomputed_totals,
        record_payment,
        replace_draft_lines,
        standing_of,
        store_document,
    )
