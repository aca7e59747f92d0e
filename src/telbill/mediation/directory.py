"""Service-id intervals for guiding, kept between HTTP requests until the directory changes.

Loading every interval is a full read of the subscriptions' identifiers, too much for each posted
batch. A cache holds the last load with the directory's stamp (count, highest id, closed count;
see `telbill.subscriptions.service_id_stamp`), read at the start of each request: an identifier
added or closed since changes the stamp and the intervals are loaded again. The stamp is read
before the intervals, so a change committed between the two reads leaves newer intervals under
an older stamp, which the next request reloads: never older intervals under a newer stamp.

Fill it only from a transaction that has not changed identifiers itself (the API's requests
start a fresh one): a stamp seen inside a transaction that is later rolled back could come again
with other rows on SQLite, which reuses row ids.
"""

from __future__ import annotations

import threading

import polars as pl
from sqlalchemy.orm import Session

from telbill.mediation import service


class IntervalCache:
    """The intervals of the last load and the stamp they were loaded at; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._intervals: pl.DataFrame | None = None
        self.loads = 0  # how many times the intervals were read (for tests and metrics)

    def intervals(self, session: Session) -> pl.DataFrame:
        from telbill.subscriptions import service_id_stamp

        stamp = service_id_stamp(session)
        with self._lock:
            if stamp == self._stamp and self._intervals is not None:
                return self._intervals
        fresh = service.load_intervals(session)
        with self._lock:
            self._stamp, self._intervals = stamp, fresh
            self.loads += 1
        return fresh
