"""`telbill api ...`: serve the REST API and manage its keys."""

from __future__ import annotations

import typer
from rich.table import Table

from telbill.api.keys import SCOPES, create_key, revoke_key
from telbill.api.repository import list_keys
from telbill.cli.context import console, ctx_of

app = typer.Typer(help="REST API: serve it, manage API keys.", no_args_is_help=True)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Serve the API with uvicorn (OpenAPI at /docs)."""
    import uvicorn

    from telbill.api.app import create_app

    uvicorn.run(create_app(ctx_of(ctx).settings), host=host, port=port)


@app.command("key-create")
def key_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who uses the key, e.g. crm."),
    scope: list[str] = typer.Option(["read"], "--scope", help=f"One of {', '.join(SCOPES)}; repeatable."),
) -> None:
    """Create an API key; the token is printed once and never stored."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        row, token = create_key(session, cli.clock(session), name, scope)
    console.print(f"API key [bold]{row.name}[/] ({', '.join(row.scopes)}): {token}", highlight=False)
    console.print("[yellow]Store it now: it cannot be shown again.[/]")


@app.command("key-list")
def key_list(ctx: typer.Context) -> None:
    """List API keys (prefixes only)."""
    cli = ctx_of(ctx)
    table = Table("prefix", "name", "scopes", "created", "revoked")
    with cli.unit_of_work() as session:
        for k in list_keys(session):
            table.add_row(
                k.prefix,
                k.name,
                ", ".join(k.scopes),
                k.created_at.isoformat(),
                k.revoked_at.isoformat() if k.revoked_at else "",
            )
    console.print(table)


@app.command("key-revoke")
def key_revoke(ctx: typer.Context, prefix: str = typer.Argument(...)) -> None:
    """Revoke an API key at once."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        revoke_key(session, cli.clock(session), prefix)
    console.print(f"revoked {prefix}")
