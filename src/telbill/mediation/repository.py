"""Every SQL statement of mediation. Bulk rows go by COPY on PostgreSQL and executemany on SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pgpq
import polars as pl
import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import String, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill.db.filters import in_values as _in
from telbill.mediation.model import (
    MediationFile,
    MediationRun,
    PartialRecord,
    SuspenseRecord,
    UsageRecord,
)
from telbill.mediation.schema import USAGE_SCHEMA, UTC_US

USAGE_COLUMNS = [*USAGE_SCHEMA, "content_hash"]
PARTIAL_COLUMNS = [*USAGE_COLUMNS, "status", "received_at"]
SUSPENSE_COLUMNS = [
    "source",
    "file_id",
    "line_no",
    "record_id",
    "reason",
    "message",
    "raw",
    "status",
    "attempts",
    "created_at",
    "updated_at",
]
SQLITE_CHUNK = 900


# --- bulk writes --------------------------------------------------------------------------------


class StoredDuplicate(Exception):
    """A bulk write hit a unique key: a record id is stored already."""


class Writes:
    """The bulk writes of an import, done at once in the session's transaction. `writer.QueuedWrites`
    does the same writes in a thread on PostgreSQL; `flush` is called before any read."""

    deferred = False  # True: a write's failure surfaces later (at `flush` or at the end)

    def __init__(self, session: Session) -> None:
        self.session = session

    def rows(self, table: str, frame: pl.DataFrame) -> None:
        bulk_insert(self.session, table, frame)

    def partial_status(self, source: str, charging_ids: Sequence[str], status: str) -> None:
        set_partial_status(self.session, source, charging_ids, status)

    def flush(self) -> None:
        """Every write handed over so far is done (a failure is raised here)."""

    def ready(self) -> None:
        """Before a batch is settled: wait until the writes pending leave room for it."""

    def end_batch(self) -> None:
        """The writes of one batch are all handed over."""

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def bulk_insert(session: Session, table: str, frame: pl.DataFrame) -> None:
    """Append the frame's rows to `table` (columns by name), in the session's transaction."""
    if frame.is_empty():
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        copy_rows(conn.connection.driver_connection, table, frame)
        return
    try:
        _executemany(conn, table, frame)
    except IntegrityError as exc:
        raise StoredDuplicate(str(exc).splitlines()[0]) from exc


def driver_connection(session: Session) -> psycopg.Connection | None:
    """The psycopg connection under the session (PostgreSQL), None on another database."""
    conn = session.connection()
    return conn.connection.driver_connection if conn.dialect.name == "postgresql" else None  # type: ignore[return-value]


def copy_rows(raw: object, table: str, frame: pl.DataFrame) -> None:
    """COPY the frame into `table` on a psycopg connection; a unique key hit is `StoredDuplicate`."""
    if frame.is_empty():
        return
    try:
        _copy(raw, table, frame)
    except psycopg.errors.UniqueViolation as exc:
        raise StoredDuplicate(str(exc).splitlines()[0]) from exc


def pg_set_partial_status(
    raw: psycopg.Connection, source: str, charging_ids: Sequence[str], status: str
) -> None:
    """`set_partial_status` on a psycopg connection (for a writer thread, which has no Session)."""
    raw.execute(_PG_SET_STATUS, {"status": status, "source": source, "ids": list(charging_ids)})


# Joined with unnest(): `charging_id = ANY(:ids)` became, once the statement was prepared (generic
# plan), a linear search of the array for every held partial of the source (1.9 of 12 server
# CPU-seconds of a 2 M import); the join hashes the ids or probes the session index.
_PG_SET_STATUS = (
    "UPDATE partial_records p SET status = %(status)s FROM unnest(CAST(%(ids)s AS text[])) AS k(v)"
    " WHERE p.source = %(source)s AND p.status <> 'merged' AND p.status = 'held' AND p.charging_id = k.v"
)


def _copy(raw: object, table: str, frame: pl.DataFrame) -> None:
    """COPY in PostgreSQL's binary format (no text parsing on the server), rows in (source, record_id)
    order when the table has that unique key: its index then takes the new keys in one sweep.
    Chunks are sent by psycopg's writer thread while the next one is encoded."""
    frame = _copy_order(table, frame)
    with (
        raw.cursor() as cur,  # type: ignore[attr-defined]
        cur.copy(_copy_sql(table, frame), writer=QueuedLibpqWriter(cur)) as copy,
    ):
        for chunk in _encoded(frame):
            copy.write(chunk)


@dataclass(frozen=True)
class EncodedCopy:
    """A COPY statement and its data, encoded ahead of sending (see `encode_copy`)."""

    sql: str
    chunks: list[bytes]


