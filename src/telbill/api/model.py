"""API keys and the responses remembered for Idempotency-Key replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, UTCDateTime, id_column


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))  # argon2id; the secret itself is never stored
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class IdempotencyRecord(Base):
    __tablename__ = "api_idempotency_records"

    id: Mapped[int] = id_column()
    api_key_id: Mapped[int] = mapped_column(BigId, ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("api_key_id", "key"),)
