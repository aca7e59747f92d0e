"""Rating benchmark: 5 M voice records against 5,000 and 50,000 prefixes, two time bands, 60/60.

The baseline is the naive per-record loop (tuples, a dict lookup per prefix length from the
longest, integer arithmetic, the same band split), measured on a slice in the same run. A streamed
run in a child process measures peak RSS when rating a Parquet file in bounded batches; the file
is generated once into bench/data/ (gitignored) and reused.

    .venv/bin/python bench/rating.py [--records 5000000] [--slice 100000] [--stream 10000000 ...]
                                     [--batch-size 500000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import Progress

from telbill.catalog.tariffs import RatingCatalog
from telbill.rating.batch import rate_stream
from telbill.rating.engine import rate
from telbill.rating.files import Writer, read_usage
from telbill.rating.reference import charged_by_slot
from telbill.rating.tariff import CompiledRating, compile_rating

console = Console(width=160)
START = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
SETS = 50


def catalog(n_prefixes: int, seed: int = 7) -> tuple[CompiledRating, list[str]]:
    """n prefixes of 3–8 digits spread over 50 destination sets; peak/off-peak; 60/60 increments."""
    rng = random.Random(seed)
    prefixes: set[str] = set()
    while len(prefixes) < n_prefixes:
        prefixes.add(str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=rng.randint(2, 7))))
    ordered = sorted(prefixes)
    sets = [{"code": f"d{i}", "prefixes": ordered[i::SETS]} for i in range(SETS)]
    rates = [
        {"destination_set": f"d{i}", "band": band, "price": f"0.{(i % 9) + 1}{k}", "increments": "60/60"}
        for i in range(SETS)
        for k, band in enumerate(("peak", "offpeak"))
    ]
    rates.append({"price": "0.50", "increments": "60/60"})  # any other destination
    data = {
        "destination_sets": sets,
        "time_bands": [
            {
                "code": "week",
                "timezone": "Europe/Paris",
                "rules": [
                    {"band": "offpeak", "days": ["all"]},
                    {"band": "peak", "days": ["weekdays"], "hours": ["08:00-20:00"], "priority": 1},
                ],
            }
        ],
        "tariffs": [
            {
                "code": "bench",
                "versions": [
                    {
                        "version": 1,
                        "effective_from": "2026-01-01",
                        "currency": "EUR",
                        "time_bands": "week",
                        "rates": rates,
                    }
                ],
            }
        ],
    }
    return compile_rating(RatingCatalog.model_validate(data)), ordered


def usage(n: int, prefixes: list[str], seed: int = 11, offset: int = 0) -> pl.DataFrame:
    """n voice records over March 2026 (records offset.. of an endless sequence): numbers from the
    prefix table, durations 0–20 min."""
    table = pl.Series(prefixes, dtype=pl.String)
    i = pl.int_range(offset, offset + n, dtype=pl.Int64)
    h = i.hash(seed)
    return pl.select(
        record_id=i.cast(pl.String),
        usage_type=pl.lit(pl.Series(["voice"])).gather(i % 1),
        other_party=pl.concat_str(
            pl.lit(table).gather((h % len(prefixes)).cast(pl.Int64)),
            (i.hash(seed + 1) % 10**7).cast(pl.String).str.zfill(7),
        ).str.slice(0, 12),
        start_time=pl.from_epoch(pl.lit(START) + (i.hash(seed + 2) % (31 * 86400)).cast(pl.Int64), "s")
        .dt.replace_time_zone("UTC")
        .dt.cast_time_unit("us"),
        duration_s=(i.hash(seed + 3) % 1200).cast(pl.Int64),
        account_id=(i % 100_000).cast(pl.String),
    )


def baseline(rating: CompiledRating, rows: list[tuple[str, int, int]]) -> list[int]:
    """The naive loop: per record, longest prefix by dict per length, band split, integer pricing."""
    v = rating.tariffs["bench"].versions[0]
    index = v.prefix_index["voice"]
    lengths = sorted(index.by_length, reverse=True)
    bounds, bands = v.calendar.timeline(v.timezone, min(r[1] for r in rows), max(r[1] + r[2] for r in rows))
    band_ids = [v.band_ids[b] for b in bands]
    out = []
    for number, start, dur in rows:
        sid = -1
        for n in lengths:
            sid = index.by_length[n].get(number[:n], -1)
            if sid >= 0:
                break
        local = v.set_local.get(sid, 0)
        i0 = bisect_right(bounds, start) - 1
        i1 = bisect_right(bounds, start + dur - 1) - 1 if dur > 0 else i0
        amount, charged, rate = 0, 0, None
        for k in range(i0, i1 + 1):
            a = 0 if k == i0 else bounds[k] - start
            b = dur if k == i1 else min(bounds[k + 1] - start, dur)
            part_rate = rating.rates[v.lookup[(0, 0, local, band_ids[k])]]
            rate = rate or part_rate
            for slot, c in zip(part_rate.slots, charged_by_slot(part_rate, a, b), strict=True):
                amount += c * slot.per_unit
                charged += c
        total = max(rate.connect + amount, rate.minimum) if charged else 0
        quantum = 10 ** (6 - rate.decimals) * rate.scale
        out.append((2 * total + quantum) // (2 * quantum) * 10 ** (6 - rate.decimals))
    return out


@dataclass
class Run:
    records: int
    engine_s: float
    engine_cpu: float
    slice_n: int
    base_s: float
    base_cpu: float


def measure(label: str, n_prefixes: int, records: int, slice_n: int, progress: Progress) -> Run:
    task = progress.add_task(f"{label}: compile + generate", total=4)
    rating, prefixes = catalog(n_prefixes)
    batch = usage(records, prefixes)
    progress.update(task, advance=1, description=f"{label}: rate {records:,} records")
    tariff = rating.tariffs["bench"]
    rate(tariff, batch.head(1000))  # warm-up
    _ = tariff.versions[0].prefix_index["voice"].by_length  # built on first use: not on the baseline's clock
    t0, c0 = time.perf_counter(), time.process_time()
    result = rate(tariff, batch)
    engine_s, engine_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.rated.height == records, result.rejects.head()
    progress.update(task, advance=1, description=f"{label}: baseline on {slice_n:,} records")
    part = batch.head(slice_n)
    rows = list(
        zip(
            part["other_party"].to_list(),
            part["start_time"].dt.epoch("s").to_list(),
            part["duration_s"].to_list(),
            strict=True,
        )
    )
    t0, c0 = time.perf_counter(), time.process_time()
    naive = baseline(rating, rows)
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    progress.update(task, advance=1, description=f"{label}: check")
    assert naive == result.rated.head(slice_n)["amount_micros"].to_list(), "baseline and engine disagree"
    progress.update(task, advance=1, description=f"{label}: done")
    return Run(records, engine_s, engine_cpu, slice_n, base_s, base_cpu)


def stream_child(path: str, output: str, batch_size: int) -> None:
    """Rate a Parquet file batch by batch into another; print records and peak RSS (MiB)."""
    rating, _ = catalog(50_000)
    out = Writer(output)
    n = 0
    t0 = time.perf_counter()
    for result in rate_stream(rating, read_usage(path, batch_size), tariff="bench"):
        out.write(result.rated)
        n += result.rated.height
    out.close(pl.DataFrame())
    rss = peak_rss_mib()
    print(f"{n} {rss} {time.perf_counter() - t0:.1f}")


def peak_rss_mib() -> int:
    """Peak resident memory of this process image (VmHWM: unlike ru_maxrss, not inherited from the
    parent that spawned it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def usage_file(records: int, batch_size: int) -> Path:
    """bench/data/rating-usage-<records>.parquet, generated once (a chunk at a time) and reused."""
    path = Path(__file__).parent / "data" / f"rating-usage-{records}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(exist_ok=True)
    _, prefixes = catalog(50_000)
    partial = path.with_suffix(".partial")
    writer: pq.ParquetWriter | None = None
    for offset in range(0, records, 1_000_000):
        table = usage(min(1_000_000, records - offset), prefixes, seed=23, offset=offset).to_arrow()
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table, row_group_size=batch_size)
    if writer is not None:
        writer.close()
    partial.rename(path)
    return path


