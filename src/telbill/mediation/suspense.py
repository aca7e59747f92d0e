"""Operator use cases on suspense: list, show, correct, recycle, drop. They never commit.

Recycling sends the records through the same pipeline again (with the source declaration the file
was imported with, today's clock and today's service-id intervals): e.g. after the subscriber was
created late. A record that was suspended because its session missed partials (or came too late)
is accepted on its own when recycled, as a standalone event.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import IllegalTransition, NotFound, ValidationFailed
from telbill.events import append_event
from telbill.mediation import repository as repo
from telbill.mediation.guide import conform_intervals
from telbill.mediation.model import SuspenseRecord
from telbill.mediation.normalise import NumberBook
from telbill.mediation.pipeline import process_batch
from telbill.mediation.readers import to_staging
from telbill.mediation.schema import STAGING_FIELDS, Reason
from telbill.mediation.service import settle, suspend
from telbill.mediation.sources import SourceConfig

STANDALONE_ON_RECYCLE = (Reason.MISSING_PARTIAL.value, Reason.LATE_PARTIAL.value)


@dataclass(frozen=True)
class RecycleResult:
    recycled: int  # now usage (or a held partial)
    still_open: int  # failed again, reason updated
    dropped: int  # turned out to be duplicates / nothing to bill


def list_records(
    session: Session,
    *,
    status: str | None = "open",
    reason: str | None = None,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[SuspenseRecord]:
    return repo.list_suspense(
        session, status=status, reason=reason, source=source, limit=limit, offset=offset
    )


def summary(session: Session) -> list[tuple[str, str, int]]:
    """(status, reason, count) over all suspense."""
    return repo.suspense_summary(session)


def get_record(session: Session, suspense_id: int) -> SuspenseRecord:
    found = repo.get_suspense(session, [suspense_id])
    if not found:
        raise NotFound(f"no suspense record {suspense_id}")
    return found[0]


def record_fields(record: SuspenseRecord) -> dict[str, Any] | None:
    """The record's fields as read, with the operator's corrections applied; None if raw is not a record."""
    try:
        fields = json.loads(record.raw)
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        fields = {} if record.corrections else None
    if fields is not None and record.corrections:
        fields |= record.corrections
    return fields


def correct(
    session: Session, clock: Clock, suspense_id: int, changes: dict[str, str | None]
) -> SuspenseRecord:
    """Edit fields of an open record before recycling it."""
    unknown = sorted(set(changes) - set(STAGING_FIELDS))
    if unknown:
        raise ValidationFailed(
            "unknown fields", details=[f"{u} (known: {', '.join(STAGING_FIELDS)})" for u in unknown]
        )
    record = _open(get_record(session, suspense_id))
    record.corrections = (record.corrections or {}) | changes
    record.updated_at = clock.now()
    session.flush()
    return record


def drop(session: Session, clock: Clock, ids: Sequence[int]) -> int:
    records = [_open(r) for r in _all(session, ids)]
    for r in records:
        r.status, r.updated_at = "dropped", clock.now()
    session.flush()
    if records:
        append_event(
            session,
            clock,
            event_type="mediation.suspense_dropped",
            aggregate_type="suspense",
            aggregate_id=records[0].id,
            payload={"ids": [r.id for r in records]},
        )
    return len(records)


def recycle(
    session: Session,
    clock: Clock,
    intervals: pl.DataFrame,
    *,
    ids: Sequence[int] | None = None,
    reason: str | None = None,
    source: str | None = None,
    limit: int = 100_000,
) -> RecycleResult:
    """Send open records (chosen by id, or by reason/source) through the pipeline again."""
    if ids:
        records = [_open(r) for r in _all(session, ids)]
    else:
        records = list(repo.list_suspense(session, status="open", reason=reason, source=source, limit=limit))
    intervals = conform_intervals(intervals)
    by_file: dict[int, list[SuspenseRecord]] = defaultdict(list)
    for r in records:
        by_file[r.file_id].append(r)
    totals = [0, 0, 0]
    for file_id, items in by_file.items():
        done = _recycle_file(session, clock, intervals, file_id, items)
        totals = [a + b for a, b in zip(totals, done, strict=True)]
    result = RecycleResult(*totals)
    if records:
        append_event(
            session,
            clock,
            event_type="mediation.suspense_recycled",
            aggregate_type="suspense",
            aggregate_id=records[0].id,
            payload={"recycled": result.recycled, "still_open": result.still_open, "dropped": result.dropped},
        )
    return result


def _recycle_file(
    session: Session, clock: Clock, intervals: pl.DataFrame, file_id: int, items: list[SuspenseRecord]
) -> tuple[int, int, int]:
    file = repo.get_file(session, file_id)
    if file is None:
        raise NotFound(f"file {file_id} of suspense records is gone")
    source = SourceConfig.model_validate(file.source_config)
    now = clock.now()
    rows, unreadable = [], []
    for r in items:
        fields = record_fields(r)
        if fields is None:
            unreadable.append(r)
            continue
        if r.reason in STANDALONE_ON_RECYCLE:
            fields["partial"] = "false"
        rows.append({"line_no": r.line_no} | {f: _text(fields.get(f)) for f in STAGING_FIELDS})
    for r in unreadable:
        r.attempts += 1
        r.message, r.updated_at = "raw content is not a record: correct its fields first", now
    if not rows:
        return 0, len(unreadable), 0
    schema = {"line_no": pl.Int64} | {f: pl.String for f in STAGING_FIELDS}
    staging = to_staging(pl.DataFrame(rows, schema=schema, orient="row"), source.name, file_id)
    outcome = process_batch(staging, source, intervals, now, NumberBook(region=source.country))
    settled = settle(session, now, source, outcome)
    own = settled.rejects.filter(pl.col("file_id") == file_id)
    suspend(session, settled.rejects.filter(pl.col("file_id") != file_id), now)
    failed = {
        line: (reason, msg) for line, reason, msg in own.select("line_no", "reason", "message").iter_rows()
    }
    counts = [0, len(unreadable), 0]
    for r in items:
        if r in unreadable:
            continue
        r.attempts, r.updated_at = r.attempts + 1, now
        if r.line_no not in failed:
            r.status = "recycled"
            counts[0] += 1
            continue
        r.reason, r.message = failed[r.line_no]
        dropped = r.reason in (Reason.DUPLICATE.value, Reason.ZERO_USAGE.value)
        r.status = "dropped" if dropped else "open"
        counts[2 if dropped else 1] += 1
    session.flush()
    return counts[0], counts[1], counts[2]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _all(session: Session, ids: Sequence[int]) -> Sequence[SuspenseRecord]:
    found = repo.get_suspense(session, ids)
    missing = sorted(set(ids) - {r.id for r in found})
    if missing:
        raise NotFound(f"no suspense records {missing}")
    return found


def _open(record: SuspenseRecord) -> SuspenseRecord:
    if record.status != "open":
        raise IllegalTransition(f"suspense record {record.id} is {record.status}, not open")
    return record
