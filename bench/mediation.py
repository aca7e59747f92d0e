"""Mediation throughput: file -> normalised, validated, guided records; then with persistence.

Generates (once, cached under bench/data/) a CSV of >= 2 million records for 20,000 subscribers,
then measures in the same run:
  1. the pure pipeline (read, normalise, validate, dedupe, guide) without persistence;
  2. the whole import into PostgreSQL (dedupe against stored records, correlation, COPY),
     in a scratch database dropped afterwards;
  3. a naive baseline on a slice: csv module, per-row processing, per-row INSERTs.
The last line reads: mediation: <N> records/s vs baseline <M> records/s = <R>x  (N = with persistence).
"""

from __future__ import annotations

import csv
import os
import resource
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers
import polars as pl
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import text
from sqlalchemy.orm import Session

from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.mediation.normalise import NumberBook
from telbill.mediation.pipeline import process_batch
from telbill.mediation.prefetch import prefetch
from telbill.mediation.readers import DEFAULT_BATCH, reader_for
from telbill.mediation.schema import INTERVAL_SCHEMA
from telbill.mediation.service import import_file
from telbill.mediation.sources import BUILTIN_SOURCES
from telbill.synth.cdrs import demo_subscribers, generate_cdrs

PG = os.environ.get("TELBILL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RECORDS = int(os.environ.get("TELBILL_BENCH_RECORDS", "2000000"))
BASELINE_SLICE = 20_000
DATA = Path(__file__).parent / "data"
START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
SOURCE = BUILTIN_SOURCES["telbill-csv"]
console = Console()


def dataset() -> tuple[Path, pl.DataFrame]:
    subs = demo_subscribers(20_000, seed=42)
    intervals = pl.DataFrame(
        [
            ("msisdn", s.msisdn, START - timedelta(days=365), None, i + 1, i // 2 + 1)
            for i, s in enumerate(subs)
        ],
        schema=INTERVAL_SCHEMA,
        orient="row",
    )
    path = DATA / f"mediation-{RECORDS}.csv"
    if path.exists():
        return path, intervals
    DATA.mkdir(parents=True, exist_ok=True)
    console.print(f"generating {RECORDS:,} records into {path} (cached for later runs)")
    base = generate_cdrs(subs, days=1, seed=7, start=START, fault_share="0.02", events_per_day=10)
    copies = []
    for k in range(-(-RECORDS // base.height)):
        copies.append(
            base.with_columns(
                pl.col("record_id") + f"-{k}",
                pl.col("charging_id") + f"-{k}",
                (pl.col("start_time").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False) + timedelta(days=k))
                .dt.to_string("%Y-%m-%d %H:%M:%S")
                .fill_null(pl.col("start_time")),
            )
        )
    pl.concat(copies).head(RECORDS).drop("fault").write_csv(path)
    return path, intervals


def pipeline_only(path: Path, intervals: pl.DataFrame, progress: Progress) -> tuple[int, float]:
    task = progress.add_task("pipeline (no persistence)", total=RECORDS)
    book = NumberBook(region="FR")
    started = time.perf_counter()
    n = 0
    for batch in prefetch(reader_for(SOURCE).batches(path, 1, 200_000)):  # reading overlaps processing
        process_batch(batch.staging, SOURCE, intervals, NOW, book)
        n += batch.staging.height + batch.rejects.height
        progress.update(task, completed=n)
    return n, time.perf_counter() - started


def scratch_db() -> str:
    name = f"telbill_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_db(name: str) -> None:
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a PostgreSQL backend on this host, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def with_persistence(path: Path, intervals: pl.DataFrame, db: str, progress: Progress) -> tuple[int, float]:
    url = PG.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{db}"
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    task = progress.add_task("import into PostgreSQL", total=RECORDS)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        progress.update(task, completed=done[0])

    with Session(engine) as session:
        pid = int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        session.commit()
        started, cpu0, server0 = time.perf_counter(), _client_cpu(), _backend_cpu(pid)
        result = import_file(
            session, TestClock(NOW), path, SOURCE, intervals, batch_size=DEFAULT_BATCH, progress=tick
        )
        session.commit()
        elapsed, cpu, server = (
            time.perf_counter() - started,
            _client_cpu() - cpu0,
            _backend_cpu(pid) - server0,
        )
    engine.dispose()
    t = result.totals
    n = t.records_in
    console.print(
        f"  CPU: client {cpu:.1f} s ({cpu / n * 1e6:.2f} µs/record), PostgreSQL backend {server:.1f} s"
        f" ({server / n * 1e6:.2f} µs/record); load average {os.getloadavg()[0]:.2f}"
    )
    console.print(
        f"  control totals: in {t.records_in:,} = accepted {t.accepted:,} + suspended {t.suspended:,}"
        f" + duplicates {t.duplicates:,} + dropped {t.dropped:,}"
    )
    return t.records_in, elapsed


def baseline(path: Path, intervals: pl.DataFrame, db: str, progress: Progress) -> tuple[int, float]:
    """What one writes first: csv module, per-row parsing and look-ups, one INSERT per row."""
    directory = {
        v: (s, a) for v, s, a in intervals.select("value", "subscription_id", "account_id").iter_rows()
    }
    task = progress.add_task("naive baseline", total=BASELINE_SLICE)
    conn = psycopg.connect(PG.rsplit("/", 1)[0] + f"/{db}")
    conn.execute(
        "CREATE TABLE naive_usage (record_id text PRIMARY KEY, served text, other text,"
        " start_time timestamptz, duration bigint, subscription_id bigint, account_id bigint)"
    )
    started = time.perf_counter()
    n = 0
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            n += 1
            _naive_row(conn, row, directory)
            if n % 1000 == 0:
                progress.update(task, completed=n)
            if n >= BASELINE_SLICE:
                break
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return n, elapsed


def _naive_row(conn: psycopg.Connection, row: dict[str, str], directory: dict[str, tuple[int, int]]) -> None:
    def e164(raw: str) -> str | None:
        try:
            num = phonenumbers.parse(raw if raw.startswith(("+", "0")) else "+" + raw, "FR")
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)[1:]

    try:
        start = datetime.strptime(row["start_time"], "%Y-%m-%d %H:%M:%S").astimezone(UTC)
        duration = int(row["duration_s"] or 0)
    except ValueError:
        return
    served = e164(row["served_msisdn"]) if row["served_msisdn"] else None
    other = e164(row["other_party"]) if row["other_party"] else None
    found = directory.get(served or "")
    if found is None or start > NOW or duration < 0:
        return
    conn.execute(
        "INSERT INTO naive_usage VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (row["record_id"], served, other, start, duration, *found),
    )


def main() -> None:
    console.print(f"load average at start: {os.getloadavg()[0]:.2f}")
    path, intervals = dataset()
    size = path.stat().st_size
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    db = scratch_db()
    try:
        with Progress(*columns, console=console) as progress:
            n1, t1 = pipeline_only(path, intervals, progress)
            n2, t2 = with_persistence(path, intervals, db, progress)
            n3, t3 = baseline(path, intervals, db, progress)
    finally:
        drop_db(db)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    r1, r2, r3 = round(n1 / t1), round(n2 / t2), round(n3 / t3)
    console.print(f"file: {n1:,} records, {size / 1e6:.0f} MB; peak RSS {peak_mb} MB; {os.cpu_count()} CPUs")
    console.print(f"pipeline without persistence: {r1:,} records/s ({t1:.1f} s)")
    console.print(f"import into PostgreSQL:       {r2:,} records/s ({t2:.1f} s)")
    console.print(f"naive baseline ({n3:,} rows):  {r3:,} records/s ({t3:.1f} s)")
    print(f"mediation: {r2} records/s vs baseline {r3} records/s = {r2 / r3:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
