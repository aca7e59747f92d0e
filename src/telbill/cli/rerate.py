"""`telbill rate run`, `telbill rate explain ID` and `telbill rerate`: rating over the database.

`telbill rate` with `--catalog/--input/--output` stays the standalone what-if mode (cli/rate.py);
these commands read mediated usage and write `rated_usage`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from telbill.cli.context import console, ctx_of
from telbill.core.clock import parse_instant
from telbill.rating import repository as repo
from telbill.rating.service import RatingRunReport


def register(app: typer.Typer) -> None:
    from telbill.cli.rate import app as rate_app

    rate_app.command("run")(run_cmd)
    app.command("rerate")(rerate_cmd)


def _money(micros: int, currency: str | None) -> str:
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), 1_000_000)
    return f"{sign}{whole:,}.{frac // 10_000:02d} {currency or ''}".strip()


def report_table(report: RatingRunReport, title: str) -> Table:
    """Control totals of one run: records in = rated + failed, amounts, reasons."""
    table = Table(title=f"{title} (run {report.run_id}): records in = rated + failed")
    for name in ("in", "rated", "failed", "check", "amount"):
        table.add_column(name, justify="right")
    amounts = ", ".join(_money(m, c) for c, m in sorted(report.amounts.items())) or "-"
    table.add_row(
        f"{report.records_in:,}", f"{report.rated:,}", f"{report.failed:,}",
        "✓" if report.balanced else "✗", amounts,
    )  # fmt: skip
    if report.reasons:
        table.caption = "failed: " + ", ".join(f"{r} {n}" for r, n in sorted(report.reasons.items()))
    return table


def _quantity(usage_type: str, base: int) -> str:
    if usage_type in ("voice", "video"):
        return f"{Decimal(base) / 60:,.1f} min"
    if usage_type == "data":
        return f"{Decimal(base) / 1_000_000:,.1f} MB"
    return f"{base:,}"


def revenue_table(session: Session, run_ids: list[int] | None = None) -> Table:
    """Rated usage by usage type and destination: records, quantity, how each was priced."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for utype, scope, dest, pricing, currency, n, quantity, micros in repo.revenue(session, run_ids):
        where = scope if (scope or "").endswith("roaming") or not dest else dest
        row = rows.setdefault((utype, where or ""), {"n": 0, "q": 0, "included": 0, "model": 0, "money": {}})
        row["n"] += n
        row["q"] += int(quantity or 0)
        if pricing == "tariff":
            row["money"][currency] = row["money"].get(currency, 0) + int(micros or 0)
        else:
            row[pricing or "included"] += n
    table = Table(title="Revenue by usage type and destination")
    table.add_column("usage")
    table.add_column("destination", no_wrap=True)
    for name in ("records", "quantity", "free", "at billing", "rated"):
        table.add_column(name, justify="right", no_wrap=name == "rated")
    for (utype, where), r in sorted(rows.items()):
        money = ", ".join(_money(m, c) for c, m in sorted(r["money"].items())) or "-"
        table.add_row(
            utype,
            where,
            f"{r['n']:,}",
            _quantity(utype, r["q"]),
            f"{r['included']:,}",
            f"{r['model']:,}",
            money,
        )
    return table


def run_cmd(
    ctx: typer.Context,
    batch_size: int = typer.Option(50_000, "--batch-size", min=1, help="Records per batch (about)."),
) -> None:
    """Rate every mediated usage record not rated yet (and retry those that failed)."""
    from telbill.rating.service import rate_pending

    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        with _progress() as bar:
            task = bar.add_task("rating", total=None)
            report = rate_pending(session, cli.clock(session), batch_size, lambda n: bar.advance(task, n))
        console.print(report_table(report, "Rating"))
        if report.records_in:
            console.print(revenue_table(session, [report.run_id]))


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def rerate_cmd(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First instant (a bare date: midnight, default timezone)."),
    end: str = typer.Option(..., "--to", help="End instant, excluded."),
    accounts: str | None = typer.Option(None, "--accounts", help="Account numbers: ACC-000001,ACC-000002"),
    batch_size: int = typer.Option(50_000, "--batch-size", min=1),
) -> None:
    """Re-price a period after a tariff or catalog correction (idempotent: twice is once)."""
    from telbill.accounts import get_account_by_number
    from telbill.rating.rerate import rerate

    cli = ctx_of(ctx)
    tz = cli.settings.default_timezone
    with cli.unit_of_work() as session:
        ids = None
        if accounts:
            ids = [get_account_by_number(session, n).id for n in accounts.split(",") if n.strip()]
        report = rerate(
            session, cli.clock(session), parse_instant(start, tz), parse_instant(end, tz), ids, batch_size
        )
        console.print(report_table(report, "Re-rating"))
        console.print(
            f"replaced {report.replaced:,} · unchanged {report.unchanged:,} · "
            f"invoiced kept {report.invoiced:,} · adjustments pending {report.adjustments:,}"
        )


def explain_cmd(ctx: typer.Context, ident: str) -> None:
    """Print how one stored usage record (ID, or r:ID for a rated usage row) was classified and priced."""
    from telbill.rating.explain_usage import explain_stored

    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        for step in explain_stored(session, ident):
            console.print(step, highlight=False)
