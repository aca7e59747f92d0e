"""Write-behind for an import into PostgreSQL: a batch's COPYs and status updates run in a thread,
in the order given, on the session's own connection (so in its transaction), while the caller
settles the next batch. The caller calls `flush()` before it reads from the database; a write's
failure (e.g. a unique key refusing a record id) is raised there, at the next write, or when the
writes are closed, and the caller rolls back to a savepoint taken before the first write.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from functools import partial

import polars as pl
from sqlalchemy.orm import Session

from telbill.mediation import repository as repo

Job = Callable[[], None]
PENDING = 16  # writes handed over and not done yet, at most (a batch makes up to six)
_END_OF_BATCH = object()


class QueuedWrites(repo.Writes):
    deferred = True

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        raw = repo.driver_connection(session)
        if raw is None:
            raise ValueError("queued writes need PostgreSQL")
        self._raw = raw
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=PENDING)
        self._error: BaseException | None = None
        self._cancelled = threading.Event()
        self._batches = 0  # batches handed over whose writes are not all done
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="mediation-writer", daemon=True)
        self._thread.start()

    def rows(self, table: str, frame: pl.DataFrame) -> None:
        """Sorted and encoded here (the caller's thread), sent by the writer: the server gets the
        bytes of one COPY after another without waiting for client work in between."""
        if frame.height:
            self._submit(partial(repo.send_copy, self._raw, repo.encode_copy(table, frame)))

    def partial_status(self, source: str, charging_ids: Sequence[str], status: str) -> None:
        if charging_ids:
            self._submit(partial(repo.pg_set_partial_status, self._raw, source, list(charging_ids), status))

    def end_batch(self) -> None:
        """The writes of one batch are handed over."""
        with self._done:
            self._batches += 1
        self._jobs.put(_END_OF_BATCH)  # type: ignore[arg-type]

    def ready(self) -> None:
        """Wait until at most one batch's writes are pending: the server still has work while the
        caller settles the next batch, and the caller holds no frames meanwhile (bounded memory)."""
        with self._done:
            self._done.wait_for(lambda: self._batches <= 1 or self._error is not None)
        self._raise()

    def flush(self) -> None:
        self._jobs.join()
        self._raise()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self._cancelled.set()  # the caller rolls back: what is still queued is not worth doing
        self._jobs.put(None)
        self._thread.join()
        if exc_type is None:
            self._raise()

    def _submit(self, job: Job) -> None:
        self._raise()
        self._jobs.put(job)

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._cancelled.set()  # nothing after a failed write: the transaction is aborted
            raise error

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if job is _END_OF_BATCH:
                    with self._done:
                        self._batches -= 1
                        self._done.notify_all()
                elif not self._cancelled.is_set() and self._error is None:
                    job()
            except BaseException as exc:  # handed to the caller
                with self._done:
                    self._error = exc
                    self._done.notify_all()
            finally:
                self._jobs.task_done()
