"""`telbill db ...`: schema migrations."""

from __future__ import annotations

import typer

from telbill.cli.context import console, ctx_of
from telbill.db.migrate import current, upgrade

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    cli = ctx_of(ctx)
    upgrade(cli.engine, revision)
    console.print(f"[green]database at revision {current(cli.engine)}[/] ({cli.settings.database_url})")


@app.command("current")
def current_cmd(ctx: typer.Context) -> None:
    """Show the schema revision of the database."""
    console.print(current(ctx_of(ctx).engine) or "empty database (run `telbill db upgrade`)")
