"""`telbill demo`: what `make demo` runs — a fresh database with a synthetic operator, summarised."""

from __future__ import annotations

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
