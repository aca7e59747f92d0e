"""Entry point: global options, sub-commands, and expected errors shown without a traceback."""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace

import typer

from telbill.cli.context import CliContext, err_console
from telbill.core.errors import TelbillError
from telbill.core.settings import load_settings

app = typer.Typer(
    help="telbill — billing for telecom operators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# (module, command name): each module under telbill.cli exposes a Typer `app`.
SUBCOMMANDS = (
    ("db", "db"),
    ("catalog", "catalog"),
    ("accounts", "accounts"),
    ("subscriptions", "subscriptions"),
    ("orders", "orders"),
    ("clock", "clock"),
    ("synth", "synth"),
    ("coupons", "coupons"),
    ("invoices", "invoices"),
    ("fx", "fx"),
    ("api", "api"),
)


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(None, "--database-url", help="Overrides TELBILL_DATABASE_URL."),
    clock: str | None = typer.Option(None, "--clock", help="Act at the time of this test clock."),
) -> None:
    settings = load_settings()
    if database_url:
        settings = replace(settings, database_url=database_url)
    if clock:
        settings = replace(settings, clock=clock)
    ctx.obj = CliContext(settings)


def _register() -> None:
    for module, name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"telbill.cli.{module}")
        except ModuleNotFoundError as exc:
            if exc.name is None or not f"telbill.cli.{module}.".startswith(exc.name + "."):
                raise
            continue
        app.add_typer(mod.app, name=name)
    for module in ("demo", "rate", "mediate", "billing", "rerate"):
        try:
            importlib.import_module(f"telbill.cli.{module}").register(app)
        except ModuleNotFoundError as exc:
            if exc.name is None or not f"telbill.cli.{module}.".startswith(exc.name + "."):
                raise


_register()


def main() -> None:
    try:
        app()
    except TelbillError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
