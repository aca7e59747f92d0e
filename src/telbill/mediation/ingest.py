"""Use cases of the HTTP edge: records posted as a batch, a whole file uploaded. Never commits.

A posted batch is stored like a small file (a `mediation_files` row named after the request) and
goes through exactly the pipeline of files; its content hash includes the instant and a random
part, because posting the same records again must answer "duplicate" for each, not "file already
imported".
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.mediation import repository as repo
from telbill.mediation.guide import conform_intervals
from telbill.mediation.model import MediationFile
from telbill.mediation.normalise import NumberBook
from telbill.mediation.pipeline import process_batch
from telbill.mediation.readers import ReadBatch, to_staging
from telbill.mediation.schema import STAGING_FIELDS, Reason, empty_rejects
from telbill.mediation.service import FileResult, finish_file, import_file, settle_batch
from telbill.mediation.sources import SourceConfig

RESULTS = {Reason.DUPLICATE.value: "duplicate", Reason.ZERO_USAGE.value: "dropped"}


@dataclass(frozen=True)
class RecordResult:
    line_no: int  # position in the posted batch, from 1
    record_id: str | None
    result: str  # accepted | suspended | duplicate | dropped
    reason: str | None = None
    message: str | None = None
    usage_id: int | None = None  # the stored usage record, once there is one (not for held partials)


@dataclass(frozen=True)
class IngestResult:
    file: FileResult
    records: list[RecordResult]


def ingest_records(
    session: Session,
    clock: Clock,
    rows: list[dict[str, str | None]],
    source: SourceConfig,
    intervals: pl.DataFrame,
    *,
    name: str,
) -> IngestResult:
    """Mediate records given as staging rows (text fields); say what became of each one."""
    now = clock.now()
    body = json.dumps(rows, sort_keys=True)
    digest = hashlib.sha256(f"{body}\n{now.isoformat()}\n{uuid.uuid4().hex}".encode()).hexdigest()
    row = MediationFile(
        content_hash=digest,
        name=name[:255],
        source=source.name,
        size_bytes=len(body),
        imported_at=now,
        source_config=source.model_dump(),
        status="importing",
    )
    repo.add(session, row)
    schema = {"line_no": pl.Int64} | {f: pl.String for f in STAGING_FIELDS}
    frame = pl.DataFrame(
        [{"line_no": i + 1} | {f: r.get(f) for f in STAGING_FIELDS} for i, r in enumerate(rows)],
        schema=schema,
        orient="row",
    )
    batch = ReadBatch(to_staging(frame, source.name, row.id), empty_rejects())
    outcome = process_batch(
        batch.staging, source, conform_intervals(intervals), now, NumberBook(source.country)
    )
    totals, rejects = settle_batch(session, now, source, row.id, batch, outcome)
    totals.check(f"request {name}")
    finish_file(session, clock, row, None, totals)
    results = _per_record(session, source.name, rows, rejects)
    return IngestResult(FileResult(row.name, source.name, "imported", row.id, totals=totals), results)


def _per_record(
    session: Session, source: str, rows: list[dict[str, str | None]], rejects: pl.DataFrame
) -> list[RecordResult]:
    why = {n: (r, m) for n, r, m in rejects.select("line_no", "reason", "message").iter_rows()}
    accepted = [r.get("record_id") for i, r in enumerate(rows) if i + 1 not in why]
    stored = repo.usage_ids(session, source, [a for a in accepted if a is not None])
    out = []
    for i, r in enumerate(rows):
        record_id = r.get("record_id")
        if i + 1 in why:
            reason, message = why[i + 1]
            out.append(RecordResult(i + 1, record_id, RESULTS.get(reason, "suspended"), reason, message))
        else:
            out.append(RecordResult(i + 1, record_id, "accepted", usage_id=stored.get(record_id or "")))
    return out


def ingest_upload(
    session: Session,
    clock: Clock,
    content: bytes,
    name: str,
    source: SourceConfig,
    intervals: pl.DataFrame,
) -> FileResult:
    """A whole file sent in a request body (gzip or not): imported once, as from a directory."""
    safe = Path(name).name or "upload"
    with tempfile.TemporaryDirectory(prefix="telbill-upload-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(content)
        return import_file(session, clock, path, source, intervals)


def result_json(result: FileResult) -> dict[str, Any]:
    t = result.totals
    return {
        "fileId": result.file_id,
        "name": result.name,
        "source": result.source,
        "status": result.status,
        "reason": result.reason,
        "message": result.message,
        "totals": {
            "recordsIn": t.records_in,
            "accepted": t.accepted,
            "suspended": t.suspended,
            "duplicates": t.duplicates,
            "dropped": t.dropped,
            "partials": t.partials,
            "eventsCorrelated": t.events_correlated,
        },
    }
