"""Test clocks that persist, and running what falls due as time moves forward."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from telbill.core.clock import Clock, ensure_utc
from telbill.core.errors import Conflict, NotFound, TelbillError, ValidationFailed
from telbill.scheduler import repository
from telbill.scheduler.jobs import DueJob, JobSource, order_jobs, registered_sources
from telbill.scheduler.model import TestClockRow

MAX_JOBS_PER_ADVANCE = 1_000_000


class SchedulerLoop(TelbillError):
    """A job was still due after it ran: its source does not record that the work was done."""

    code = "scheduler_loop"
    http_status = 500


@runtime_checkable
class MovableClock(Clock, Protocol):
    def advance_to(self, instant: datetime) -> None: ...


class PersistedTestClock:
    """A named test clock stored in `test_clocks`; moving it updates the row in the caller's session."""

    __test__ = False

    def __init__(self, session: Session, row: TestClockRow) -> None:
        self._session = session
        self._row = row

    @property
    def name(self) -> str:
        return self._row.name

    def now(self) -> datetime:
        return self._row.now

    def advance_to(self, instant: datetime) -> None:
        instant = ensure_utc(instant)
        if instant < self._row.now:
            raise ValidationFailed(
                f"test clock {self.name!r} cannot go back: it is {self._row.now.isoformat()}, "
                f"asked for {instant.isoformat()}"
            )
        self._row.now = instant
        self._session.flush()

    def __repr__(self) -> str:
        return f"PersistedTestClock({self.name!r}, {self._row.now.isoformat()})"


def create_clock(session: Session, clock: Clock, name: str, at: datetime | None = None) -> PersistedTestClock:
    """A new test clock named `name`, starting at `at` (default: the given clock's now)."""
    name = name.strip()
    if not name:
        raise ValidationFailed("a test clock needs a name")
    if repository.get_clock(session, name) is not None:
        raise Conflict(f"test clock {name!r} already exists")
    start = ensure_utc(at) if at is not None else clock.now()
    row = repository.add_clock(session, TestClockRow(name=name, now=start, created_at=clock.now()))
    return PersistedTestClock(session, row)


def clock_for(session: Session, name: str, *, for_update: bool = False) -> PersistedTestClock:
    """The persisted test clock named `name` (NotFound names the known clocks)."""
    row = repository.get_clock(session, name, for_update=for_update)
    if row is None:
        known = [r.name for r in repository.list_clocks(session)]
        raise NotFound(
            f"no test clock named {name!r}", details=[f"known clocks: {', '.join(known) or 'none'}"]
        )
    return PersistedTestClock(session, row)


def list_clocks(session: Session) -> list[PersistedTestClock]:
    return [PersistedTestClock(session, row) for row in repository.list_clocks(session)]


@dataclass(frozen=True)
class JobRun:
    """A job that ran: when it was due, when the clock said it ran, and what it was."""

    due_at: datetime
    ran_at: datetime
    source: str
    key: str
    description: str


OnJob = Callable[[JobRun], None]


def advance(
    session: Session,
    clock: MovableClock,
    to: datetime,
    *,
    sources: Sequence[JobSource] | None = None,
    on_job: OnJob | None = None,
) -> list[JobRun]:
    """Move `clock` to `to`, running every job due on the way at its own instant, earliest first."""
    to = ensure_utc(to)
    if to < clock.now():
        raise ValidationFailed(
            f"cannot advance back in time: the clock is at {clock.now().isoformat()}, "
            f"asked for {to.isoformat()}"
        )
    runs = _drain(session, clock, to, sources, on_job, move=True)
    clock.advance_to(to)
    return runs


def run_due(
    session: Session,
    clock: Clock,
    *,
    sources: Sequence[JobSource] | None = None,
    on_job: OnJob | None = None,
) -> list[JobRun]:
    """Run what is due at `clock.now()` without moving the clock (a scheduler tick)."""
    return _drain(session, clock, clock.now(), sources, on_job, move=False)


def pending_jobs(
    session: Session, until: datetime, sources: Sequence[JobSource] | None = None
) -> list[DueJob]:
    """What would run up to `until`, in order, without running it (a preview)."""
    srcs = list(sources) if sources is not None else registered_sources()
    return _collect(session, srcs, ensure_utc(until))


def _collect(session: Session, sources: Sequence[JobSource], until: datetime) -> list[DueJob]:
    jobs = [job for source in sources for job in source.due(session, until)]
    return order_jobs(jobs, sources)


def _drain(
    session: Session,
    clock: Clock,
    until: datetime,
    sources: Sequence[JobSource] | None,
    on_job: OnJob | None,
    *,
    move: bool,
) -> list[JobRun]:
    """Run jobs one at a time, re-asking the sources after each (a job may create or cancel others).

    Only the window up to the next known instant is re-asked, so each step stays small.
    """
    srcs = list(sources) if sources is not None else registered_sources()
    known = _collect(session, srcs, until)  # may go stale as jobs run; re-asked before use
    done: set[tuple[str, str, datetime]] = set()
    runs: list[JobRun] = []
    while True:
        horizon = known[0].at if known else until
        fresh = _collect(session, srcs, horizon)
        known = [j for j in known if j.at > horizon]
        if not fresh:
            if not known:
                return runs
            continue
        job = fresh[0]
        known = fresh[1:] + known
        _check_progress(job, done)
        if move and job.at > clock.now():
            clock.advance_to(job.at)  # type: ignore[attr-defined]
        job.run(session, clock)
        done.add(job.identity)
        run = JobRun(job.at, clock.now(), job.source, job.key, job.description)
        runs.append(run)
        if on_job is not None:
            on_job(run)


def _check_progress(job: DueJob, done: set[tuple[str, str, datetime]]) -> None:
    if job.identity in done:
        raise SchedulerLoop(
            f"job {job.source}:{job.key} due at {job.at.isoformat()} is still due after it ran",
            details=["its source must record that the work is done (or move it to a later instant)"],
        )
    if len(done) >= MAX_JOBS_PER_ADVANCE:
        raise SchedulerLoop(f"more than {MAX_JOBS_PER_ADVANCE} jobs in one advance; stopping")
