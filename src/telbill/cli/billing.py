"""`telbill bill-run` and `telbill preview`: the bill run with a progress bar and a summary, and
the upcoming invoice of an account (written nowhere)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import typer
from rich.table import Table

from telbill.billing import repository
from telbill.billing.assemble import CreditHandling
from telbill.billing.preview import preview_invoice
from telbill.billing.run import BatchResult, BillRunOptions, finish_run, plan_run, process_batch, resume_runs
from telbill.cli.context import CliContext, console, ctx_of
from telbill.cli.progress import progress_bar
from telbill.core.clock import Clock, SystemClock, TestClock, parse_instant, zone
from telbill.db.engine import make_sessionmaker, session_scope


def _instant(text: str | None, cli: CliContext, clock: Clock) -> datetime:
    """A bare date means the end of that day in the default timezone (its periods are due)."""
    if text is None:
        return clock.now()
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return parse_instant(text, cli.settings.default_timezone)
    end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=zone(cli.settings.default_timezone)
    )
    return parse_instant(end.isoformat()) - timedelta(microseconds=1)


def _bill_here(
    cli: CliContext, clock: Clock, at: datetime, options: BillRunOptions
) -> tuple[list[int], BatchResult]:
    """One worker in this process (SQLite has one writer): plan, then commit batch after batch."""
    with cli.unit_of_work() as session:
        run_ids = resume_runs(session)
        run_id, _ = plan_run(session, clock, at)
        run_ids.append(run_id)
        pending = sum(repository.pending_left(session, r) for r in run_ids)
    total, maker = BatchResult(), make_sessionmaker(cli.engine)
    with progress_bar() as progress:
        task = progress.add_task(f"bill run {at:%Y-%m-%d %H:%M}Z", total=pending)
        while True:
            with session_scope(maker) as session:
                batch = process_batch(session, clock, run_ids, options, worker="w0")
            if not batch.claimed:
                break
            total.add(batch)
            progress.advance(task, batch.claimed)
    with cli.unit_of_work() as session:
        for r in run_ids:
            finish_run(session, clock, r)
    return run_ids, total


def _bill_in_processes(
    cli: CliContext, clock: Clock, at: datetime, options: BillRunOptions, workers: int
) -> tuple[list[int], BatchResult]:
    """PostgreSQL: worker processes start on the plan's first steps (`billing.parallel`)."""
    from telbill.billing.parallel import ParallelRun

    with ParallelRun(cli.engine, clock, at, options, workers) as run:
        with progress_bar() as progress:
            task = progress.add_task(f"bill run {at:%Y-%m-%d %H:%M}Z", total=run.resumed_pending)
            planned = run.resumed_pending

            def grow(n: int) -> None:
                nonlocal planned
                planned += n
                progress.update(task, total=planned)

            run.plan(grow)
            total = run.wait(lambda batch: progress.advance(task, batch.claimed))
        return run.run_ids, total


def _summary(result: BatchResult, seconds: float) -> Table:
    table = Table(title="Bill run", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("accounts billed", result.claimed),
        ("invoices finalised", result.invoices),
        ("credit notes", result.credit_notes),
        ("drafts left for review", result.drafts),
        ("nothing to bill", result.empty),
        ("failed", result.failed),
    ):
        table.add_row(label, f"{value:,}")
    for code, amount in sorted(result.totals.items()):
        table.add_row(f"total {code}", f"{amount:,.2f}")
    rate = result.claimed / seconds if seconds > 0 else 0
    table.caption = f"{seconds:.1f} s, {rate:,.0f} accounts/s"
    return table


def bill_run_command(
    ctx: typer.Context,
    date_: str | None = typer.Option(
        None, "--date", help="Bill what is due at this date/instant (default: now)."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=32, help="Worker processes (PostgreSQL; SQLite bills in one)."
    ),
    batch_size: int = typer.Option(1000, "--batch-size", min=1, help="Accounts per batch."),
    drafts: bool = typer.Option(False, "--drafts", help="Leave drafts for review instead of finalising."),
    credit: CreditHandling = typer.Option(
        CreditHandling.INVOICE_LINE, "--unused-credit", help="Where credit for unused time goes."
    ),
    lookback: int = typer.Option(
        12, "--lookback", min=0, max=60, help="Periods re-examined for backdated changes (at most)."
    ),
    render: bool = typer.Option(
        False, "--render", help="Then render and store the PDF/A-3 + Factur-X of the documents written."
    ),
    render_workers: int = typer.Option(2, "--render-workers", min=1, max=32, help="Rendering processes."),
) -> None:
    """Bill every account due: plan, then compute and write invoices in batches (resumable)."""
    cli = ctx_of(ctx)
    options = BillRunOptions(
        seller=cli.settings.seller,
        batch_size=batch_size,
        auto_finalise=not drafts,
        credit_handling=credit,
        lookback=lookback,
    )
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        at = _instant(date_, cli, clock)
        if not isinstance(clock, SystemClock):
            clock = TestClock(clock.now())  # the test clock's instant, frozen for the run
    started = time.perf_counter()
    if cli.engine.dialect.name == "postgresql":
        run_ids, total = _bill_in_processes(cli, clock, at, options, workers)
    else:
        run_ids, total = _bill_here(cli, clock, at, options)  # SQLite has one writer
    console.print(_summary(total, time.perf_counter() - started))
    if render:
        from telbill.cli.invoices import render_documents

        with cli.unit_of_work() as session:
            ids = repository.run_invoice_ids(session, run_ids)
        render_documents(cli, ids, render_workers)


def preview_command(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="Account number (ACC-…) or id."),
    date_: str | None = typer.Option(None, "--date", help="The invoice of the period containing this date."),
) -> None:
    """Show the upcoming invoice of an account; nothing is written."""
    from telbill.accounts import get_account, get_account_by_number

    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        acc = (
            get_account(session, int(account))
            if account.isdigit()
            else get_account_by_number(session, account)
        )
        at = _instant(date_, cli, cli.clock(session))
        result = preview_invoice(session, acc.id, at, BillRunOptions(seller=cli.settings.seller))
    if result is None:
        console.print(f"{acc.number}: nothing to bill for the period containing {at:%Y-%m-%d}")
        return
    c = result.content
    table = Table(
        title=f"Upcoming invoice {c.buyer_reference} — {c.period_start} to {c.period_end}",
        title_justify="left",
    )
    for col in ("line", "period", "VAT", "amount"):
        table.add_column(col, justify="right" if col == "amount" else "left")
    for line in c.lines:
        table.add_row(
            line.description,
            f"{line.period_start} → {line.period_end}",
            f"{line.tax_category.value} {line.tax_rate}%",
            f"{line.net_amount:,}",
        )
    for a in c.allowances:
        table.add_row(f"discount: {a.reason}", "", f"{a.tax_category.value} {a.tax_rate}%", f"-{a.amount:,}")
    t = c.totals
    table.caption = f"net {t.tax_basis_total} + VAT {t.tax_total} = {t.grand_total} {c.currency}"
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("bill-run")(bill_run_command)
    app.command("preview")(preview_command)
