"""Render and store the documents of issued invoices that have none yet (after a bill run).

The bill run never renders: a rendering failure must not hold an invoice back, and Typst is far
slower than computing an invoice. This step finds issued invoices and credit notes without a
stored PDF, renders them in the background pool (`documents.render_many`, spawn start method),
and stores each with `store_document` — the first stored copy is the document.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.model import Invoice, InvoiceDocument
from telbill.invoicing.service import invoice_content, store_document

CHUNK = 500


@dataclass
class RenderResult:
    rendered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (number, error)


def missing_documents(session: Session, invoice_ids: Collection[int] | None = None) -> list[int]:
    """Issued invoices and credit notes (not drafts) with no stored PDF, oldest first."""
    has_pdf = exists().where(InvoiceDocument.invoice_id == Invoice.id, InvoiceDocument.kind == "pdf")
    stmt = select(Invoice.id).where(Invoice.state != "draft", Invoice.number.is_not(None), ~has_pdf)
    if invoice_ids is None:
        return list(session.scalars(stmt.order_by(Invoice.id)))
    out: list[int] = []
    ordered = sorted(set(invoice_ids))
    for i in range(0, len(ordered), CHUNK):
        out += session.scalars(stmt.where(Invoice.id.in_(ordered[i : i + CHUNK])))
    return sorted(out)


def chunks(ids: list[int], size: int = CHUNK) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def render_and_store(
    session: Session,
    invoice_ids: Iterable[int],
    *,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> RenderResult:
    """Render these invoices' PDF/A-3 (Factur-X embedded) and store them in the caller's
    transaction. A document that fails is reported in the result, the others are stored."""
    from telbill.invoicing.documents import render_many

    ids_by_number: dict[str, int] = {}
    contents: list[InvoiceContent] = []
    for invoice_id in invoice_ids:
        content = invoice_content(session, invoice_id)
        ids_by_number[content.number] = invoice_id
        contents.append(content)
    result = RenderResult()

    def failed(number: str, error: Exception) -> None:
        result.failed.append((number, str(error)))
        if progress:
            progress(1)

    for number, pdf in render_many(contents, workers=workers, on_error=failed):
        store_document(session, ids_by_number[number], "pdf", pdf)
        result.rendered += 1
        if progress:
            progress(1)
    return result
