"""A bill run shared by worker processes (PostgreSQL), started while the plan is still being made.

Computing an invoice is Python, and one interpreter runs one thread at a time: workers are
processes, each with its own engine and connection, sharing the runs' pending items through
`repository.claim` (SKIP LOCKED). The parent opens the run, starts the workers, then plans in
committed steps of account-id ranges (`run.plan_items` with a checkpoint) while the workers bill
the first ones; it relays each batch's result to its caller and closes the runs at the end.

A worker stops when a claim finds nothing after the plan was complete (the flag is read before
the claim, so an item committed by the last step cannot be missed), when its parent is gone
(killed: the next run resumes), or on an error, which it reports; the others go on and the
parent raises it once they are done. Everything a worker did is in committed batches, so a kill
at any point leaves the run resumable (`run.resume_runs`) with no invoice written twice.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telbill.billing import repository
from telbill.billing.loading import BatchSources
from telbill.billing.run import (
    PLAN_CHUNK,
    BatchResult,
    BillRunOptions,
    finish_run,
    open_run,
    plan_items,
    resume_runs,
)
from telbill.core.clock import Clock
from telbill.core.errors import TelbillError
from telbill.db.engine import create_db_engine

_IDLE = 0.02  # seconds a worker waits for the plan's next step when it found nothing to claim
_SMALLEST = 100  # the smallest claim near the end of a run


class WorkerFailed(TelbillError):
    """A bill-run worker stopped on an error (its committed batches stand; rerun to finish)."""


@dataclass(frozen=True)
class _Job:
    url: str
    clock: Clock
    run_ids: tuple[int, ...]
    options: BillRunOptions
    sources: BatchSources | None
    planned: Event
    results: Any  # multiprocessing queue: BatchResult, ("error", text) or ("done", name)
    parent: int
    claim: Any  # multiprocessing Value: how many items the next claim takes (`ParallelRun._pace`)


def _work(job: _Job, name: str) -> None:
    """One worker process: batch after batch until nothing is left, its parent is gone or an
    error stops it."""
    from telbill.billing import run  # looked up at each batch: a test may wrap it

    engine = create_db_engine(job.url)
    try:
        while os.getppid() == job.parent:
            complete = job.planned.is_set()  # before the claim: see the module's docstring
            with Session(engine) as session:
                batch = run.process_batch(
                    session, job.clock, job.run_ids, job.options, job.sources, worker=name,
                    limit=job.claim.value,
                )  # fmt: skip
                session.commit()
            if batch.claimed:
                job.results.put(batch)
            elif complete:
                break
            else:
                time.sleep(_IDLE)
    except BaseException as exc:  # reported to the parent, which raises it
        job.results.put(("error", f"worker {name}: {exc}\n{traceback.format_exc()}"))
    finally:
        engine.dispose()
        job.results.put(("done", name))


@dataclass
class ParallelRun:
    """Open (or resume) the runs due at `at` and start `workers` processes on them; then `plan`
    and `wait`. Use it as a context manager: leaving it stops workers still running."""

    engine: Engine
    clock: Clock
    at: datetime
    options: BillRunOptions
    workers: int
    sources: BatchSources | None = None
    trigger: str = "cli"
    run_ids: list[int] = field(default_factory=list)
    resumed_pending: int = 0
    _run_id: int = 0
    _processes: list[Any] = field(default_factory=list)
    _planned: Any = None
    _results: Any = None
    _claim: Any = None
    _to_bill: int | None = None  # resumed + planned items, once the plan is complete
    _billed: int = 0  # items the workers reported

    def __enter__(self) -> ParallelRun:
        if self.engine.dialect.name != "postgresql":
            raise TelbillError("worker processes share a bill run on PostgreSQL only (SQLite has one writer)")
        with Session(self.engine) as session:
            resumed = resume_runs(session)
            self.resumed_pending = sum(repository.pending_left(session, r) for r in resumed)
            self._run_id = open_run(session, self.clock, self.at, self.trigger).id
            session.commit()
        self.run_ids = [*resumed, self._run_id]
        context = mp.get_context("fork")  # the workers share the parent's imports and sources
        self._planned, self._results = context.Event(), context.Queue()
        self._claim = context.Value("i", self.options.batch_size, lock=False)
        job = _Job(
            url=self.engine.url.render_as_string(hide_password=False),
            clock=self.clock,
            run_ids=tuple(self.run_ids),
            options=self.options,
            sources=self.sources,
            planned=self._planned,
            results=self._results,
            parent=os.getpid(),
            claim=self._claim,
        )
        self.engine.dispose()  # no connection of the parent's may be shared with a child
        self._processes = [
            context.Process(target=_work, args=(job, f"w{i}"), name=f"bill-run-w{i}", daemon=True)
            for i in range(self.workers)
        ]
        for process in self._processes:
            process.start()
        return self

    def plan(self, on_planned: Callable[[int], None] | None = None, chunk: int = PLAN_CHUNK) -> int:
        """Plan the new run in committed steps of `chunk` account ids (the workers start on the
        first); `on_planned` hears each step's count. The count planned."""
        with Session(self.engine) as session:
            run = repository.get_run(session, self._run_id)
            assert run is not None

            def step(n: int) -> None:
                session.commit()
                if on_planned is not None:
                    on_planned(n)

            planned = plan_items(session, run, checkpoint=step, chunk=chunk)
            session.commit()
        self._to_bill = self.resumed_pending + planned
        self._pace()
        self._planned.set()
        return planned

    def _pace(self) -> None:
        """Near the end, smaller claims: the run ends when its last batch does, and a full batch
        claimed last would keep one worker busy while the others have nothing left. Each claim
        takes at most a share of what is left (half of it split between the workers)."""
        if self._to_bill is not None:
            share = max(_SMALLEST, (self._to_bill - self._billed) // (2 * self.workers))
            self._claim.value = min(self.options.batch_size, share)

    def wait(self, on_batch: Callable[[BatchResult], None] | None = None) -> BatchResult:
        """Relay batch results until every worker is done, close the runs with nothing pending,
        and return the total; a worker's error is raised once all have stopped."""
        total, errors, running = (
            BatchResult(),
            [],
            {p.name.removeprefix("bill-run-") for p in self._processes},
        )
        while running:
            try:
                message = self._results.get(timeout=0.5)
            except queue.Empty:
                if not any(p.is_alive() for p in self._processes):  # killed without a word
                    errors += [f"worker {p.name} ended with exit code {p.exitcode}" for p in self._processes
                               if p.exitcode]  # fmt: skip
                    break
                continue
            if isinstance(message, BatchResult):
                total.add(message)
                self._billed += message.claimed
                self._pace()
                if on_batch is not None:
                    on_batch(message)
            elif message[0] == "error":
                errors.append(message[1])
            else:
                running.discard(message[1])
        for process in self._processes:
            process.join()
        with Session(self.engine) as session:
            for run_id in self.run_ids:
                finish_run(session, self.clock, run_id)
            session.commit()
        if errors:
            raise WorkerFailed("; ".join(errors))
        return total

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()
                process.join()
        self.engine.dispose()


def bill_in_parallel(
    engine: Engine,
    clock: Clock,
    at: datetime,
    options: BillRunOptions,
    workers: int,
    sources: BatchSources | None = None,
    chunk: int = PLAN_CHUNK,
) -> tuple[Sequence[int], BatchResult]:
    """Plan and bill everything due at `at` with `workers` processes: (run ids, total)."""
    with ParallelRun(engine, clock, at, options, workers, sources) as run:
        run.plan(chunk=chunk)
        return run.run_ids, run.wait()
