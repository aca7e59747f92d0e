"""TMF635 Usage Management: post usage (one or a batch), upload a usage file, read mediated usage.

Posted records go through the same pipeline as files and the answer says, per record, whether it
was accepted, suspended (with its reason code), a duplicate or dropped. Writes go through
`perform_write` (one transaction, `Idempotency-Key` replays the first answer).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from telbill.api import (
    PrincipalDep,
    SessionDep,
    json_body,
    page_bounds,
    perform_write,
    select_fields,
    set_count_headers,
)
from telbill.core.clock import Clock, parse_instant
from telbill.core.errors import NotFound, ValidationFailed
from telbill.mediation import ingest, tmf
from telbill.mediation import repository as repo
from telbill.mediation.directory import IntervalCache
from telbill.mediation.sources import SourceConfig, load_sources, resolve_source

router = APIRouter(prefix=tmf.BASE, tags=["usageManagement"])
MAX_UPLOAD = 512 << 20
STATUSES = ("received", "rejected", "recycled", "guided", "rated", "rerated", "billed")


def _intervals(request: Request, session: Session) -> pl.DataFrame:
    """Service-id intervals from the app's cache (reloaded when the directory changed)."""
    cache = getattr(request.app.state, "mediation_intervals", None)
    if cache is None:
        cache = request.app.state.mediation_intervals = IntervalCache()
    return cache.intervals(session)


def _source(name: str | None, filename: str | None = None) -> SourceConfig:
    """The named built-in source; for a file without one, the source its extension implies."""
    if name is None and filename is None:
        name = "tmf635"
    return resolve_source(load_sources(None), name, Path(filename or "upload"))


@router.post("/usage")
async def post_usage(
    request: Request, principal: PrincipalDep, source: Annotated[str | None, Query()] = None
) -> JSONResponse:
    """One TMF635 Usage or a list; the answer lists what became of each record."""
    principal.require("write")
    cfg = _source(source)
    usages = tmf.usages_of(json_body(await request.body()))
    rows = [tmf.staging_row(u) for u in usages]

    def handler(session: Session, clock: Clock) -> tuple[int, Any]:
        intervals = _intervals(request, session)
        name = f"http:{request.headers.get('idempotency-key') or clock.now().isoformat()}"
        got = ingest.ingest_records(session, clock, rows, cfg, intervals, name=name)
        results = [_record_json(r) for r in got.records]
        status = 201 if any(r.result == "accepted" for r in got.records) else 200
        return status, ingest.result_json(got.file) | {"results": results}

    return await perform_write(request, principal, handler)


def _record_json(r: ingest.RecordResult) -> dict[str, Any]:
    out: dict[str, Any] = {"line": r.line_no, "id": r.record_id, "result": r.result}
    if r.reason is not None:
        out |= {"reason": r.reason, "message": r.message}
    if r.usage_id is not None:
        out["href"] = f"{tmf.BASE}/usage/{r.usage_id}"
    return out


@router.post("/usageFile")
async def post_usage_file(
    request: Request,
    principal: PrincipalDep,
    source: Annotated[str | None, Query()] = None,
    name: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    """A whole usage file as the raw body (CSV, JSON Lines or BER; gzip allowed), imported once."""
    principal.require("write")
    content = await request.body()
    if not content:
        raise ValidationFailed("the request body is empty: send the file's bytes")
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed(
            f"the file is larger than {MAX_UPLOAD >> 20} MiB; drop it in a watched directory"
        )
    if source is None and name is None:
        raise ValidationFailed(
            "say which source wrote the file (?source=NAME) or give its name (?name=x.csv)"
        )
    cfg = _source(source, name)
    filename = name or f"upload.{cfg.format}"

    def handler(session: Session, clock: Clock) -> tuple[int, Any]:
        intervals = _intervals(request, session)
        result = ingest.ingest_upload(session, clock, content, filename, cfg, intervals)
        status = {"imported": 201, "skipped": 200}.get(result.status, 422)
        return status, ingest.result_json(result)

    return await perform_write(request, principal, handler)


@router.get("/usage")
def list_usage(
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    offset: int | None = None,
    limit: int | None = None,
    fields: str | None = None,
    usage_type: Annotated[str | None, Query(alias="usageType")] = None,
    status: str | None = None,
    date_from: Annotated[str | None, Query(alias="usageDate.gte")] = None,
    date_to: Annotated[str | None, Query(alias="usageDate.lte")] = None,
) -> list[dict[str, Any]]:
    """Mediated usage records (status `guided`), oldest first."""
    principal.require("read")
    start, size = page_bounds(offset, limit)
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}")
    if status not in (None, "guided"):
        set_count_headers(response, 0, 0)
        return []
    rows, total = repo.list_usage(
        session,
        start_from=_instant(date_from, "usageDate.gte"),
        start_to=_instant(date_to, "usageDate.lte"),
        usage_type=usage_type,
        offset=start,
        limit=size,
    )
    items = select_fields([tmf.usage_json(r) for r in rows], fields)
    set_count_headers(response, total, len(items))
    return items


@router.get("/usage/{usage_id}")
def get_usage(session: SessionDep, principal: PrincipalDep, usage_id: str) -> dict[str, Any]:
    principal.require("read")
    row = repo.get_usage(session, int(usage_id)) if usage_id.isdigit() else None
    if row is None:
        raise NotFound(f"usage {usage_id!r} does not exist")
    return tmf.usage_json(row)


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except (ValueError, ValidationFailed):
        raise ValidationFailed(f"{name} must be an ISO 8601 instant, got {text!r}") from None
