"""`telbill invoices ...`: list, show, credit, void and download issued invoices.

Each command is one transaction. Corrections never edit an invoice: `credit-note` and `void`
issue a numbered credit note referencing it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer
from rich.table import Column, Table
from sqlalchemy.orm import Session

from telbill import accounts, invoicing
from telbill.cli.context import console, ctx_of
from telbill.core.errors import Conflict, ValidationFailed
from telbill.invoicing import CreditSpec, Invoice, InvoiceFilters, LineCredit

app = typer.Typer(
    help="Invoices and credit notes: list, show, credit-note, void, download, render.",
    no_args_is_help=True,
)


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise ValidationFailed(f"{what}: not a decimal number: {text!r}") from None


def _line_credit(item: str) -> LineCredit:
    """ID (the whole line), ID:QTY (a quantity) or ID=AMOUNT (a net amount)."""
    if "=" in item:
        line_id, _, amount = item.partition("=")
        return LineCredit(line_id.strip(), amount=_decimal(amount, f"--line {item}"))
    if ":" in item:
        line_id, _, quantity = item.partition(":")
        return LineCredit(line_id.strip(), quantity=_decimal(quantity, f"--line {item}"))
    return LineCredit(item.strip())


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    account: str | None = typer.Option(None, "--account", help="Billing account number (ACC-...)."),
    state: str | None = typer.Option(None, "--state", help="draft, finalised, partially_paid, paid, void."),
    limit: int = typer.Option(100, "--limit"),
) -> None:
    """Invoices and credit notes, oldest first."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        account_id = accounts.get_account_by_number(session, account).id if account else None
        found = invoicing.list_invoices(
            session, InvoiceFilters(account_id=account_id, state=state, limit=limit)
        )
        table = Table(
            Column("number", no_wrap=True), "type", "account", "issued", "due", "state", "total", "balance"
        )
        for inv in found:
            table.add_row(
                inv.number or f"(draft {inv.id})",
                "credit" if inv.document_type == "381" else "invoice",
                accounts.get_account(session, inv.account_id).number,
                str(inv.issue_date or ""),
                str(inv.due_date or ""),
                inv.state,
                f"{_money(inv.grand_total, inv)} {inv.currency}",
                f"{_money(inv.balance, inv)}",
            )
        console.print(table)


def _money(value: Decimal, invoice: Invoice) -> str:
    from telbill.core.money import currency

    return str(value.quantize(currency(invoice.currency).quantum))


@app.command("show")
def show_cmd(
    ctx: typer.Context, number: str = typer.Argument(..., help="Invoice or credit note number.")
) -> None:
    """Lines, VAT breakdown, totals and settlement of one document."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        invoice = invoicing.get_invoice_by_number(session, number)
        content = invoicing.invoice_content(session, invoice.id)
        kind = "Credit note" if invoice.document_type == "381" else "Invoice"
        console.print(f"[bold]{kind} {content.number}[/] — {content.buyer.name} ({content.buyer_reference})")
        console.print(f"issued {content.issue_date}, due {content.due_date}, period {content.period_start} → "
                      f"{content.period_end}, state {invoice.state}")  # fmt: skip
        if content.preceding_invoice:
            console.print(f"credits invoice {content.preceding_invoice} of {content.preceding_invoice_date}")
        lines = Table("#", "description", "quantity", "unit price", "net", "VAT")
        for line in content.lines:
            lines.add_row(line.line_id, line.description, str(line.quantity), str(line.unit_price),
                          str(line.net_amount), f"{line.tax_category.value} {line.tax_rate}%")  # fmt: skip
        for allowance in content.allowances:
            lines.add_row(
                "", f"− {allowance.reason}", "", "", f"-{allowance.amount}", str(allowance.tax_rate)
            )
        console.print(lines)
        vat = Table("VAT", "taxable", "tax", "exemption")
        for sub in content.tax_subtotals:
            vat.add_row(f"{sub.category.value} {sub.rate}%", str(sub.taxable_amount), str(sub.tax_amount),
                        sub.exemption_reason or "")  # fmt: skip
        console.print(vat)
        t = content.totals
        console.print(f"net {t.tax_basis_total}  VAT {t.tax_total}  total {t.grand_total} {content.currency}"
                      f"  prepaid {t.prepaid}  due {t.due_payable}")  # fmt: skip
        if (acc := content.accounting_vat) is not None:  # BT-6 / BT-111
            rate = f"1 {acc.rate_base} = {acc.rate} {acc.rate_quote}, {acc.rate_source} of {acc.rate_date}"
            console.print(f"VAT in the accounting currency {acc.tax_total} {acc.currency} ({rate})")
        paid, credited = _money(invoice.amount_paid, invoice), _money(invoice.amount_credited, invoice)
        console.print(f"paid {paid}  credited {credited}  balance {_money(invoice.balance, invoice)}")
        for note in invoicing.credit_notes_of(session, invoice.id):
            console.print(f"credit note {note.number}: {_money(note.grand_total, invoice)} — {note.reason}")


@app.command("credit-note")
def credit_note_cmd(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice number."),
    amount: str | None = typer.Option(
        None, "--amount", help="Net amount (excluding VAT) spread over its rates."
    ),
    line: list[str] | None = typer.Option(
        None, "--line", help="ID, ID:QUANTITY or ID=NET_AMOUNT; repeatable."
    ),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Issue a credit note: everything that remains (no option), chosen lines, or an amount."""
    cli = ctx_of(ctx)
    spec = CreditSpec(
        lines=tuple(_line_credit(item) for item in line or ()),
        amount=_decimal(amount, "--amount") if amount is not None else None,
    )
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        invoice = invoicing.get_invoice_by_number(session, number)
        note = invoicing.issue_credit_note(session, clock, invoice.id, spec, reason=reason)
        console.print(
            f"issued credit note {note.number} for {_money(note.grand_total, note)} {note.currency}; "
            f"{invoice.number} is {invoice.state}, balance {_money(invoice.balance, invoice)}"
        )