def encode_copy(table: str, frame: pl.DataFrame) -> EncodedCopy:
    """Sort and encode the rows of a COPY now, so that sending them later keeps the server busy
    without a pause for client work."""
    frame = _copy_order(table, frame)
    return EncodedCopy(_copy_sql(table, frame), list(_encoded(frame)))


def send_copy(raw: psycopg.Connection, encoded: EncodedCopy) -> None:
    """Send an encoded COPY; a unique key hit is `StoredDuplicate`."""
    try:
        with raw.cursor() as cur, cur.copy(encoded.sql) as copy:
            for chunk in encoded.chunks:
                copy.write(chunk)
    except psycopg.errors.UniqueViolation as exc:
        raise StoredDuplicate(str(exc).splitlines()[0]) from exc


def _copy_order(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """By (source, record_id) when the table has that unique key: its index then takes the new
    keys in one sweep. By record id alone when the frame has one source (half the CPU), on one
    thread (the other core is busy with the next batch and the server)."""
    if {"source", "record_id"} <= set(frame.columns) and table != SuspenseRecord.__tablename__:
        one_source = frame["source"].min() == frame["source"].max()
        keys = ["record_id"] if one_source else ["source", "record_id"]
        frame = frame.sort(keys, multithreaded=False)
    return frame


def _copy_sql(table: str, frame: pl.DataFrame) -> str:
    fmt = "binary" if _is_binary(frame) else "csv"
    return f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT {fmt})"


def _is_binary(frame: pl.DataFrame) -> bool:
    return all(t in _BINARY_TYPES for t in frame.schema.values())


def _encoded(frame: pl.DataFrame) -> Iterator[bytes]:
    """The COPY data: PostgreSQL's binary format encoded from Arrow by pgpq (CSV for other types)."""
    if not _is_binary(frame):
        for chunk in frame.iter_slices(COPY_CHUNK):
            yield _csv(chunk).encode()
        return
    arrow = frame.to_arrow()
    encoder = pgpq.ArrowToPostgresBinaryEncoder(arrow.schema)
    yield bytes(encoder.write_header())
    for batch in arrow.to_batches(COPY_CHUNK):
        yield bytes(encoder.write_batch(batch))
    yield bytes(encoder.finish())


COPY_CHUNK = 25_000  # small enough that encoding overlaps sending (a writer thread sends)
_BINARY_TYPES = (pl.String, pl.Int64, pl.Int32, pl.Boolean, UTC_US)


def _csv(frame: pl.DataFrame) -> str:
    return frame.with_columns(
        pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S%.6f+00") for c, t in frame.schema.items() if t == UTC_US
    ).write_csv(include_header=False)


def _executemany(conn: object, table: str, frame: pl.DataFrame) -> None:
    text = frame.with_columns(
        pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S%.6f") for c, t in frame.schema.items() if t == UTC_US
    )
    marks = ", ".join("?" for _ in frame.columns)
    sql = f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({marks})"
    conn.exec_driver_sql(sql, text.rows())  # type: ignore[attr-defined]


def insert_usage(writes: Writes, frame: pl.DataFrame) -> None:
    if frame.height:
        writes.rows(UsageRecord.__tablename__, frame.select(USAGE_COLUMNS))


def insert_partials(writes: Writes, frame: pl.DataFrame, status: str, received_at: datetime) -> None:
    if frame.is_empty():
        return
    rows = frame.select(USAGE_COLUMNS).with_columns(
        status=pl.lit(status), received_at=pl.lit(received_at).cast(UTC_US)
    )
    writes.rows(PartialRecord.__tablename__, rows)


def insert_suspense(writes: Writes, rejects: pl.DataFrame, status: pl.Expr, now: datetime) -> None:
    if rejects.is_empty():
        return
    rows = rejects.select(
        "source",
        "file_id",
        "line_no",
        "record_id",
        "reason",
        pl.col("message").fill_null(""),
        pl.col("raw").fill_null(""),
        status.alias("status"),
        pl.lit(0).alias("attempts"),
        pl.lit(now).cast(UTC_US).alias("created_at"),
        pl.lit(now).cast(UTC_US).alias("updated_at"),
    )
    writes.rows(SuspenseRecord.__tablename__, rows)


# --- look-ups by many keys ----------------------------------------------------------------------


def _chunks(session: Session, values: Sequence[object]) -> Iterator[Sequence[object]]:
    if session.get_bind().dialect.name == "postgresql":
        yield values
        return
    for i in range(0, len(values), SQLITE_CHUNK):
        yield values[i : i + SQLITE_CHUNK]


