"""`telbill demo`: what `make demo` runs — a fresh database with a synthetic operator, summarised,
then a day of its traffic mediated and rated, with revenue by usage type and destination."""

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
