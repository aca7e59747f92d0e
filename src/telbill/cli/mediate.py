"""`telbill mediate PATH...` and `telbill suspense ...`: import usage files, work the suspense."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from telbill.cli.context import CliContext, console, ctx_of
from telbill.core.errors import ValidationFailed
from telbill.mediation import repository as repo
from telbill.mediation import service, suspense
from telbill.mediation.model import MediationRun
from telbill.mediation.normalise import NumberBook
from telbill.mediation.sources import SourceConfig, load_sources, resolve_source

suspense_app = typer.Typer(
    help="Records that did not become usage: list, show, correct, recycle, drop.", no_args_is_help=True
)
PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".filepart")


class _ImportByDefault(TyperGroup):
    """`telbill mediate PATH...` imports files; `telbill mediate watch DIR` polls a directory."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["import", *args]
        return super().parse_args(ctx, args)


mediate_app = typer.Typer(
    cls=_ImportByDefault,
    help="Import usage files (mediate PATH...) or watch a directory (mediate watch DIR).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(mediate_app, name="mediate")
    app.add_typer(suspense_app, name="suspense")


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            found.append(p)
        else:
            raise ValidationFailed(f"{p} does not exist")
    return found


@mediate_app.command("import")
def mediate_cmd(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or directories of usage files."),
    source: str | None = typer.Option(None, "--source", help="Source name (default: by file extension)."),
    sources_file: Path | None = typer.Option(None, "--sources", help="YAML file declaring sources."),
    batch_size: int = typer.Option(100_000, "--batch-size", min=1),
) -> None:
    """Import usage files, each once; finish with a reconciliation table."""
    cli = ctx_of(ctx)
    sources = load_sources(sources_file)
    _mediate(cli, _files(paths), sources, source, batch_size)


def _mediate(
    cli: CliContext, files: list[Path], sources: dict[str, SourceConfig], source: str | None, batch_size: int
) -> list[service.FileResult]:
    """One run over the files (a transaction per file), partial expiry, the reconciliation table."""
    with cli.unit_of_work() as session:
        intervals = service.load_intervals(session)
        run_id = service.start_run(session, cli.clock(session)).id
    results = []
    books: dict[str, NumberBook] = {}  # one number memo per numbering plan for the whole run
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("files", total=len(files))
        for path in files:
            cfg = resolve_source(sources, source, path)
            progress.update(task, description=f"{path.name}")
            with cli.unit_of_work() as session:
                run = session.get(MediationRun, run_id)
                book = books.setdefault(cfg.country, NumberBook(region=cfg.country))
                results.append(
                    service.import_file(
                        session,
                        cli.clock(session),
                        path,
                        cfg,
                        intervals,
                        run=run,
                        book=book,
                        batch_size=batch_size,
                    )
                )
            progress.advance(task)
    with cli.unit_of_work() as session:
        clock = cli.clock(session)
        expired = service.expire_partials(session, clock, sources)
        run = session.get(MediationRun, run_id)
        assert run is not None
        run.files_skipped = sum(r.status == "skipped" for r in results)
        service.finish_run(session, clock, run)
        console.print(_reconciliation(results, run))
    if expired:
        console.print(f"{expired} partial records waited too long and were suspended (MISSING_PARTIAL)")
    return results


@mediate_app.command("watch")
def watch_cmd(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="Directory the network elements drop files into."),
    source: str | None = typer.Option(None, "--source", help="Source name (default: by file extension)."),
    sources_file: Path | None = typer.Option(None, "--sources", help="YAML file declaring sources."),
    interval: float = typer.Option(10.0, "--interval", min=0.1, help="Seconds between two looks."),
    once: bool = typer.Option(False, "--once", help="Look once, import what is there, and stop."),
    move_to: Path | None = typer.Option(
        None, "--move-to", help="Move imported (and already imported) files here; default: leave them."
    ),
    rejected_to: Path | None = typer.Option(None, "--rejected-to", help="Move rejected files here."),
    batch_size: int = typer.Option(100_000, "--batch-size", min=1),
) -> None:
    """Poll a directory and import each new file once (by content hash), with a table per look."""
    if not directory.is_dir():
        raise ValidationFailed(f"{directory} is not a directory")
    cli = ctx_of(ctx)
    sources = load_sources(sources_file)
    seen: set[tuple[str, int, int]] = set()  # (name, size, mtime) looked at already in this process
    while True:
        fresh = [p for p in _ready_files(directory) if _stamp(p) not in seen]
        if fresh:
            for result, path in zip(_mediate(cli, fresh, sources, source, batch_size), fresh, strict=True):
                seen.add(_stamp(path))
                _file_away(path, result.status, move_to, rejected_to)
        elif once:
            console.print(f"no new files in {directory}")
        if once:
            return
        time.sleep(interval)