def existing_record_ids(
    session: Session,
    source: str,
    record_ids: Sequence[str],
    partial_ids: Sequence[str] = (),
    partial_sessions: Sequence[str] = (),
) -> list[str]:
    """The ids already stored for the source: all checked against usage, partial ones (with their
    charging ids, in the same order) against partials. An expired partial went to suspense and may
    come back in its own session (it is then LATE_PARTIAL); another session's record with its id is
    a duplicate, as its row would collide with the expired one's key."""
    if session.get_bind().dialect.name == "postgresql":
        return _pg_existing_ids(session, source, record_ids, partial_ids, partial_sessions)
    found: list[str] = []
    for chunk in _chunks(session, list(record_ids)):
        stmt = select(UsageRecord.record_id).where(
            UsageRecord.source == source, UsageRecord.record_id.in_(list(chunk))
        )
        found += session.scalars(stmt).all()
    sessions = dict(zip(partial_ids, partial_sessions, strict=True))
    for chunk in _chunks(session, list(partial_ids)):
        p = PartialRecord
        stmt = select(p.record_id, p.charging_id, p.status).where(
            p.source == source, p.record_id.in_(list(chunk))
        )
        found += [r for r, c, st in session.execute(stmt).all() if st != "expired" or c != sessions[r]]
    return found


def _pg_existing_ids(
    session: Session,
    source: str,
    record_ids: Sequence[str],
    partial_ids: Sequence[str],
    partial_sessions: Sequence[str],
) -> list[str]:
    """Joined with unnest(): the planner probes the unique index per key instead of scanning the table."""
    usage = text(
        "SELECT u.record_id FROM unnest(CAST(:ids AS text[])) AS k(v)"
        " JOIN usage_records u ON u.source = :source AND u.record_id = k.v"
    )
    partial = text(
        "SELECT p.record_id FROM unnest(CAST(:ids AS text[]), CAST(:sessions AS text[])) AS k(v, c)"
        " JOIN partial_records p ON p.source = :source AND p.record_id = k.v"
        " AND (p.status <> 'expired' OR p.charging_id <> k.c)"
    )
    found = list(session.scalars(usage, {"ids": list(record_ids), "source": source}).all())
    if partial_ids:
        params = {"ids": list(partial_ids), "sessions": list(partial_sessions), "source": source}
        found += session.scalars(partial, params).all()
    return found


def existing_content(
    session: Session,
    source: str,
    hashes: Sequence[int],
    partial_hashes: Sequence[int],
    earliest: datetime,
    latest: datetime,
) -> pl.DataFrame:
    """(content_hash, start_time) of stored records of the source with one of these hashes, in the
    time range: a range scan (BRIN on start_time) filtered by the hashes."""
    rows: list[tuple[int, datetime]] = []
    pg = session.get_bind().dialect.name == "postgresql"
    for table, values in ((UsageRecord, hashes), (PartialRecord, partial_hashes)):
        if not values:
            continue
        live = " AND status <> 'expired'" if table is PartialRecord else ""
        if pg:
            stmt = text(
                f"SELECT content_hash, start_time FROM {table.__tablename__}"
                f" WHERE source = :s AND start_time BETWEEN :a AND :b{live}"
                " AND content_hash = ANY(CAST(:h AS bigint[]))"
            )
            params = {"s": source, "a": earliest, "b": latest, "h": list(values)}
            rows += [(h, t) for h, t in session.execute(stmt, params).all()]
            continue
        q = select(table.content_hash, table.start_time).where(
            table.source == source, table.start_time.between(earliest, latest)
        )
        if table is PartialRecord:
            q = q.where(PartialRecord.status != "expired")
        wanted = set(values)
        rows += [(h, _aware(t)) for h, t in session.execute(q).all() if h in wanted]
    return pl.DataFrame(rows, schema={"content_hash": pl.Int64, "start_time": UTC_US}, orient="row")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def partials_frame(
    session: Session, source: str, charging_ids: Sequence[str] | None, status: str
) -> pl.DataFrame:
    """Partials of a source in a status, for the given sessions (None = all of that status)."""
    cols = [getattr(PartialRecord, c) for c in PARTIAL_COLUMNS]
    rows: list[tuple[object, ...]] = []
    chunks = [None] if charging_ids is None else list(_chunks(session, list(charging_ids)))
    for chunk in chunks:
        stmt = select(*cols).where(PartialRecord.source == source, PartialRecord.status == status)
        if chunk is not None:
            stmt = stmt.where(_in(session, PartialRecord.charging_id, chunk, String))
        rows += [tuple(r) for r in session.execute(stmt).all()]
    schema = dict(USAGE_SCHEMA) | {"content_hash": pl.Int64, "status": pl.String, "received_at": UTC_US}
    return pl.DataFrame(rows, schema=schema, orient="row")