@app.command("void")
def void_cmd(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice number."),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Void an unpaid or partly paid invoice with a credit note for all that remains."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        invoice = invoicing.get_invoice_by_number(session, number)
        invoicing.void(session, clock, invoice.id, reason)
        notes = invoicing.credit_notes_of(session, invoice.id)
        console.print(f"voided {invoice.number} with credit note {notes[-1].number if notes else '-'}")


def _pdf(session: Session, invoice: Invoice) -> bytes:
    stored = invoicing.get_document(session, invoice.id, "pdf")
    if stored is not None:
        return stored.data
    try:
        render = invoicing.render_invoice_pdf
    except (ImportError, AttributeError):
        raise Conflict(f"{invoice.number} has no stored PDF and no renderer is installed") from None
    data = render(invoicing.invoice_content(session, invoice.id))
    return invoicing.store_document(session, invoice.id, "pdf", data).data


@app.command("download")
def download_cmd(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice or credit note number."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write the PDF to."),
) -> None:
    """Write the PDF (rendered and stored on first request)."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        invoice = invoicing.get_invoice_by_number(session, number)
        data = _pdf(session, invoice)
    output.write_bytes(data)
    console.print(f"wrote {output} ({len(data)} bytes)")


def render_documents(cli, invoice_ids: list[int] | None, workers: int) -> None:  # type: ignore[no-untyped-def]
    """Render and store the missing documents, one committed chunk at a time, with a progress bar."""
    from telbill.cli.progress import progress_bar
    from telbill.invoicing.render import chunks, missing_documents, render_and_store

    with cli.unit_of_work() as session:
        ids = missing_documents(session, invoice_ids)
    if not ids:
        console.print("no issued document is missing its PDF")
        return
    rendered, failed = 0, []
    with progress_bar() as progress:
        task = progress.add_task("documents", total=len(ids))
        for chunk in chunks(ids):
            with cli.unit_of_work() as session:
                result = render_and_store(
                    session, chunk, workers=workers, progress=lambda n: progress.advance(task, n)
                )
            rendered += result.rendered
            failed += result.failed
    console.print(f"rendered and stored {rendered:,} PDF/A-3 documents with Factur-X")
    for number, error in failed:
        console.print(f"[red]failed[/] {number}: {error}")


@app.command("render")
def render_cmd(
    ctx: typer.Context,
    run: list[int] = typer.Option([], "--run", help="Only the documents of this bill run (repeatable)."),
    all_missing: bool = typer.Option(False, "--all-missing", help="Every issued document without a PDF."),
    workers: int = typer.Option(2, "--workers", min=1, max=32, help="Rendering processes."),
) -> None:
    """Render the PDF/A-3 + Factur-X of issued invoices and credit notes that have none stored."""
    if bool(run) == all_missing:
        raise ValidationFailed("give --run ID (one or more) or --all-missing")
    cli = ctx_of(ctx)
    ids = None
    if run:
        from telbill.billing import repository

        with cli.unit_of_work() as session:
            ids = repository.run_invoice_ids(session, run)
    render_documents(cli, ids, workers)
