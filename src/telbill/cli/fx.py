"""`telbill fx ...`: the exchange rates the operator maintains — import a file, list, show the rate
in force. Invoices in another currency than the seller's VAT accounting currency freeze the rate
in force on their issue date (`docs/contexts/invoices.md`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from telbill import fx
from telbill.cli.context import console, ctx_of
from telbill.core.errors import ValidationFailed

app = typer.Typer(help="Exchange rates: import, record, list, show the rate in force.", no_args_is_help=True)


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="CSV: 'date,base,quote,rate[,source]', or the ECB's reference rates."
    ),
    source: str | None = typer.Option(None, "--source", help="Source of rates the file does not name."),
    replace: bool = typer.Option(
        False, "--replace", help="Correct rates already recorded with another value."
    ),
) -> None:
    """Record the rates of a file: all of them, or none when a line is wrong."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        summary = fx.import_rates(session, cli.clock(session), file, source=source, replace=replace)
    console.print(
        f"{summary.added} rate(s) added, {summary.unchanged} already recorded, {summary.replaced} replaced",
        highlight=False,
    )


@app.command("record")
def record_cmd(
    ctx: typer.Context,
    base: str = typer.Argument(..., help="The currency quoted, e.g. USD in '1 USD = 0.9234 EUR'."),
    quote: str = typer.Argument(..., help="The currency it is quoted in, e.g. EUR."),
    rate: str = typer.Argument(..., help="How many QUOTE one BASE is worth, exactly as quoted."),
    on: str = typer.Option(..., "--on", help="Effective from this date (YYYY-MM-DD)."),
    source: str = typer.Option("manual", "--source", help="Who quoted it (treasury desk, ECB, ...)."),
    replace: bool = typer.Option(False, "--replace", help="Correct a rate already recorded that day."),
) -> None:
    """Record one rate (a rate desk's quote) without a file."""
    cli = ctx_of(ctx)
    day = _day(on, "--on")
    if day is None:  # pragma: no cover - typer requires --on
        raise ValidationFailed("--on: a date is required")
    checked = fx.checked_rate(base, quote, rate, day, source)
    with cli.unit_of_work() as session:
        summary = fx.record_rates(session, cli.clock(session), [checked], replace=replace)
    what = "added" if summary.added else "replaced" if summary.replaced else "already recorded"
    console.print(
        f"1 {checked.base} = {checked.rate} {checked.quote} from {day} ({source}): {what}", highlight=False
    )


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    currency: str | None = typer.Option(None, "--currency", help="Rates of this currency (either side)."),
    since: str | None = typer.Option(None, "--since", help="Effective on or after (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Effective on or before (YYYY-MM-DD)."),
    limit: int = typer.Option(100, "--limit"),
) -> None:
    """Recorded rates, newest first."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        found = fx.list_rates(
            session,
            currency=currency.upper() if currency else None,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
            limit=limit,
        )
    table = Table("effective", "pair", "rate", "source")
    for r in found:
        table.add_row(r.effective_date.isoformat(), f"1 {r.base} =", f"{r.rate} {r.quote}", r.source)
    console.print(table)


@app.command("rate")
def rate_cmd(
    ctx: typer.Context,
    currency: str = typer.Argument(..., help="Invoice currency, e.g. USD."),
    on: str | None = typer.Option(None, "--on", help="Date (YYYY-MM-DD); default today on the clock."),
    accounting: str | None = typer.Option(
        None, "--accounting", help="Default: the seller's accounting currency."
    ),
) -> None:
    """The rate an invoice in CURRENCY issued on that date would use."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        zone = ZoneInfo(cli.settings.default_timezone)
        day = _day(on, "--on") or cli.clock(session).now().astimezone(zone).date()
        target = (accounting or cli.settings.seller.accounting_currency).upper()
        r = fx.rate_in_force(session, currency.upper(), target, day)
    console.print(
        f"{day}: 1 {r.base} = {r.rate} {r.quote} (effective {r.effective_date}, {r.source})", highlight=False
    )
