"""`telbill synth`: a synthetic operator (catalog, accounts, subscriptions), deterministic for a seed."""

from __future__ import annotations

from pathlib import Path

import typer

from telbill.cli.context import console, ctx_of
from telbill.cli.progress import progress_bar
from telbill.cli.summary import print_operator_summary
from telbill.db.migrate import upgrade
from telbill.synth.service import load_synthetic_operator

app = typer.Typer(help="Synthetic operator data.", invoke_without_command=True)


@app.callback()
def synth(
    ctx: typer.Context,
    accounts: int = typer.Option(1000, "--accounts", min=1, max=1_000_000, help="How many billing accounts."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same operator."),
    catalog_file: Path | None = typer.Option(
        None, "--catalog", help="Catalog to load instead of the built-in one."
    ),
) -> None:
    """Create a synthetic operator in the database: catalog, accounts in hierarchies, subscriptions."""
    if ctx.invoked_subcommand is not None:
        return
    run_synth(ctx, accounts, seed, catalog_file)


def run_synth(ctx: typer.Context, accounts: int, seed: int, catalog_file: Path | None = None) -> None:
    cli = ctx_of(ctx)
    upgrade(cli.engine)
    with progress_bar() as bar, cli.unit_of_work() as session:
        tasks = {
            "catalog": bar.add_task("catalog", total=1),
            "accounts": bar.add_task("accounts", total=accounts),
            "subscriptions": bar.add_task("subscriptions", total=None),
        }

        def tick(stage: str, n: int) -> None:
            bar.advance(tasks[stage], n)
            if stage == "subscriptions":
                bar.update(tasks[stage], total=n)

        report = load_synthetic_operator(
            session,
            cli.clock(session),
            accounts_count=accounts,
            seed=seed,
            catalog_path=catalog_file,
            progress=tick,
        )
    if report.rejects:
        console.print(f"[yellow]{len(report.rejects)} planned subscriptions were refused:[/]")
        for line in report.rejects[:10]:
            console.print(f"  {line}")
    with cli.unit_of_work() as session:
        print_operator_summary(session)


def _add_subcommands() -> None:
    from telbill.cli.mediate import add_synth_cdrs

    add_synth_cdrs(app)


_add_subcommands()
