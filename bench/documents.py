"""Benchmark: PDF/A-3b invoices with embedded Factur-X per second.

Measured: `render_many` on a process pool (one long-lived Typst compiler per worker), pool start-up
included. Baseline, in the same run: a new `typst.Compiler` for every document, in one process.
Both produce the same finished documents (Typst PDF/A-3b + Factur-X XML + XMP).

    .venv/bin/python bench/documents.py [--count 600] [--workers 2] [--baseline-count 120]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from datetime import UTC, datetime

from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.documents import CallRecord, TypstRenderer, render_invoice_pdf, render_many
from telbill.invoicing.documents.samples import sample_calls, varied_invoices

CALL_LIST_EVERY = 20  # one document in 20 asks for its detailed call list (2-3 pages)


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the pool's workers, once shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def with_calls(contents: list[InvoiceContent]) -> dict[str, list[CallRecord]]:
    return {c.number: sample_calls(90, seed=i) for i, c in enumerate(contents) if i % CALL_LIST_EVERY == 0}


def measure_pool(count: int, workers: int) -> tuple[float, float, int]:
    """Documents per second (wall clock) and CPU milliseconds per document."""
    contents = varied_invoices(count)
    calls = with_calls(contents)
    cpu, started = cpu_seconds(), time.perf_counter()
    produced = sum(1 for _ in render_many(contents, workers=workers, call_lists=calls))
    elapsed = time.perf_counter() - started
    assert produced == count
    return produced / elapsed, (cpu_seconds() - cpu) * 1000 / produced, len(calls)


def measure_baseline(count: int) -> tuple[float, float]:
    contents = varied_invoices(count, seed=99)
    calls = with_calls(contents)
    cpu, started = cpu_seconds(), time.perf_counter()
    for content in contents:
        render_invoice_pdf(content, calls.get(content.number), renderer=TypstRenderer())
    return count / (time.perf_counter() - started), (cpu_seconds() - cpu) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-count", type=int, default=120)
    args = parser.parse_args()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average before: {load}")
    rate, cpu_ms, n_calls = measure_pool(args.count, args.workers)
    print(
        f"pool: {args.count} documents ({n_calls} with a 90-record call list), {args.workers} workers: "
        f"{rate:.1f} docs/s, {cpu_ms:.1f} ms CPU per document"
    )
    baseline, base_cpu_ms = measure_baseline(args.baseline_count)
    print(
        f"baseline: {args.baseline_count} documents, a new compiler per document, one process: "
        f"{baseline:.1f} docs/s, {base_cpu_ms:.1f} ms CPU per document"
    )
    print(
        f"CPU-bound capacity of {args.workers} idle cores at the measured CPU cost: "
        f"{args.workers * 1000 / cpu_ms:.0f} docs/s (the wall-clock rate is lower when others share the CPUs)"
    )
    print(f"documents: {rate:.0f} docs/s vs baseline {baseline:.0f} docs/s = {rate / baseline:.1f}x")


if __name__ == "__main__":
    main()
