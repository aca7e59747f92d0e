"""`telbill clock ...`: persisted test clocks; advancing one runs every job that falls due."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from telbill.cli.context import console, ctx_of
from telbill.core.clock import SystemClock, parse_instant
from telbill.core.errors import ValidationFailed
from telbill.scheduler import JobRun, advance, clock_for, create_clock, list_clocks

app = typer.Typer(help="Test clocks: create, advance (running due jobs), show.", no_args_is_help=True)


@app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name of the new test clock."),
    at: str | None = typer.Option(None, "--at", help="Start instant (ISO); default: now."),
) -> None:
    """Create a test clock starting at --at (a bare date is midnight in the default timezone)."""
    cli = ctx_of(ctx)
    start = parse_instant(at, cli.settings.default_timezone) if at else None
    with cli.unit_of_work() as session:
        clock = create_clock(session, SystemClock(), name, start)
        console.print(f"[green]test clock {clock.name!r} created at {clock.now().isoformat()}[/]")


@app.command("advance")
def advance_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Test clock to move forward."),
    to: str | None = typer.Option(None, "--to", help="Target instant (ISO)."),
    days: int | None = typer.Option(None, "--days", help="Move forward this many days."),
) -> None:
    """Move a test clock forward, running every due job at its own instant, earliest first."""
    if (to is None) == (days is None):
        raise ValidationFailed("give exactly one of --to ISO or --days N")
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        clock = clock_for(session, name, for_update=True)
        start = clock.now()
        target = parse_instant(to, cli.settings.default_timezone) if to else start + timedelta(days=days or 0)
        runs: list[JobRun] = []
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
        ) as bar:
            task = bar.add_task(f"advancing {name} to {target.isoformat()}", total=None)

            def on_job(run: JobRun) -> None:
                runs.append(run)
                bar.update(
                    task, description=f"{run.ran_at.isoformat()} {run.source}: {run.description or run.key}"
                )

            advance(session, clock, target, on_job=on_job)
        _print_summary(name, start.isoformat(), clock.now().isoformat(), runs)


def _print_summary(name: str, start: str, end: str, runs: list[JobRun]) -> None:
    console.print(f"[green]{name}: {start} → {end}[/], {len(runs)} job(s) ran")
    if not runs:
        return
    table = Table("due at", "source", "job")
    for run in runs[:50]:
        table.add_row(run.due_at.isoformat(), run.source, run.description or run.key)
    console.print(table)
    if len(runs) > 50:
        counts = Counter(run.source for run in runs)
        console.print("by source: " + ", ".join(f"{src} {n}" for src, n in sorted(counts.items())))


@app.command("show")
def show_cmd(
    ctx: typer.Context, name: str | None = typer.Argument(None, help="Default: --clock or system.")
) -> None:
    """Show the instant of a test clock (or of the clock in force)."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        if name:
            clock = clock_for(session, name)
            console.print(f"{clock.name}: {clock.now().isoformat()}")
        else:
            label = cli.settings.clock or "system"
            console.print(f"{label}: {cli.clock(session).now().isoformat()}")


@app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """List the test clocks."""
    with ctx_of(ctx).unit_of_work() as session:
        clocks = list_clocks(session)
        if not clocks:
            console.print("no test clocks (create one with `telbill clock create NAME`)")
            return
        table = Table("name", "now")
        for clock in clocks:
            table.add_row(clock.name, clock.now().isoformat())
        console.print(table)
