"""Mediation tables: imported files, runs with control totals, usage, held partials, suspense."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, UTCDateTime, id_column


class MediationRun(Base):
    """One `mediate` invocation. Control totals: records_in = accepted + suspended + duplicates + dropped."""

    __tablename__ = "mediation_runs"

    id: Mapped[int] = id_column()
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    files: Mapped[int] = mapped_column(Integer, default=0)
    files_rejected: Mapped[int] = mapped_column(Integer, default=0)
    files_skipped: Mapped[int] = mapped_column(Integer, default=0)
    records_in: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    suspended: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)


class MediationFile(Base):
    """A file imported once: its content hash is unique. Rejected files may be imported again."""

    __tablename__ = "mediation_files"

    id: Mapped[int] = id_column()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("mediation_runs.id"), default=None)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(60))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # importing | imported | rejected
    reject_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    message: Mapped[str | None] = mapped_column(Text, default=None)
    source_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    records_in: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    suspended: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)
    partials: Mapped[int] = mapped_column(BigInteger, default=0)  # of accepted: partial records
    events_correlated: Mapped[int] = mapped_column(BigInteger, default=0)
    # Earliest and latest start time of the records stored from this file (usage and partials):
    # an import looks for stored duplicates only where another file's range overlaps its records.
    first_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UsageRecord(Base):
    """A normalised, validated, guided usage event ready for rating. (source, record_id) is unique."""

    __tablename__ = "usage_records"

    id: Mapped[int] = id_column()
    record_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(60))
    file_id: Mapped[int] = mapped_column(BigInteger)  # mediation_files.id; no FK: see docs (bulk COPY)
    line_no: Mapped[int] = mapped_column(BigInteger)
    usage_type: Mapped[str] = mapped_column(String(8))
    served_msisdn: Mapped[str | None] = mapped_column(String(20))
    served_imsi: Mapped[str | None] = mapped_column(String(20))
    other_party: Mapped[str | None] = mapped_column(String(24))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[int | None] = mapped_column(BigInteger)
    volume_up: Mapped[int | None] = mapped_column(BigInteger)
    volume_down: Mapped[int | None] = mapped_column(BigInteger)
    visited_mcc: Mapped[str | None] = mapped_column(String(3))
    visited_mnc: Mapped[str | None] = mapped_column(String(3))
    roaming: Mapped[bool] = mapped_column(Boolean)
    cell_id: Mapped[str | None] = mapped_column(String(40))
    rating_group: Mapped[int | None] = mapped_column(BigInteger)
    charging_id: Mapped[str | None] = mapped_column(String(40))
    record_sequence: Mapped[int | None] = mapped_column(BigInteger)
    cause_for_closing: Mapped[str | None] = mapped_column(String(40))
    partial: Mapped[bool] = mapped_column(Boolean)  # true: correlated from partial records
    subscription_id: Mapped[int] = mapped_column(BigId)
    account_id: Mapped[int] = mapped_column(BigId)
    content_hash: Mapped[int] = mapped_column(BigInteger)

    # No btree on content_hash: it cost a quarter of COPY time. Content look-ups read a time range
    # through a BRIN index (almost free to maintain, as records arrive roughly in time order).
    # Sessions closed by a correlated event are found by their event (a partial index: events only),
    # so that partials merged into it need no session index entry of their own.
    __table_args__ = (
        UniqueConstraint("source", "record_id"),
        Index("ix_usage_records_start_brin", "start_time", postgresql_using="brin"),
        Index(
            "ix_usage_records_session",
            "source",
            "charging_id",
            postgresql_where=text("partial"),
            sqlite_where=text("partial"),
        ),
    )


class PartialRecord(Base):
    """A partial record: held until its session completes, then merged, or expired to suspense.

    Keyed by (source, record_id) with no surrogate id: nothing refers to a partial, and every index
    entry is paid for on each of the hundreds of thousands of partials a large file brings."""

    __tablename__ = "partial_records"

    record_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(60))
    file_id: Mapped[int] = mapped_column(BigInteger)  # mediation_files.id (no FK, as usage_records)
    line_no: Mapped[int] = mapped_column(BigInteger)
    usage_type: Mapped[str] = mapped_column(String(8))
    served_msisdn: Mapped[str | None] = mapped_column(String(20))
    served_imsi: Mapped[str | None] = mapped_column(String(20))
    other_party: Mapped[str | None] = mapped_column(String(24))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_s: Mapped[int | None] = mapped_column(BigInteger)
    volume_up: Mapped[int | None] = mapped_column(BigInteger)
    volume_down: Mapped[int | None] = mapped_column(BigInteger)
    visited_mcc: Mapped[str | None] = mapped_column(String(3))
    visited_mnc: Mapped[str | None] = mapped_column(String(3))
    roaming: Mapped[bool] = mapped_column(Boolean)
    cell_id: Mapped[str | None] = mapped_column(String(40))
    rating_group: Mapped[int | None] = mapped_column(BigInteger)
    charging_id: Mapped[str] = mapped_column(String(40))
    record_sequence: Mapped[int] = mapped_column(BigInteger)
    cause_for_closing: Mapped[str | None] = mapped_column(String(40))
    partial: Mapped[bool] = mapped_column(Boolean)
    subscription_id: Mapped[int] = mapped_column(BigId)
    account_id: Mapped[int] = mapped_column(BigId)
    content_hash: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))  # held | merged | expired
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # The session index leaves merged partials out: held ones are looked up by session, expired
    # ones tell that a session is closed; a merged session is found by its event in usage_records.
    __table_args__ = (
        PrimaryKeyConstraint("source", "record_id"),
        Index(
            "ix_partial_records_session",
            "source",
            "charging_id",
            postgresql_where=text("status <> 'merged'"),
            sqlite_where=text("status <> 'merged'"),
        ),
        Index(
            "ix_partial_records_held",
            "source",
            postgresql_where=text("status = 'held'"),
            sqlite_where=text("status = 'held'"),
        ),
        Index("ix_partial_records_start_brin", "start_time", postgresql_using="brin"),
    )


class SuspenseRecord(Base):
    """A record that did not become usage: raw content, reason, and what operators did about it."""

    __tablename__ = "suspense_records"

    id: Mapped[int] = id_column()
    source: Mapped[str] = mapped_column(String(60))
    file_id: Mapped[int] = mapped_column(ForeignKey("mediation_files.id"))
    line_no: Mapped[int] = mapped_column(BigInteger)
    record_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(24))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    corrections: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    status: Mapped[str] = mapped_column(String(10))  # open | recycled | dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_suspense_records_status_reason", "status", "reason"),
        Index("ix_suspense_records_file", "file_id", "line_no"),
    )
