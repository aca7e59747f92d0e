"""Tables of the bill run: one row per run, one row per (payer account, period) it bills.

`bill_run_items` carries the unique business identity (account, period start): an account's
period is planned once, whatever the runs, crashes and retries. Workers claim pending items
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL) inside the transaction that writes their
invoices, so a crash rolls the claim back with the invoices and the item is pending again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, BigId, UTCDateTime, id_column

ITEM_STATES = ("pending", "claimed", "done", "failed")


class BillRun(Base):
    __tablename__ = "bill_runs"

    id: Mapped[int] = id_column()
    target_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[str] = mapped_column(String(10), default="running")
    trigger: Mapped[str] = mapped_column(String(20), default="cli")  # cli | scheduler | api
    planned: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (CheckConstraint("state IN ('running', 'done')", name="state"),)


class BillRunItem(Base):
    """One payer account and billing period: pending → (claimed) → done | failed (with the error)."""

    __tablename__ = "bill_run_items"

    id: Mapped[int] = id_column()
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("bill_runs.id"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id"))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default="pending")
    worker: Mapped[str | None] = mapped_column(String(40), default=None)
    invoice_id: Mapped[int | None] = mapped_column(BigId, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("account_id", "period_start", name="uq_bill_run_items_account_period"),
        # id last: a worker's claim reads the run's pending items in id order, LIMIT n, from the
        # index (without it, each claim sorted every pending item of the run)
        Index("ix_bill_run_items_run_state", "run_id", "state", "id"),
        CheckConstraint("state IN ('pending', 'claimed', 'done', 'failed')", name="state"),
    )