def streamed(records: int, batch_size: int) -> str:
    path = usage_file(records, batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rated.parquet"
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--stream-child",
                str(path),
                str(out),
                "--batch-size",
                str(batch_size),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    n, rss, secs = done.stdout.split()
    return (
        f"streamed {int(n):,} records from Parquet in batches of {batch_size:,}: peak RSS {rss} MiB, "
        f"{secs} s ({int(n) / float(secs):,.0f} records/s, reading and writing Parquet included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--slice", type=int, default=100_000)
    parser.add_argument("--stream", type=int, nargs="*", default=[])
    parser.add_argument("--batch-size", type=int, default=500_000)
    parser.add_argument("--stream-child", nargs=2, metavar=("INPUT", "OUTPUT"))
    args = parser.parse_args()
    if args.stream_child:
        stream_child(*args.stream_child, args.batch_size)
        return
    load_before = os.getloadavg()[0]
    results: dict[int, Run] = {}
    with Progress(console=console, transient=True) as progress:
        for n_prefixes in (5_000, 50_000):
            results[n_prefixes] = measure(
                f"{n_prefixes:,} prefixes", n_prefixes, args.records, args.slice, progress
            )
    for n_prefixes, run in results.items():
        engine, base = run.records / run.engine_s, run.slice_n / run.base_s
        console.print(
            f"{n_prefixes:>6,} prefixes: engine {engine:,.0f} records/s "
            f"(CPU {run.records / run.engine_cpu:,.0f}/s), "
            f"baseline {base:,.0f} records/s (CPU {run.slice_n / run.base_cpu:,.0f}/s) = {engine / base:.1f}x"
        )
    for size in args.stream:
        console.print(streamed(size, args.batch_size))
    console.print(
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} CPUs"
    )
    runs = list(results.values())
    engine = sum(r.records for r in runs) / sum(r.engine_s for r in runs)
    base = sum(r.slice_n for r in runs) / sum(r.base_s for r in runs)
    print(f"rating: {engine:.0f} records/s vs baseline {base:.0f} records/s = {engine / base:.1f}x")


if __name__ == "__main__":
    main()
