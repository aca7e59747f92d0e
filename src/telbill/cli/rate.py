"""`telbill rate`: price a usage file with the catalog's tariffs, no database (what-if pricing)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from telbill.cli.context import console
from telbill.core.errors import NotFound, ValidationFailed
from telbill.rating.batch import rate_stream
from telbill.rating.explain import explain as explain_record
from telbill.rating.files import Writer, load_rating, read_usage
from telbill.rating.schema import conform

app = typer.Typer(
    help="Rate usage with the catalog's tariffs.", invoke_without_command=True, no_args_is_help=False
)

CATALOG = typer.Option(..., "--catalog", help="Catalog YAML with a `rating:` section.")
INPUT = typer.Option(..., "--input", help="Normalised usage, .csv or .parquet.")
TARIFF = typer.Option(
    None, "--tariff", help="Tariff code for every record (default: the tariff_code column)."
)


@app.callback()
def rate(
    ctx: typer.Context,
    catalog: Path = typer.Option(None, "--catalog", help="Catalog YAML with a `rating:` section."),
    input: Path = typer.Option(None, "--input", help="Normalised usage, .csv or .parquet."),
    output: Path = typer.Option(None, "--output", help="Rated records, .csv or .parquet."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Where unrated records go (default: next to output)."
    ),
    tariff: str | None = TARIFF,
    batch_size: int = typer.Option(
        1_000_000, "--batch-size", min=1, help="Records per batch (bounds memory)."
    ),
) -> None:
    """Rate a usage file into a rated file; records that cannot be rated go to the rejects file."""
    if ctx.invoked_subcommand is not None:
        return
    if catalog is None or input is None or output is None:
        raise ValidationFailed("telbill rate needs --catalog, --input and --output")
    rating = load_rating(catalog)
    if tariff is not None:
        rating.tariff(tariff)
    rejects = rejects or output.with_name(f"{output.stem}.rejects{output.suffix}")
    rated_out, rejects_out = Writer(output), Writer(rejects)
    revenue: dict[str, int] = {}
    with Progress(
        TextColumn("rating"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("rate", total=None)
        for result in rate_stream(rating, read_usage(input, batch_size), tariff=tariff):
            rated_out.write(result.rated)
            rejects_out.write(result.rejects)
            for cur, amount in (
                result.rated.group_by("currency").agg(pl.col("amount_micros").sum()).iter_rows()
            ):
                revenue[cur] = revenue.get(cur, 0) + amount
            progress.advance(task, result.rated.height + result.rejects.height)
    rated_out.close(pl.DataFrame())
    rejects_out.close(pl.DataFrame())
    totals = (
        ", ".join(f"{m // 1_000_000}.{m % 1_000_000:06d} {c}" for c, m in sorted(revenue.items()))
        or "nothing"
    )
    console.print(
        f"rated {rated_out.rows:,} records into {output} ({totals}); "
        f"{rejects_out.rows:,} rejects into {rejects}"
    )


@app.command("explain")
def explain(
    ctx: typer.Context,
    ident: str | None = typer.Argument(
        None, help="A stored usage record id (or r:ID, a rated usage id): explained from the database."
    ),
    catalog: Path | None = typer.Option(None, "--catalog", help="Catalog YAML with a `rating:` section."),
    input: Path | None = typer.Option(None, "--input", help="Normalised usage, .csv or .parquet."),
    record_id: str | None = typer.Option(None, "--record-id", help="The record of the file to explain."),
    tariff: str | None = TARIFF,
) -> None:
    """Show step by step how one record is priced: a stored one (ID) or one of a usage file."""
    if ident is not None:
        from telbill.cli.rerate import explain_cmd

        explain_cmd(ctx, ident)
        return
    if catalog is None or input is None or record_id is None:
        raise ValidationFailed("telbill rate explain needs an ID, or --catalog, --input and --record-id")
    rating = load_rating(catalog)
    for batch in read_usage(input):
        found = conform(batch).filter(pl.col("record_id") == record_id)
        if found.height:
            record = found.row(0, named=True)
            code = (
                tariff
                or record.get("tariff_code")
                or (next(iter(rating.tariffs)) if len(rating.tariffs) == 1 else "")
            )
            for step in explain_record(rating.tariff(code), record):
                console.print(step, highlight=False)
            return
    raise NotFound(f"no record {record_id!r} in {input}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rate")