def closed_sessions(session: Session, source: str, charging_ids: Sequence[str]) -> pl.DataFrame:
    """Sessions of the source already closed: by a correlated event (usage), or expired."""
    if session.get_bind().dialect.name == "postgresql":
        rows = _pg_closed_sessions(session, source, charging_ids)
    else:
        rows = []
        for chunk in _chunks(session, list(charging_ids)):
            events = select(UsageRecord.charging_id).where(
                UsageRecord.partial, UsageRecord.source == source, UsageRecord.charging_id.in_(chunk)
            )
            expired = select(PartialRecord.charging_id).where(
                PartialRecord.status == "expired",
                PartialRecord.source == source,
                PartialRecord.charging_id.in_(chunk),
            )
            rows += session.scalars(events).all()
            rows += session.scalars(expired).all()
        rows = list(dict.fromkeys(rows))
    return pl.DataFrame(
        {"source": [source] * len(rows), "charging_id": rows},
        schema={"source": pl.String, "charging_id": pl.String},
    )


def _pg_closed_sessions(session: Session, source: str, charging_ids: Sequence[str]) -> list[str]:
    """Joined with unnest(), each id probes the partial indexes: `= ANY(array)` on them filtered every
    event stored for the source instead (the cost grew with the events already stored)."""
    stmt = text(
        "SELECT u.charging_id FROM unnest(CAST(:ids AS text[])) AS k(v)"
        " JOIN usage_records u ON u.partial AND u.source = :source AND u.charging_id = k.v"
        " UNION"
        " SELECT p.charging_id FROM unnest(CAST(:ids AS text[])) AS k(v)"
        " JOIN partial_records p ON p.status <> 'merged' AND p.status = 'expired'"
        " AND p.source = :source AND p.charging_id = k.v"
    )
    return list(session.scalars(stmt, {"ids": list(charging_ids), "source": source}).all())


def set_partial_status(session: Session, source: str, charging_ids: Sequence[str], status: str) -> None:
    if not charging_ids:
        return
    raw = driver_connection(session)
    if raw is not None:
        pg_set_partial_status(raw, source, charging_ids, status)
        return
    for chunk in _chunks(session, list(charging_ids)):
        session.execute(
            update(PartialRecord)
            .where(
                PartialRecord.source == source,
                PartialRecord.status == "held",
                _in(session, PartialRecord.charging_id, chunk, String),
            )
            .values(status=status)
        )


def sessions_stored(session: Session, source: str) -> bool:
    """Whether the source has any partial session stored: a partial held or expired, or an event
    correlated from partials (merged partials have their event). Two index probes."""
    held = select(PartialRecord.source).where(
        PartialRecord.source == source, PartialRecord.status != "merged"
    )
    events = select(UsageRecord.source).where(UsageRecord.partial, UsageRecord.source == source)
    return any(session.execute(q.limit(1)).first() is not None for q in (held, events))


def held_sources(session: Session) -> list[str]:
    stmt = select(PartialRecord.source).where(PartialRecord.status == "held").distinct()
    return list(session.scalars(stmt).all())


# --- files, runs, audit -------------------------------------------------------------------------


def widen_file_ranges(session: Session, stored: pl.DataFrame) -> None:
    """Stretch each file's [first_start, last_start] over the records just stored from it."""
    if stored.is_empty():
        return
    ranges = stored.group_by("file_id").agg(lo=pl.col("start_time").min(), hi=pl.col("start_time").max())
    for file_id, lo, hi in ranges.iter_rows():
        row = session.get(MediationFile, file_id)
        if row is None:
            continue
        row.first_start = lo if row.first_start is None else min(_aware(row.first_start), lo)
        row.last_start = hi if row.last_start is None else max(_aware(row.last_start), hi)
    session.flush()


def overlapping_ranges(
    session: Session, source: str, earliest: datetime, latest: datetime, exclude: int
) -> list[tuple[datetime, datetime]]:
    """Time ranges of other files of the source that reach into [earliest, latest]. A file without a
    range (stored before ranges were kept) counts as covering all time."""
    f = MediationFile
    stmt = select(f.first_start, f.last_start).where(
        f.source == source,
        f.id != exclude,
        f.status.in_(["imported", "importing"]),
        (f.first_start.is_(None)) | ((f.first_start <= latest) & (f.last_start >= earliest)),
    )
    lowest, highest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return [(_aware(a) if a else lowest, _aware(b) if b else highest) for a, b in session.execute(stmt).all()]


