"""Every SQL statement of rating. Bulk rows go by COPY on PostgreSQL and executemany on SQLite.

Usage records, accounts, subscriptions and invoice lines are read here with joins on the other
contexts' tables (read only), as the bill run's repository does: one query per batch instead of a
call per record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from telbill.accounts import BillingAccount, BillingAccountCycleChange
from telbill.invoicing.model import Invoice, InvoiceLineRow
from telbill.mediation.model import UsageRecord
from telbill.rating.model import AllowanceBalance, RatedUsage, RatingAdjustment, RatingRun
from telbill.subscriptions.model import Subscription, SubscriptionChange

CHUNK = 5000
UTC_US = pl.Datetime("us", "UTC")

USAGE_SCHEMA: dict[str, pl.DataType] = {
    "usage_record_id": pl.Int64(),
    "record_id": pl.String(),
    "usage_type": pl.String(),
    "other_party": pl.String(),
    "start_time": UTC_US,
    "duration_s": pl.Int64(),
    "volume_up": pl.Int64(),
    "volume_down": pl.Int64(),
    "roaming": pl.Boolean(),
    "visited_mcc": pl.String(),
    "visited_mnc": pl.String(),
    "subscription_id": pl.Int64(),
    "account_id": pl.Int64(),
}
_USAGE_COLUMNS = (
    UsageRecord.id, UsageRecord.record_id, UsageRecord.usage_type, UsageRecord.other_party,
    UsageRecord.start_time, UsageRecord.duration_s, UsageRecord.volume_up, UsageRecord.volume_down,
    UsageRecord.roaming, UsageRecord.visited_mcc, UsageRecord.visited_mnc, UsageRecord.subscription_id,
    UsageRecord.account_id,
)  # fmt: skip


def _chunks(ids: Collection[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def _current_rated() -> Any:
    r = RatedUsage
    return exists().where(r.usage_record_id == UsageRecord.id, r.superseded_by.is_(None), r.status == "rated")


# --- runs ----------------------------------------------------------------------------------------


def add_run(session: Session, run: RatingRun) -> RatingRun:
    session.add(run)
    session.flush()
    return run


# --- usage records -------------------------------------------------------------------------------


def pending_counts(session: Session) -> list[tuple[int, int]]:
    """(account, records not rated yet or failed) for every account with such records."""
    stmt = (
        select(UsageRecord.account_id, func.count())
        .where(~_current_rated())
        .group_by(UsageRecord.account_id)
        .order_by(UsageRecord.account_id)
    )
    return [(a, n) for a, n in session.execute(stmt).all()]


def _frame(rows: Sequence[Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=USAGE_SCHEMA, orient="row")


def pending_usage(session: Session, account_ids: Collection[int]) -> pl.DataFrame:
    """Usage records of these accounts without a current rated row (new, or failed before)."""
    rows: list[Any] = []
    for chunk in _chunks(account_ids):
        stmt = select(*_USAGE_COLUMNS).where(UsageRecord.account_id.in_(chunk), ~_current_rated())
        rows += session.execute(stmt).all()
    return _frame(rows).sort("account_id", "start_time", "usage_record_id")


def usage_between(
    session: Session, account_ids: Collection[int] | None, start: datetime, end: datetime
) -> pl.DataFrame:
    """Every usage record starting in `[start, end)` (of these accounts, or all)."""
    stmt = select(*_USAGE_COLUMNS).where(UsageRecord.start_time >= start, UsageRecord.start_time < end)
    rows: list[Any] = []
    if account_ids is None:
        rows = list(session.execute(stmt).all())
    else:
        for chunk in _chunks(account_ids):
            rows += session.execute(stmt.where(UsageRecord.account_id.in_(chunk))).all()
    return _frame(rows).sort("account_id", "start_time", "usage_record_id")


def usage_record(session: Session, usage_record_id: int) -> pl.DataFrame:
    return _frame(session.execute(select(*_USAGE_COLUMNS).where(UsageRecord.id == usage_record_id)).all())


# --- accounts and subscriptions ------------------------------------------------------------------


def accounts(session: Session) -> list[BillingAccount]:
    return list(session.scalars(select(BillingAccount)))


def cycle_changes(session: Session) -> list[BillingAccountCycleChange]:
    stmt = select(BillingAccountCycleChange).order_by(
        BillingAccountCycleChange.billing_account_id, BillingAccountCycleChange.effective_at
    )
    return list(session.scalars(stmt))


def subscriptions_of(session: Session, account_ids: Collection[int]) -> list[Subscription]:
    out: list[Subscription] = []
    for chunk in _chunks(account_ids):
        out += session.scalars(select(Subscription).where(Subscription.account_id.in_(chunk)))
    return out


def plan_changes(session: Session, subscription_ids: Collection[int]) -> list[SubscriptionChange]:
    out: list[SubscriptionChange] = []
    for chunk in _chunks(subscription_ids):
        stmt = (
            select(SubscriptionChange)
            .where(
                SubscriptionChange.subscription_id.in_(chunk),
                SubscriptionChange.kind == "plan_change",
                SubscriptionChange.status == "applied",
            )
            .order_by(SubscriptionChange.subscription_id, SubscriptionChange.effective_at)
        )
        out += session.scalars(stmt)
    return out


# --- rated usage ---------------------------------------------------------------------------------


def bulk_insert(session: Session, table: str, frame: pl.DataFrame) -> None:
    """Append the frame's rows to `table` (columns by name), in the session's transaction."""
    if frame.is_empty():
        return
    conn = session.connection()
    times = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    if conn.dialect.name == "postgresql":
        text = frame.with_columns(pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S%.6f+00") for c in times)
        cols = ", ".join(frame.columns)
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:  # type: ignore[union-attr]
            for chunk in text.iter_slices(200_000):
                copy.write(chunk.write_csv(include_header=False))
    else:
        text = frame.with_columns(pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S%.6f") for c in times)
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({marks})"
        conn.exec_driver_sql(sql, text.rows())  # type: ignore[arg-type]


def insert_rated(session: Session, frame: pl.DataFrame) -> None:
    bulk_insert(session, RatedUsage.__tablename__, frame)


def current_rows(session: Session, usage_record_ids: Collection[int]) -> pl.DataFrame:
    """The current rated row of each of these usage records (id, generation, status, result)."""
    r = RatedUsage
    cols = (
        r.usage_record_id, r.id, r.generation, r.status, r.reason, r.subscription_id, r.charge_code,
        r.pricing, r.amount_micros, r.quantity_base, r.currency, r.billing_period_start, r.invoice_id,
        r.offer_code, r.tariff_code, r.tariff_version, r.free_quantity, r.bucket_ids,
    )  # fmt: skip
    rows: list[Any] = []
    for chunk in _chunks(usage_record_ids):
        rows += session.execute(select(*cols).where(r.usage_record_id.in_(chunk), r.superseded_by.is_(None)))
    schema = {
        "usage_record_id": pl.Int64, "rated_id": pl.Int64, "generation": pl.Int64, "status": pl.String,
        "reason": pl.String, "subscription_id": pl.Int64, "charge_code": pl.String, "pricing": pl.String,
        "amount_micros": pl.Int64, "quantity_base": pl.Int64, "currency": pl.String,
        "billing_period_start": UTC_US, "invoice_id": pl.Int64, "offer_code": pl.String,
        "tariff_code": pl.String, "tariff_version": pl.Int64, "free_quantity": pl.Int64,
        "bucket_ids": pl.String,
    }  # fmt: skip
    return pl.DataFrame([tuple(x) for x in rows], schema=schema, orient="row")


def supersede(session: Session, rated_ids: Collection[int], run_id: int) -> None:
    for chunk in _chunks(rated_ids):
        session.execute(update(RatedUsage).where(RatedUsage.id.in_(chunk)).values(superseded_by=run_id))


def rated_row(session: Session, rated_id: int) -> RatedUsage | None:
    return session.get(RatedUsage, rated_id)


def current_of_record(session: Session, usage_record_id: int) -> RatedUsage | None:
    stmt = select(RatedUsage).where(
        RatedUsage.usage_record_id == usage_record_id, RatedUsage.superseded_by.is_(None)
    )
    return session.scalars(stmt).first()


# --- balances ------------------------------------------------------------------------------------


def balances(session: Session, bucket_ids: Collection[str]) -> dict[str, AllowanceBalance]:
    out: dict[str, AllowanceBalance] = {}
    ids = sorted(bucket_ids)
    for i in range(0, len(ids), CHUNK):
        stmt = select(AllowanceBalance).where(AllowanceBalance.bucket_id.in_(ids[i : i + CHUNK]))
        out.update({b.bucket_id: b for b in session.scalars(stmt)})
    return out


def add_balances(session: Session, rows: Sequence[AllowanceBalance]) -> None:
    session.add_all(rows)
    session.flush()


# --- aggregates for the bill run -----------------------------------------------------------------


def aggregate_rows(session: Session, account_ids: Sequence[int], start: datetime, end: datetime) -> list[Any]:
    """Current rated usage of tariff and model charges summed per account, subscription, charge,
    usage type, destination and billing period (one GROUP BY per chunk of accounts)."""
    r = RatedUsage
    keys = (
        r.account_id,
        r.subscription_id,
        r.charge_code,
        r.usage_type,
        r.destination,
        r.billing_period_start,
    )
    stmt = (
        select(
            *keys,
            func.sum(r.quantity_base),
            func.sum(func.coalesce(r.amount_micros, 0)),
            func.count(),
        )
        .where(
            r.superseded_by.is_(None),
            r.status == "rated",
            r.pricing.in_(("tariff", "model")),
            r.billing_period_start >= start,
            r.billing_period_start < end,
        )
        .group_by(*keys)
    )
    rows: list[Any] = []
    for chunk in _chunks(account_ids):
        rows += session.execute(stmt.where(r.account_id.in_(chunk))).all()
    return rows


# --- invoiced usage and adjustments --------------------------------------------------------------


def usage_lines(session: Session, subscription_ids: Collection[int]) -> list[tuple[int, str, int]]:
    """(invoice id, source_ref, subscription) of usage lines on finalised invoices."""
    out: list[tuple[int, str, int]] = []
    for chunk in _chunks(subscription_ids):
        stmt = (
            select(InvoiceLineRow.invoice_id, InvoiceLineRow.source_ref, InvoiceLineRow.subscription_id)
            .join(Invoice, Invoice.id == InvoiceLineRow.invoice_id)
            .where(
                InvoiceLineRow.subscription_id.in_(chunk),
                Invoice.state != "draft",
                or_(InvoiceLineRow.source_ref.like("us|%"), InvoiceLineRow.source_ref.like("ad|%")),
            )
        )
        out += [(a, b, c) for a, b, c in session.execute(stmt).all()]
    return out


def mark_invoiced(
    session: Session, invoice_id: int, subscription_id: int, charge_code: str, period_start: datetime
) -> int:
    stmt = (
        update(RatedUsage)
        .where(
            RatedUsage.subscription_id == subscription_id,
            RatedUsage.charge_code == charge_code,
            RatedUsage.billing_period_start == period_start,
            RatedUsage.superseded_by.is_(None),
            RatedUsage.status == "rated",
            RatedUsage.invoice_id.is_(None),
        )
        .values(invoice_id=invoice_id)
    )
    return session.execute(stmt).rowcount  # type: ignore[attr-defined]


def mark_adjustment_billed(session: Session, adjustment_id: int, invoice_id: int) -> None:
    session.execute(
        update(RatingAdjustment)
        .where(RatingAdjustment.id == adjustment_id, RatingAdjustment.status == "pending")
        .values(status="billed", invoice_id=invoice_id)
    )


def adjustments_of(
    session: Session, subscription_ids: Collection[int], status: str | None = None
) -> list[RatingAdjustment]:
    out: list[RatingAdjustment] = []
    for chunk in _chunks(subscription_ids):
        stmt = select(RatingAdjustment).where(RatingAdjustment.subscription_id.in_(chunk))
        if status:
            stmt = stmt.where(RatingAdjustment.status == status)
        out += session.scalars(stmt)
    return out


def pending_adjustments(
    session: Session, account_ids: Sequence[int], before: datetime
) -> list[RatingAdjustment]:
    out: list[RatingAdjustment] = []
    for chunk in _chunks(account_ids):
        stmt = select(RatingAdjustment).where(
            RatingAdjustment.account_id.in_(chunk),
            RatingAdjustment.status == "pending",
            RatingAdjustment.billing_period_start < before,
        )
        out += session.scalars(stmt.order_by(RatingAdjustment.id))
    return out


def delete_adjustment(session: Session, adjustment_id: int) -> None:
    session.execute(delete(RatingAdjustment).where(RatingAdjustment.id == adjustment_id))


def revenue(session: Session, run_ids: Collection[int] | None = None) -> list[Any]:
    """Current rated usage by usage type, scope and destination: records, quantity, amount per currency."""
    r = RatedUsage
    keys = (r.usage_type, r.scope, r.destination, r.pricing, r.currency)
    stmt = (
        select(*keys, func.count(), func.sum(r.quantity_base), func.sum(func.coalesce(r.amount_micros, 0)))
        .where(r.superseded_by.is_(None), r.status == "rated")
        .group_by(*keys)
        .order_by(*keys)
    )
    if run_ids is not None:
        stmt = stmt.where(r.rating_run_id.in_(list(run_ids)))
    return list(session.execute(stmt).all())


def failures(session: Session) -> list[tuple[str, int]]:
    r = RatedUsage
    stmt = (
        select(r.reason, func.count())
        .where(r.superseded_by.is_(None), r.status == "failed")
        .group_by(r.reason)
        .order_by(func.count().desc())
    )
    return [(a, n) for a, n in session.execute(stmt).all()]