def _ready_files(directory: Path) -> list[Path]:
    """Files a writer has finished: not hidden, not named as still being written."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(PARTIAL_SUFFIXES)
    )


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return path.name, st.st_size, st.st_mtime_ns


def _file_away(path: Path, status: str, move_to: Path | None, rejected_to: Path | None) -> None:
    target = rejected_to if status == "rejected" else move_to
    if target is None:
        return
    target.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target / path.name))


def _reconciliation(results: list[service.FileResult], run: MediationRun) -> Table:
    table = Table(title=f"Mediation run {run.id}: records in = accepted + suspended + duplicates + dropped")
    for name in ("file", "source", "status", "in", "accepted", "suspended", "duplicates", "dropped", "check"):
        table.add_column(name, justify="right" if name not in ("file", "source", "status") else "left")
    for r in results:
        t = r.totals
        ok = t.records_in == t.accepted + t.suspended + t.duplicates + t.dropped
        status = r.status if r.status != "rejected" else f"rejected: {r.reason}"
        table.add_row(
            r.name,
            r.source,
            status,
            *map(str, (t.records_in, t.accepted, t.suspended, t.duplicates, t.dropped)),
            "✓" if ok else "✗",
        )
    table.add_section()
    totals = (run.records_in, run.accepted, run.suspended, run.duplicates, run.dropped)
    table.add_row(
        "total", "", f"{run.files} imported", *map(str, totals), "✓" if totals[0] == sum(totals[1:]) else "✗"
    )
    for r in results:
        if r.status != "imported" and r.message:
            table.caption = (table.caption or "") + f"{r.name}: {r.message}\n"
    return table


@suspense_app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option("open", "--status", help="open, recycled, dropped or all."),
    reason: str | None = typer.Option(None, "--reason"),
    source: str | None = typer.Option(None, "--source"),
    limit: int = typer.Option(50, "--limit", min=1),
) -> None:
    """Suspense records, and a count by status and reason."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        records = suspense.list_records(
            session, status=None if status == "all" else status, reason=reason, source=source, limit=limit
        )
        table = Table(title="Suspense")
        for name in ("id", "status", "reason", "source", "file", "line", "record id", "message"):
            table.add_column(name)
        for r in records:
            table.add_row(
                str(r.id),
                r.status,
                r.reason,
                r.source,
                str(r.file_id),
                str(r.line_no),
                r.record_id or "",
                r.message,
            )
        console.print(table)
        counts = Table(title="By status and reason")
        for name in ("status", "reason", "count"):
            counts.add_column(name)
        for st, rsn, n in suspense.summary(session):
            counts.add_row(st, rsn, str(n))
        console.print(counts)


@suspense_app.command("show")
def show_cmd(ctx: typer.Context, suspense_id: int) -> None:
    """One record: its reason, where it came from, its raw content and corrections."""
    with ctx_of(ctx).unit_of_work() as session:
        r = suspense.get_record(session, suspense_id)
        file = repo.get_file(session, r.file_id)
        console.print(f"[bold]#{r.id}[/] {r.status} {r.reason}: {r.message}")
        console.print(
            f"from {file.name if file else r.file_id} line {r.line_no}"
            f" (source {r.source}), attempts {r.attempts}"
        )
        fields = suspense.record_fields(r)
        console.print_json(json.dumps(fields) if fields is not None else json.dumps({"raw": r.raw}))


@suspense_app.command("correct")
def correct_cmd(
    ctx: typer.Context, suspense_id: int, changes: list[str] = typer.Argument(..., help="field=value")
) -> None:
    """Edit fields (field=value; field= clears it) before recycling."""
    parsed: dict[str, str | None] = {}
    for item in changes:
        if "=" not in item:
            raise ValidationFailed(f"expected field=value, got {item!r}")
        key, value = item.split("=", 1)
        parsed[key.strip()] = value or None
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        suspense.correct(session, cli.clock(session), suspense_id, parsed)
    console.print(f"corrected #{suspense_id}; recycle it with `telbill suspense recycle {suspense_id}`")


@suspense_app.command("recycle")
def recycle_cmd(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(
        None, help="Suspense ids (default: every open record matching the filters)."
    ),
    reason: str | None = typer.Option(None, "--reason"),
    source: str | None = typer.Option(None, "--source"),
) -> None:
    """Send open records through the pipeline again."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        intervals = service.load_intervals(session)
        result = suspense.recycle(
            session, cli.clock(session), intervals, ids=ids or None, reason=reason, source=source
        )
    console.print(f"recycled {result.recycled}, still open {result.still_open}, dropped {result.dropped}")


@suspense_app.command("drop")
def drop_cmd(ctx: typer.Context, ids: list[int] = typer.Argument(..., help="Suspense ids.")) -> None:
    """Give up on records: they stay in suspense, marked dropped."""
    cli = ctx_of(ctx)
    with cli.unit_of_work() as session:
        n = suspense.drop(session, cli.clock(session), ids)
    console.print(f"dropped {n}")


def add_synth_cdrs(synth_app: typer.Typer) -> None:
    """Adds `cdrs` to the `telbill synth` group (called by cli/synth.py)."""
    synth_app.command("cdrs")(synth_cdrs_cmd)


def synth_cdrs_cmd(
    ctx: typer.Context,
    days: int = typer.Option(1, "--days", min=1),
    seed: int = typer.Option(1, "--seed"),
    fmt: str = typer.Option("csv", "--format", help="csv, jsonl or ber."),
    output: Path = typer.Option(Path("var/cdrs"), "--output"),
    fault_share: str = typer.Option("0.02", "--fault-share"),
    start: str = typer.Option("2026-01-01", "--start", help="First day (UTC)."),
    subscribers: int = typer.Option(
        0, "--subscribers", help="Use N made-up subscribers instead of the database's."
    ),
) -> None:
    """Synthetic traffic for the subscribers in the database, one file per day."""
    from telbill.synth.cdrs import demo_subscribers, generate_cdrs, write_cdrs

    cli: CliContext = ctx_of(ctx)
    if subscribers:
        subs: object = demo_subscribers(subscribers, seed)
    else:
        with cli.unit_of_work() as session:
            subs = service.load_intervals(session)
    first = datetime.fromisoformat(start).replace(tzinfo=UTC)
    for day in range(days):
        frame = generate_cdrs(
            subs,
            days=1,
            seed=seed * 1000 + day,
            start=first + timedelta(days=day),
            fault_share=fault_share,
            fmt=fmt,
        )  # type: ignore[arg-type]
        path = write_cdrs(frame, output, fmt, stem=f"cdrs-{(first + timedelta(days=day)).date()}")
        console.print(f"{path}: {frame.height} records")