def file_by_hash(session: Session, content_hash: str) -> MediationFile | None:
    return session.scalars(select(MediationFile).where(MediationFile.content_hash == content_hash)).first()


def get_file(session: Session, file_id: int) -> MediationFile | None:
    return session.get(MediationFile, file_id)


def add(session: Session, obj: MediationFile | MediationRun | SuspenseRecord) -> None:
    session.add(obj)
    session.flush()


def usage_by_record(session: Session, source: str, record_id: str) -> UsageRecord | None:
    stmt = select(UsageRecord).where(UsageRecord.source == source, UsageRecord.record_id == record_id)
    return session.scalars(stmt).first()


def lines_of_file(session: Session, file_id: int) -> dict[str, list[int]]:
    """Where each line of a file ended up: usage, partial or suspense (for audits and tests)."""
    out: dict[str, list[int]] = {}
    for name, table in (("usage", UsageRecord), ("partial", PartialRecord), ("suspense", SuspenseRecord)):
        stmt = select(table.line_no).where(table.file_id == file_id).order_by(table.line_no)
        out[name] = list(session.scalars(stmt).all())
    return out


def count_rows(
    session: Session, table: type[UsageRecord] | type[SuspenseRecord] | type[PartialRecord]
) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


# --- suspense -----------------------------------------------------------------------------------


def list_suspense(
    session: Session,
    *,
    status: str | None,
    reason: str | None,
    source: str | None,
    limit: int,
    offset: int = 0,
) -> Sequence[SuspenseRecord]:
    stmt = select(SuspenseRecord).order_by(SuspenseRecord.id).limit(limit).offset(offset)
    if status:
        stmt = stmt.where(SuspenseRecord.status == status)
    if reason:
        stmt = stmt.where(SuspenseRecord.reason == reason)
    if source:
        stmt = stmt.where(SuspenseRecord.source == source)
    return session.scalars(stmt).all()


def suspense_summary(session: Session) -> list[tuple[str, str, int]]:
    stmt = (
        select(SuspenseRecord.status, SuspenseRecord.reason, func.count())
        .group_by(SuspenseRecord.status, SuspenseRecord.reason)
        .order_by(SuspenseRecord.status, SuspenseRecord.reason)
    )
    return [(s, r, int(n)) for s, r, n in session.execute(stmt).all()]


def get_suspense(session: Session, ids: Sequence[int]) -> Sequence[SuspenseRecord]:
    stmt = select(SuspenseRecord).where(SuspenseRecord.id.in_(list(ids))).order_by(SuspenseRecord.id)
    return session.scalars(stmt).all()


def window(start: datetime, end: datetime, seconds: int) -> tuple[datetime, datetime]:
    return start - timedelta(seconds=seconds), end + timedelta(seconds=seconds)


# --- usage reads (HTTP edge) --------------------------------------------------------------------


def usage_ids(session: Session, source: str, record_ids: Sequence[str]) -> dict[str, int]:
    """record_id -> usage_records.id for those stored."""
    found: dict[str, int] = {}
    for chunk in _chunks(session, list(record_ids)):
        stmt = select(UsageRecord.record_id, UsageRecord.id).where(
            UsageRecord.source == source, UsageRecord.record_id.in_(list(chunk))
        )
        found |= {r: i for r, i in session.execute(stmt).all()}
    return found


def _usage_row(record: UsageRecord) -> dict[str, object]:
    out = {c: getattr(record, c) for c in ["id", *USAGE_COLUMNS]}
    out["start_time"] = _aware(record.start_time)
    return out


def list_usage(
    session: Session,
    *,
    start_from: datetime | None,
    start_to: datetime | None,
    usage_type: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, object]], int]:
    """A page of stored usage (oldest id first) and how many match in all."""
    where = []
    if start_from is not None:
        where.append(UsageRecord.start_time >= start_from)
    if start_to is not None:
        where.append(UsageRecord.start_time <= start_to)
    if usage_type is not None:
        where.append(UsageRecord.usage_type == usage_type)
    total = int(session.scalar(select(func.count()).select_from(UsageRecord).where(*where)) or 0)
    stmt = select(UsageRecord).where(*where).order_by(UsageRecord.id).offset(offset).limit(limit)
    return [_usage_row(r) for r in session.scalars(stmt).all()], total


def get_usage(session: Session, usage_id: int) -> dict[str, object] | None:
    record = session.get(UsageRecord, usage_id)
    return None if record is None else _usage_row(record)
