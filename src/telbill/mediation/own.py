"""What an import keeps in memory of its own writes, so that settling a batch need not read them back.

`OwnRecords` holds, for the file being imported: the content keys of what it stored (duplicate
checks), the time ranges of the other files of its source (read once, at the start), the time span
of what it stored per file (written to `mediation_files` at the end) and, when no other file of the
source has a session stored, the sessions themselves (`OwnSessions`). Then a batch is settled
without a single read, and its writes can go to the database while the next batch is settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from telbill.mediation.dedupe import exact_keys, merge_keys
from telbill.mediation.schema import USAGE_SCHEMA, UTC_US

HELD_SCHEMA = dict(USAGE_SCHEMA) | {"content_hash": pl.Int64, "received_at": UTC_US}
RANGE_SCHEMA = {"file_id": pl.Int64, "lo": UTC_US, "hi": UTC_US}


@dataclass
class OwnSessions:
    """Partial sessions when this import is the only one of its source to have any: the partials it
    holds (as `partial_records` would give them back) and the charging ids it closed (by an event,
    or expired), exactly what the database look-ups would answer."""

    held: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=HELD_SCHEMA))
    closed: pl.Series = field(default_factory=lambda: pl.Series("charging_id", [], dtype=pl.String))

    def previous(self, ids: pl.Series) -> pl.DataFrame:
        """Held partials of these sessions."""
        return self.held.filter(pl.col("charging_id").is_in(ids.implode()))

    def closed_keys(self, source: str, ids: pl.Series) -> pl.DataFrame:
        """(source, charging_id) of these sessions that are closed."""
        found = ids.filter(ids.is_in(self.closed.implode())).unique()
        return pl.DataFrame(
            {"source": [source] * found.len(), "charging_id": found},
            schema={"source": pl.String, "charging_id": pl.String},
        )

    def record(self, held: pl.DataFrame, received_at: datetime, closing: pl.Series) -> None:
        """After a batch: its held partials wait, the sessions it merged or expired are closed."""
        gone = closing.rename("charging_id")
        if gone.len():
            self.held = self.held.filter(~pl.col("charging_id").is_in(gone.implode()))
            self.closed = pl.concat([self.closed, gone]).unique()
        if held.height:
            new = held.select([*USAGE_SCHEMA, "content_hash"]).with_columns(
                received_at=pl.lit(received_at).cast(UTC_US)
            )
            self.held = pl.concat([self.held, new])


@dataclass
class OwnRecords:
    """(content_hash, start_time) of what an import stored from its earlier batches, by batch with
    the batch's time range, so that it need not ask the database for what it has just written."""

    file_id: int
    window_s: int = 0
    usage: list[tuple[datetime, datetime, pl.DataFrame]] = field(default_factory=list)
    partials: list[tuple[datetime, datetime, pl.DataFrame]] = field(default_factory=list)
    # window 0: one sorted key per stored record (8 bytes), searched instead of joined
    usage_keys: pl.Series = field(default_factory=lambda: pl.Series(dtype=pl.Int64))
    partial_keys: pl.Series = field(default_factory=lambda: pl.Series(dtype=pl.Int64))
    # time ranges of the other files of the source, read when the import starts
    other_ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    # None: other files have sessions stored, look them up in the database
    sessions: OwnSessions | None = None
    # (file_id, earliest, latest start) of the records stored, per file (an event takes its first
    # partial's file, which may be an earlier one)
    spans: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RANGE_SCHEMA))

    def add(self, usage: pl.DataFrame, partials: pl.DataFrame) -> None:
        self._stretch(
            pl.concat([usage.select("file_id", "start_time"), partials.select("file_id", "start_time")])
        )
        if self.window_s == 0:
            if usage.height:
                self.usage_keys = merge_keys(self.usage_keys, exact_keys(usage))
            if partials.height:
                self.partial_keys = merge_keys(self.partial_keys, exact_keys(partials))
            return
        for frame, chunks in ((usage, self.usage), (partials, self.partials)):
            if frame.height:
                kept = frame.select("content_hash", "start_time")
                chunks.append((kept["start_time"].min(), kept["start_time"].max(), kept))  # type: ignore[arg-type]

    def _stretch(self, stored: pl.DataFrame) -> None:
        if stored.is_empty():
            return
        batch = stored.group_by("file_id").agg(lo=pl.col("start_time").min(), hi=pl.col("start_time").max())
        both = pl.concat([self.spans, batch.cast(RANGE_SCHEMA)])  # type: ignore[arg-type]
        self.spans = both.group_by("file_id").agg(pl.col("lo").min(), pl.col("hi").max())

    def ranges_near(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """The other files' ranges that reach into [lo, hi]."""
        return [(a, b) for a, b in self.other_ranges if a <= hi and b >= lo]

    @staticmethod
    def near(
        chunks: list[tuple[datetime, datetime, pl.DataFrame]], lo: datetime, hi: datetime
    ) -> pl.DataFrame:
        found = [f for a, b, f in chunks if a <= hi and b >= lo]
        if not found:
            return pl.DataFrame(schema={"content_hash": pl.Int64, "start_time": UTC_US})
        return pl.concat(found)
