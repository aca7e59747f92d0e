"""Entry point: global options, sub-commands, and expected errors shown without a traceback."""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace

import click
import typer
from typer.core import TyperGroup

from telbill.cli.context import CliContext, err_console
from telbill.core.errors import TelbillError
from telbill.core.settings import load_settings

# Each command's module is imported when the command runs (`telbill invoices list` does not load
# mediation's Polars or the API's FastAPI): importing them all took 1.4–2 s at every start.
# name → the modules under telbill.cli that provide it: one exposing a Typer `app` (a group of that
# name), or modules whose `register(root)` adds it to the root (several when one adds to another's
# group: `rerate` adds `rate run`).
COMMANDS: dict[str, tuple[str, ...]] = {
    "db": ("db",),
    "catalog": ("catalog",),
    "accounts": ("accounts",),
    "subscriptions": ("subscriptions",),
    "orders": ("orders",),
    "clock": ("clock",),
    "synth": ("synth",),
    "coupons": ("coupons",),
    "invoices": ("invoices",),
    "fx": ("fx",),
    "api": ("api",),
    "demo": ("demo",),
    "rate": ("rate", "rerate"),
    "rerate": ("rate", "rerate"),
    "mediate": ("mediate",),
    "suspense": ("mediate",),
    "bill-run": ("billing",),
    "preview": ("billing",),
}
_GROUPS: dict[tuple[str, ...], click.Group] = {}


def _root_of(modules: tuple[str, ...]) -> click.Group:
    """A root holding what these modules provide, built once per process (a module's `register`
    may add commands to another module's group, which must happen once)."""
    group = _GROUPS.get(modules)
    if group is None:
        holder = typer.Typer()
        holder.callback()(lambda: None)  # a group even when it holds one command
        for name in modules:
            mod = importlib.import_module(f"telbill.cli.{name}")
            if hasattr(mod, "register"):
                mod.register(holder)
            else:
                holder.add_typer(mod.app, name=name)
        group = _GROUPS[modules] = typer.main.get_command(holder)  # type: ignore[assignment]
    return group


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return _root_of(COMMANDS[cmd_name]).get_command(ctx, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=_LazyGroup,
    help="telbill — billing for telecom operators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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


def main() -> None:
    try:
        app()
    except TelbillError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
