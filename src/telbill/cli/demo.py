"""`telbill demo`: what `make demo` runs — a fresh database with a synthetic operator, summarised,
then a day of its traffic mediated and rated (revenue by usage type and destination), then a bill
run, with a few invoices rendered as PDF/A-3 + Factur-X and their paths printed."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import typer
from sqlalchemy.engine import make_url

from telbill.cli.context import console, ctx_of
from telbill.cli.synth import run_synth
from telbill.core.errors import ValidationFailed


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    accounts: int = typer.Option(1000, "--accounts", min=1, help="Size of the synthetic operator."),
    seed: int = typer.Option(42, "--seed"),
    keep: bool = typer.Option(
        False, "--keep", help="Keep an existing demo database instead of starting afresh."
    ),
) -> None:
    """Create a fresh SQLite database, load a synthetic operator and print a summary."""
    cli = ctx_of(ctx)
    url = make_url(cli.settings.database_url)
    if not keep:
        if url.get_backend_name() != "sqlite" or not url.database:
            raise ValidationFailed(
                "the demo starts from an empty database and only resets SQLite files; "
                f"{cli.settings.database_url} is left alone (use --keep to add to it)"
            )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url.database + suffix).unlink(missing_ok=True)
    console.rule(
        f"[bold]telbill demo[/] — {accounts} accounts, seed {seed}, database {cli.settings.database_url}"
    )
    run_synth(ctx, accounts, seed)
    demo_traffic(ctx, seed)
    demo_billing(ctx)


def demo_traffic(ctx: typer.Context, seed: int) -> None:
    """A day of traffic (the day before the clock's date, UTC) mediated and rated."""
    from telbill.cli.mediate import mediate_cmd
    from telbill.cli.rerate import run_cmd
    from telbill.mediation import load_intervals
    from telbill.synth.cdrs import generate_cdrs, write_cdrs

    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        intervals = load_intervals(session)
        day = cli.clock(session).now().astimezone(UTC).date() - timedelta(days=1)
    if intervals.is_empty():
        console.print("no subscriber holds a number: no traffic to rate")
        return
    start = datetime.combine(day, time(), tzinfo=UTC)
    frame = generate_cdrs(intervals, days=1, seed=seed, start=start)
    console.rule(f"[bold]traffic of {day}[/] — {frame.height:,} network records")
    with tempfile.TemporaryDirectory(prefix="telbill-demo-") as folder:
        path = write_cdrs(frame, Path(folder), "csv", stem=f"cdrs-{day}")
        mediate_cmd(ctx, [path], source=None, sources_file=None, batch_size=100_000)
    run_cmd(ctx, batch_size=50_000)


SAMPLE_DOCUMENTS = 4


def demo_billing(ctx: typer.Context) -> None:
    """Bill every account due now, then render a few invoices (both languages) and print their paths."""
    from rich.table import Table

    from telbill import invoicing
    from telbill.billing.run import CreditHandling
    from telbill.cli.billing import bill_run_command
    from telbill.cli.invoices import render_documents

    cli = ctx_of(ctx)
    console.rule("[bold]bill run[/]")
    bill_run_command(
        ctx,
        date_=None,
        workers=1,
        batch_size=1000,
        drafts=False,
        credit=CreditHandling.INVOICE_LINE,
        lookback=12,
        render=False,
        render_workers=2,
    )
    with cli.unit_of_work() as session:
        issued = invoicing.list_invoices(session, invoicing.InvoiceFilters(state="finalised", limit=400))
        picked = _samples(session, issued)
    if not picked:
        console.print("no invoice was issued")
        return
    render_documents(cli, [i.id for i in picked], workers=2)
    folder = Path(cli.settings.data_dir) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    table = Table(
        "invoice", "account", "language", "total", "PDF", title="Sample invoices", title_justify="left"
    )
    with cli.unit_of_work() as session:
        for inv in picked:
            document = invoicing.get_document(session, inv.id)
            if document is None:
                continue
            path = folder / f"{inv.number}.pdf"
            path.write_bytes(document.data)
            content = invoicing.invoice_content(session, inv.id)
            table.add_row(
                inv.number,
                content.buyer_reference,
                content.language,
                f"{content.totals.grand_total} {content.currency}",
                str(path),
            )
    console.print(table)


def _samples(session, issued):  # type: ignore[no-untyped-def]
    """The largest invoice in each language, then the largest others, up to SAMPLE_DOCUMENTS."""
    from telbill import invoicing

    ranked = sorted(issued, key=lambda i: i.grand_total, reverse=True)
    chosen, languages = [], set()
    for inv in ranked:
        lang = invoicing.invoice_content(session, inv.id).language
        if lang not in languages:
            languages.add(lang)
            chosen.append(inv)
    chosen += [i for i in ranked if i not in chosen][: SAMPLE_DOCUMENTS - len(chosen)]
    return chosen[:SAMPLE_DOCUMENTS]
