"""Every SQL statement of the accounts context."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from telbill.accounts.model import BillingAccount, BillingAccountCycleChange, Contact, Customer, NumberCounter


def add(session: Session, row: Any) -> Any:
    """Add and flush, so the caller sees the id (events name the aggregate by id)."""
    session.add(row)
    session.flush()
    return row


def get_customer(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def customer_by_number(session: Session, number: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.number == number)).one_or_none()


def get_account(session: Session, account_id: int) -> BillingAccount | None:
    return session.get(BillingAccount, account_id)


def account_by_number(session: Session, number: str) -> BillingAccount | None:
    return session.scalars(select(BillingAccount).where(BillingAccount.number == number)).one_or_none()


def accounts_by_ids(session: Session, ids: Iterable[int]) -> dict[int, BillingAccount]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(BillingAccount).where(BillingAccount.id.in_(wanted))).all()
    return {row.id: row for row in rows}


def children_of(session: Session, parent_ids: Sequence[int]) -> Sequence[BillingAccount]:
    if not parent_ids:
        return []
    stmt = (
        select(BillingAccount)
        .where(BillingAccount.parent_id.in_(list(parent_ids)))
        .order_by(BillingAccount.id)
    )
    return session.scalars(stmt).all()


def _filtered(stmt: Select[Any], filters: dict[str, Any]) -> Select[Any]:
    if filters.get("customer_id") is not None:
        stmt = stmt.where(BillingAccount.customer_id == filters["customer_id"])
    if filters.get("status"):
        stmt = stmt.where(BillingAccount.status == filters["status"])
    if filters.get("currency"):
        stmt = stmt.where(BillingAccount.currency == filters["currency"])
    if filters.get("parent_id") is not None:
        stmt = stmt.where(BillingAccount.parent_id == filters["parent_id"])
    if filters.get("roots_only"):
        stmt = stmt.where(BillingAccount.parent_id.is_(None))
    if filters.get("search"):
        pattern = f"%{filters['search'].lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(BillingAccount.name).like(pattern), func.lower(BillingAccount.number).like(pattern)
            )
        )
    return stmt


def list_accounts(session: Session, *, limit: int, offset: int, **filters: Any) -> Sequence[BillingAccount]:
    stmt = _filtered(select(BillingAccount), filters).order_by(BillingAccount.id).limit(limit).offset(offset)
    return session.scalars(stmt).all()


def count_accounts(session: Session, **filters: Any) -> int:
    stmt = _filtered(select(func.count()).select_from(BillingAccount), filters)
    return int(session.scalar(stmt) or 0)


def contacts_of(
    session: Session, *, customer_id: int | None, billing_account_id: int | None
) -> Sequence[Contact]:
    stmt = select(Contact).order_by(Contact.id)
    if customer_id is not None:
        stmt = stmt.where(Contact.customer_id == customer_id)
    if billing_account_id is not None:
        stmt = stmt.where(Contact.billing_account_id == billing_account_id)
    return session.scalars(stmt).all()


def cycle_changes(session: Session, account_id: int) -> Sequence[BillingAccountCycleChange]:
    stmt = (
        select(BillingAccountCycleChange)
        .where(BillingAccountCycleChange.billing_account_id == account_id)
        .order_by(BillingAccountCycleChange.effective_at, BillingAccountCycleChange.id)
    )
    return session.scalars(stmt).all()


def allocate_numbers(session: Session, series: str, count: int) -> int:
    """Reserve `count` consecutive numbers of a series; returns the first. The counter row is locked."""
    dialect = session.get_bind().dialect.name
    ensure = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        ensure(NumberCounter)
        .values(series=series, next_value=1)
        .on_conflict_do_nothing(index_elements=["series"])
    )
    stmt = (
        update(NumberCounter)
        .where(NumberCounter.series == series)
        .values(next_value=NumberCounter.next_value + count)
        .returning(NumberCounter.next_value)
    )
    after = int(session.execute(stmt).scalar_one())
    return after - count


def insert_many(session: Session, table: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Core executemany insert returning ids in the order of `rows` (insertmanyvalues batches)."""
    if not rows:
        return []
    stmt = insert(table).returning(table.id, sort_by_parameter_order=True)
    return [row.id for row in session.execute(stmt, list(rows))]
