"""Every SQL statement of the API edge: keys and idempotency records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from telbill.api.model import ApiKey, IdempotencyRecord


def key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()


def list_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def add(session: Session, row: ApiKey | IdempotencyRecord) -> None:
    session.add(row)
    session.flush()


def idempotency_record(session: Session, api_key_id: int, key: str) -> IdempotencyRecord | None:
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
    )
    return session.scalars(stmt).one_or_none()
