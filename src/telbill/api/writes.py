"""Writes: one transaction per request, replayable with an Idempotency-Key.

The response of the first request is stored in the same transaction as its effects, so a
replay returns exactly that response and never applies the change twice. The same key with a
different request body is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill.api import repository
from telbill.api.keys import Principal
from telbill.api.model import IdempotencyRecord
from telbill.core.clock import Clock
from telbill.core.errors import Conflict, ValidationFailed
from telbill.core.exact_json import DECIMAL_TAG, dumps_exact, from_storable

MAX_KEY_LENGTH = 200
Handler = Callable[[Session, Clock], tuple[int, Any]]


class ExactJSONResponse(JSONResponse):
    """JSON whose Decimals are written from their digits, never through a float."""

    def render(self, content: Any) -> bytes:
        return dumps_exact(content)


def _storable(payload: Any) -> Any:
    """JSON-compatible, with Decimals tagged so that they keep their digits in a JSON column."""
    return jsonable_encoder(payload, custom_encoder={Decimal: lambda d: {DECIMAL_TAG: format(d, "f")}})


def _request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


async def perform_write(request: Request, principal: Principal, handler: Handler) -> JSONResponse:
    """Run `handler(session, clock) -> (status, body)` as one committed unit of work."""
    principal.require("write")
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    body = await request.body()
    digest = _request_hash(request.method, request.url.path, body)
    session: Session = request.app.state.sessions()
    clock: Clock = request.app.state.clock
    try:
        if key is not None:
            replay = _replay(session, principal, key, digest)
            if replay is not None:
                return replay
        status, payload = handler(session, clock)
        encoded = _storable(payload)
        if key is not None:
            repository.add(
                session,
                IdempotencyRecord(
                    api_key_id=principal.api_key_id,
                    key=key,
                    method=request.method,
                    path=request.url.path,
                    request_hash=digest,
                    status_code=status,
                    response_body=encoded,
                    created_at=clock.now(),
                ),
            )
        session.commit()
    except IntegrityError:
        session.rollback()
        if key is None:
            raise
        replay = _replay(session, principal, key, digest)  # a concurrent twin won the race
        if replay is None:
            raise
        return replay
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return ExactJSONResponse(from_storable(encoded), status_code=status)


def _replay(session: Session, principal: Principal, key: str, digest: str) -> JSONResponse | None:
    record = repository.idempotency_record(session, principal.api_key_id, key)
    if record is None:
        return None
    if record.request_hash != digest:
        raise Conflict(f"Idempotency-Key {key!r} was already used for a different request")
    response = ExactJSONResponse(from_storable(record.response_body), status_code=record.status_code)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"request body is not valid JSON: {exc.msg} at position {exc.pos}") from None
