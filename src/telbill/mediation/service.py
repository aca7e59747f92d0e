"""Use cases: import a file (once), expire incomplete sessions. Services never commit.

A file's records, its suspense rows and its `mediation_files` row are written in the caller's
transaction, so a process killed mid-file leaves nothing of that file behind and a rerun gives
the same result as one clean run. Every file satisfies, and the service asserts:
records_in = accepted + suspended + duplicates + dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import TelbillError
from telbill.events import append_event
from telbill.mediation import repository as repo
from telbill.mediation.correlate import correlate
from telbill.mediation.dedupe import content_hash, dedupe_against, dedupe_exact, neighbour_hashes
from telbill.mediation.guide import conform_intervals
from telbill.mediation.model import MediationFile, MediationRun
from telbill.mediation.normalise import NumberBook
from telbill.mediation.own import OwnRecords, OwnSessions
from telbill.mediation.pipeline import BatchOutcome, process_batch, usage_raw
from telbill.mediation.prefetch import prefetch
from telbill.mediation.readers import (
    DEFAULT_BATCH,
    FileRejected,
    ReadBatch,
    open_binary,
    ramp_up,
    reader_for,
)
from telbill.mediation.schema import INTERVAL_SCHEMA, Reason, empty_rejects
from telbill.mediation.sources import SourceConfig
from telbill.mediation.writer import QueuedWrites

NOT_SUSPENDED = (Reason.DUPLICATE.value, Reason.ZERO_USAGE.value)
RAMP_UP = 10  # the first batch of a file goes in two, its first tenth alone (see readers.ramp_up)


class ControlTotalsBroken(TelbillError):
    code = "control_totals"


@dataclass
class Totals:
    records_in: int = 0
    accepted: int = 0
    suspended: int = 0
    duplicates: int = 0
    dropped: int = 0
    partials: int = 0
    events_correlated: int = 0

    def add(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def check(self, what: str) -> None:
        out = self.accepted + self.suspended + self.duplicates + self.dropped
        if self.records_in != out:
            raise ControlTotalsBroken(
                f"{what}: {self.records_in} records in, but {self.accepted} accepted"
                f" + {self.suspended} suspended + {self.duplicates} duplicates"
                f" + {self.dropped} dropped = {out}"
            )


@dataclass
class FileResult:
    name: str
    source: str
    status: str  # imported | skipped | rejected
    file_id: int | None = None
    reason: str | None = None
    message: str | None = None
    totals: Totals = field(default_factory=Totals)


@dataclass(frozen=True)
class Settled:
    """What a batch became once stored state was consulted: rejects to suspend, counts."""

    rejects: pl.DataFrame
    accepted: int
    partials: int
    events: int


def file_digest(path: Path) -> str:
    """SHA-256 of the (decompressed) content: the same records gzipped or not are the same file."""
    digest = hashlib.sha256()
    try:
        with open_binary(path) as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except (OSError, EOFError):  # a broken gzip: the reader will reject it; hash the bytes as they are
        digest = hashlib.sha256(path.read_bytes())
    return digest.hexdigest()


def start_run(session: Session, clock: Clock) -> MediationRun:
    run = MediationRun(started_at=clock.now())
    repo.add(session, run)
    return run


def finish_run(session: Session, clock: Clock, run: MediationRun) -> MediationRun:
    totals = Totals(run.records_in, run.accepted, run.suspended, run.duplicates, run.dropped)
    totals.check(f"run {run.id}")
    run.finished_at = clock.now()
    session.flush()
    return run


def load_intervals(session: Session) -> pl.DataFrame:
    """Service-id validity intervals from the subscriptions context (MSISDNs without their '+')."""
    from telbill.subscriptions import service_id_intervals

    rows = [
        (r.identifier_type, r.value.lstrip("+"), r.valid_from, r.valid_to, r.subscription_id, r.account_id)
        for r in service_id_intervals(session)
        if r.identifier_type in ("msisdn", "imsi")
    ]
    return conform_intervals(pl.DataFrame(rows, schema=INTERVAL_SCHEMA, orient="row"))


def import_file(
    session: Session,
    clock: Clock,
    path: Path,
    source: SourceConfig,
    intervals: pl.DataFrame,
    *,
    run: MediationRun | None = None,
    book: NumberBook | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Import one file, once. Already imported: skipped. Unreadable: recorded as rejected."""
    digest = file_digest(path)
    existing = repo.file_by_hash(session, digest)
    if existing is not None and existing.status == "imported":
        return FileResult(path.name, existing.source, "skipped", existing.id, message="already imported")
    now = clock.now()
    row = existing or MediationFile(content_hash=digest)
    row.name, row.source, row.size_bytes, row.imported_at = path.name, source.name, path.stat().st_size, now
    row.source_config, row.status, row.run_id = source.model_dump(), "importing", run.id if run else None
    repo.add(session, row)
    intervals = conform_intervals(intervals)
    book = book or NumberBook(region=source.country)

    def processed() -> Iterator[tuple[ReadBatch, BatchOutcome]]:
        batches = reader_for(source).batches(path, row.id, batch_size)
        for batch in ramp_up(batches, batch_size // RAMP_UP):
            yield batch, process_batch(batch.staging, source, intervals, now, book)

    queued = repo.driver_connection(session) is not None
    try:
        try:
            totals = _import_batches(session, now, source, row.id, processed(), progress, queued)
        except repo.StoredDuplicate:  # only with queued writes: the whole file again, batch by batch
            totals = _import_batches(session, now, source, row.id, processed(), progress, False)
    except FileRejected as exc:
        return _rejected(session, clock, row, run, exc)
    totals.check(f"file {path.name}")
    finish_file(session, clock, row, run, totals)
    return FileResult(path.name, source.name, "imported", row.id, totals=totals)


def _import_batches(
    session: Session,
    now: datetime,
    source: SourceConfig,
    file_id: int,
    batches: Iterator[tuple[ReadBatch, BatchOutcome]],
    progress: Callable[[int], None] | None,
    queued: bool,
) -> Totals:
    """Settle and store every batch of a file under one savepoint. Queued (PostgreSQL): batch N is
    written by a thread while batch N+1 is settled; a record id refused by the unique index then
    rolls the whole file back and raises `StoredDuplicate` (the caller imports it again, batch by
    batch). Not queued: a refused batch is rolled back alone and settled again from the database."""
    lowest, highest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    own = OwnRecords(
        file_id,
        source.dedupe_window_s,
        other_ranges=repo.overlapping_ranges(session, source.name, lowest, highest, exclude=file_id),
        sessions=None if repo.sessions_stored(session, source.name) else OwnSessions(),
    )
    totals = Totals()
    with session.begin_nested():
        with QueuedWrites(session) if queued else repo.Writes(session) as writes:
            for batch, outcome in prefetch(batches):
                writes.ready()
                got, _ = settle_batch(session, now, source, file_id, batch, outcome, own, writes)
                writes.end_batch()
                totals.add(got)
                if progress:
                    progress(got.records_in)
            if queued and own.sessions is not None:  # partials still waiting, written once
                repo.insert_partials(writes, own.sessions.held, "held", now)
        spans = own.spans.select("file_id", pl.col("lo").alias("start_time"))
        repo.widen_file_ranges(
            session, pl.concat([spans, own.spans.select("file_id", pl.col("hi").alias("start_time"))])
        )
    return totals


def settle_batch(
    session: Session,
    now: datetime,
    source: SourceConfig,
    file_id: int,
    batch: ReadBatch,
    outcome: BatchOutcome,
    own: OwnRecords | None = None,
    writes: repo.Writes | None = None,
) -> tuple[Totals, pl.DataFrame]:
    """Store one processed batch: (its totals, the rejects of its own file with their reasons)."""
    writes = writes or repo.Writes(session)
    settled = settle(session, now, source, outcome, own, writes)
    rejects = pl.concat([batch.rejects, settled.rejects])
    suspend(session, rejects, now, writes)
    own_rejects = rejects.filter(pl.col("file_id") == file_id)
    reasons = own_rejects["reason"]
    duplicates = int((reasons == Reason.DUPLICATE.value).sum())
    dropped = int((reasons == Reason.ZERO_USAGE.value).sum())
    totals = Totals(
        records_in=batch.staging.height + batch.rejects.height,
        accepted=settled.accepted,
        suspended=reasons.len() - duplicates - dropped,
        duplicates=duplicates,
        dropped=dropped,
        partials=settled.partials,
        events_correlated=settled.events,
    )
    return totals, own_rejects


def suspend(
    session: Session, rejects: pl.DataFrame, now: datetime, writes: repo.Writes | None = None
) -> None:
    """Write rejects to suspense: duplicates and dropped records closed, the rest open for operators."""
    status = pl.when(pl.col("reason").is_in(NOT_SUSPENDED)).then(pl.lit("dropped")).otherwise(pl.lit("open"))
    repo.insert_suspense(writes or repo.Writes(session), rejects, status, now)


def settle(
    session: Session,
    now: datetime,
    source: SourceConfig,
    outcome: BatchOutcome,
    own: OwnRecords | None = None,
    writes: repo.Writes | None = None,
) -> Settled:
    """Check against stored records, correlate partials with held ones, and store what is accepted.

    With `own` (an import in progress), stored duplicates are looked for in memory among the file's
    earlier batches and in the database only near other files' time ranges, and sessions in memory
    when no other file of the source has any; the unique index on (source, record_id) is the final
    guarantee: if it refuses a batch, the batch is settled again with every look-up in the database
    (with queued writes the refusal comes later: the caller starts the file again)."""
    writes = writes or repo.Writes(session)
    if own is None:
        return _settle(session, now, source, outcome, None, writes)
    if writes.deferred:
        return _settle(session, now, source, outcome, own, writes, own_memory=True)
    try:
        with session.begin_nested():
            return _settle(session, now, source, outcome, own, writes, own_memory=True)
    except repo.StoredDuplicate:
        pass
    return _settle(session, now, source, outcome, own, writes)


def _settle(
    session: Session,
    now: datetime,
    source: SourceConfig,
    outcome: BatchOutcome,
    own: OwnRecords | None,
    writes: repo.Writes,
    own_memory: bool = False,
) -> Settled:
    """`own_memory`: what the import stored itself is known from `own`, not read back."""
    memory = own if own_memory else None
    records = pl.concat([outcome.good, outcome.partials])
    records, dups = _stored_duplicates(session, source, records, memory, writes)
    good = records.filter(~pl.col("partial"))
    partials = records.filter(pl.col("partial"))
    corr_rejects = outcome.rejects.clear()
    events = held = merged = partials.clear()
    closing = pl.Series("charging_id", [], dtype=pl.String)  # sessions merged or expired now
    # Queued writes, sessions in memory: partials this import holds are written once, in their
    # final state (merged, expired, or held at the end of the file), never updated.
    held_in_memory = own is not None and own.sessions is not None and writes.deferred
    if partials.height:
        ids = partials["charging_id"].unique()
        previous, closed = _sessions(session, source.name, ids, own, writes)
        corr = correlate(partials, previous, closed, now, source.partial_timeout_s)
        events, held, merged = corr.events, corr.held, corr.merged
        events = (
            events.with_columns(content_hash=content_hash(events, source.dedupe_window_s))
            if events.height
            else events
        )
        merged_ids, expired_ids = corr.merged_keys["charging_id"], corr.expired_keys["charging_id"]
        if held_in_memory:
            of = pl.col("charging_id").is_in
            repo.insert_partials(writes, previous.filter(of(merged_ids.implode())), "merged", now)
            repo.insert_partials(writes, previous.filter(of(expired_ids.implode())), "expired", now)
        else:
            writes.partial_status(source.name, merged_ids.to_list(), "merged")
            writes.partial_status(source.name, expired_ids.to_list(), "expired")
        closing = pl.concat([merged_ids, expired_ids])
        lines = corr.rejects.select("file_id", "line_no")  # raw text for the rejected partials only
        pool = pl.concat([previous.select(partials.columns), partials])
        raws = usage_raw(pool.join(lines, on=["file_id", "line_no"], how="semi"))
        corr_rejects = (
            corr.rejects.join(raws, on=["file_id", "line_no"], how="left")
            .with_columns(raw=pl.col("_raw"))
            .drop("_raw")
        )
    usage = pl.concat([good, events])
    stored_partials = pl.concat([held, merged])
    repo.insert_usage(writes, usage)
    if not held_in_memory:
        repo.insert_partials(writes, held, "held", now)
    repo.insert_partials(writes, merged, "merged", now)
    if own is not None:  # after the writes: a refused batch (not queued) leaves `own` as it was
        own.add(usage, stored_partials)  # its file ranges are written when the import ends
        if own.sessions is not None:
            own.sessions.record(held, now, closing)
    else:
        repo.widen_file_ranges(session, pl.concat([usage, stored_partials]).select("file_id", "start_time"))
    return Settled(
        rejects=pl.concat([outcome.rejects, dups, corr_rejects]),
        accepted=good.height + held.height + merged.height,
        partials=held.height + merged.height,
        events=events.height,
    )


def _sessions(
    session: Session, source: str, ids: pl.Series, own: OwnRecords | None, writes: repo.Writes
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(held partials, closed keys) of these sessions: from the import's memory when it is the only
    one of its source with sessions (then the database holds nothing else), else from the database."""
    if own is not None and own.sessions is not None:
        return own.sessions.previous(ids), own.sessions.closed_keys(source, ids)
    writes.flush()
    previous = repo.partials_frame(session, source, ids.to_list(), "held").drop("status")
    return previous, repo.closed_sessions(session, source, ids.to_list())


def _stored_duplicates(
    session: Session, source: SourceConfig, records: pl.DataFrame, own: OwnRecords | None, writes: repo.Writes
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records not stored yet, DUPLICATE rejects) by record id and by content."""
    if records.is_empty():
        return records, empty_rejects()
    w = source.dedupe_window_s
    lo, hi = repo.window(records["start_time"].min(), records["start_time"].max(), w)  # type: ignore[arg-type]
    if own is None:
        writes.flush()
        return _in_database(session, source, records, lo, hi)
    records, dups = _own_duplicates(records, own, lo, hi)
    ranges = own.ranges_near(lo, hi)
    if not ranges:
        return records, dups
    pad = timedelta(seconds=w)
    near = pl.any_horizontal(pl.col("start_time").is_between(a - pad, b + pad) for a, b in ranges)
    candidates = records.filter(near)
    if candidates.is_empty():
        return records, dups
    writes.flush()
    _, db_dups = _in_database(session, source, candidates, lo, hi)
    records = records.filter(~pl.col("line_no").is_in(db_dups["line_no"].implode()))
    return records, pl.concat([dups, db_dups])


def _own_duplicates(
    records: pl.DataFrame, own: OwnRecords, lo: datetime, hi: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Content duplicates of what this import stored from its earlier batches (all in memory)."""
    w = own.window_s
    if w == 0:
        records, dups = dedupe_exact(records, own.usage_keys)
        parts = records.filter(pl.col("partial"))
        if parts.height and own.partial_keys.len():
            _, part_dups = dedupe_exact(parts, own.partial_keys)
            records = records.filter(~pl.col("line_no").is_in(part_dups["line_no"].implode()))
            dups = pl.concat([dups, part_dups])
        return records, dups
    none = pl.Series(dtype=pl.String)
    records, dups = dedupe_against(records, none, own.near(own.usage, lo, hi), w)
    parts = records.filter(pl.col("partial"))
    if parts.height and own.partials:
        _, part_dups = dedupe_against(parts, none, own.near(own.partials, lo, hi), w)
        records = records.filter(~pl.col("line_no").is_in(part_dups["line_no"].implode()))
        dups = pl.concat([dups, part_dups])
    return records, dups


def _in_database(
    session: Session, source: SourceConfig, records: pl.DataFrame, lo: datetime, hi: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every look-up against stored records: ids in usage (and live partials), content near in time."""
    parts = records.filter(pl.col("partial"))
    ids = records["record_id"].to_list()
    seen_ids = repo.existing_record_ids(
        session, source.name, ids, parts["record_id"].to_list(), parts["charging_id"].to_list()
    )
    w = source.dedupe_window_s
    hashes = neighbour_hashes(records, w).to_list()
    seen = repo.existing_content(session, source.name, hashes, neighbour_hashes(parts, w).to_list(), lo, hi)
    return dedupe_against(records, pl.Series(seen_ids, dtype=pl.String), seen, w)


def _rejected(
    session: Session, clock: Clock, row: MediationFile, run: MediationRun | None, exc: FileRejected
) -> FileResult:
    row.status, row.reject_reason, row.message = "rejected", exc.reason, exc.message
    row.records_in = row.accepted = row.suspended = row.duplicates = row.dropped = 0
    if run is not None:
        run.files_rejected += 1
    session.flush()
    append_event(
        session,
        clock,
        event_type="mediation.file_rejected",
        aggregate_type="mediation_file",
        aggregate_id=row.id,
        payload={"name": row.name, "reason": exc.reason, "message": exc.message},
    )
    return FileResult(row.name, row.source, "rejected", row.id, exc.reason, exc.message)


def finish_file(
    session: Session, clock: Clock, row: MediationFile, run: MediationRun | None, t: Totals
) -> None:
    row.status = "imported"
    row.records_in, row.accepted, row.suspended = t.records_in, t.accepted, t.suspended
    row.duplicates, row.dropped, row.partials, row.events_correlated = (
        t.duplicates,
        t.dropped,
        t.partials,
        t.events_correlated,
    )
    if run is not None:
        run.files += 1
        run.records_in += t.records_in
        run.accepted += t.accepted
        run.suspended += t.suspended
        run.duplicates += t.duplicates
        run.dropped += t.dropped
    session.flush()
    append_event(
        session,
        clock,
        event_type="mediation.file_imported",
        aggregate_type="mediation_file",
        aggregate_id=row.id,
        payload={
            "name": row.name,
            "source": row.source,
            "records_in": t.records_in,
            "accepted": t.accepted,
            "suspended": t.suspended,
            "duplicates": t.duplicates,
            "dropped": t.dropped,
        },
    )


def expire_partials(session: Session, clock: Clock, sources: dict[str, SourceConfig]) -> int:
    """Suspend (MISSING_PARTIAL) the partials of sessions that waited longer than their source allows."""
    now = clock.now()
    expired = 0
    for name in repo.held_sources(session):
        source = sources.get(name) or SourceConfig(name=name)
        held = repo.partials_frame(session, name, None, "held").drop("status")
        empty = held.drop("received_at").clear()
        closed = pl.DataFrame(schema={"source": pl.String, "charging_id": pl.String})
        corr = correlate(empty, held, closed, now, source.partial_timeout_s)
        if corr.rejects.is_empty():
            continue
        repo.set_partial_status(session, name, corr.expired_keys["charging_id"].to_list(), "expired")
        raws = usage_raw(held.drop("received_at"))
        rejects = corr.rejects.join(raws, on=["file_id", "line_no"], how="left").with_columns(
            raw=pl.col("_raw")
        )
        suspend(session, rejects.drop("_raw"), now)
        expired += rejects.height
    return expired
