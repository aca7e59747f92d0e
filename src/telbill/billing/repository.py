"""Every SQL statement of the bill run: planning, claiming, and the batch loads.

A batch of payers is loaded with a handful of queries (accounts and customers, the children
they pay for, cycle changes, subscriptions, their changes, pending charges, billed lines), each
`IN (...)` chunked so statements stay bounded on both databases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from telbill.accounts import BillingAccount, BillingAccountCycleChange, Customer
from telbill.billing.model import BillRun, BillRunItem
from telbill.invoicing.model import Invoice, InvoiceLineRow
from telbill.subscriptions.model import PendingCharge, Subscription, SubscriptionChange

CHUNK = 5000


def _chunks(ids: Collection[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# runs and items ----------------------------------------------------------------------------------


def add_run(session: Session, run: BillRun) -> BillRun:
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> BillRun | None:
    return session.get(BillRun, run_id)


def payer_rows(session: Session) -> Sequence[Row[Any]]:
    """Active accounts that receive their own invoice (not paid by a parent)."""
    a = BillingAccount
    stmt = select(
        a.id, a.currency, a.timezone, a.bill_cycle_day, a.cycle_unit, a.cycle_count, a.cycle_anchor
    ).where(a.status == "active", a.payment_responsibility == "self")
    return session.execute(stmt).all()


def consolidated_edges(session: Session) -> list[tuple[int, int]]:
    """(child, parent) for every account invoiced on its parent's invoice."""
    a = BillingAccount
    stmt = select(a.id, a.parent_id).where(a.payment_responsibility == "parent", a.parent_id.is_not(None))
    return [(c, p) for c, p in session.execute(stmt).all()]


def earliest_starts(session: Session) -> dict[int, datetime]:
    """Earliest subscription start per account (subscriptions not pending)."""
    s = Subscription
    stmt = select(s.account_id, func.min(s.start_at)).where(s.state != "pending").group_by(s.account_id)
    return {acc: start for acc, start in session.execute(stmt).all()}


def cycle_changes(
    session: Session, account_ids: Collection[int] | None = None
) -> list[BillingAccountCycleChange]:
    stmt = select(BillingAccountCycleChange)
    if account_ids is None:
        return list(session.scalars(stmt.order_by(BillingAccountCycleChange.effective_at)))
    out: list[BillingAccountCycleChange] = []
    for chunk in _chunks(account_ids):
        out += session.scalars(stmt.where(BillingAccountCycleChange.billing_account_id.in_(chunk)))
    return sorted(out, key=lambda c: (c.effective_at, c.id))


def planned_periods(session: Session) -> dict[int, datetime]:
    """The latest period start planned per account (done, pending or failed)."""
    stmt = select(BillRunItem.account_id, func.max(BillRunItem.period_start)).group_by(BillRunItem.account_id)
    return {acc: start for acc, start in session.execute(stmt).all()}


def insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Plan items; an (account, period) already planned by any run is left alone."""
    if not rows:
        return
    insert = pg_insert if dialect(session) == "postgresql" else sqlite_insert
    for i in range(0, len(rows), CHUNK):
        stmt = insert(BillRunItem).on_conflict_do_nothing(index_elements=["account_id", "period_start"])
        session.execute(stmt, list(rows[i : i + CHUNK]))


def reset_failed(session: Session, run_id: int) -> None:
    stmt = update(BillRunItem).where(
        BillRunItem.run_id == run_id, BillRunItem.state.in_(("failed", "claimed"))
    )
    session.execute(stmt.values(state="pending", error=None, worker=None))


def claim(session: Session, run_ids: Collection[int], limit: int) -> list[BillRunItem]:
    """Pending items of these runs, locked to this transaction (SKIP LOCKED on PostgreSQL)."""
    stmt = (
        select(BillRunItem)
        .where(BillRunItem.run_id.in_(list(run_ids)), BillRunItem.state == "pending")
        .order_by(BillRunItem.id)
        .limit(limit)
    )
    if dialect(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def open_run_ids(session: Session) -> list[int]:
    return list(session.scalars(select(BillRun.id).where(BillRun.state == "running").order_by(BillRun.id)))


def count_items(session: Session, run_id: int) -> dict[str, int]:
    stmt = (
        select(BillRunItem.state, func.count())
        .where(BillRunItem.run_id == run_id)
        .group_by(BillRunItem.state)
    )
    return {state: n for state, n in session.execute(stmt).all()}


def pending_left(session: Session, run_id: int) -> int:
    stmt = select(func.count()).where(BillRunItem.run_id == run_id, BillRunItem.state == "pending")
    return int(session.execute(stmt).scalar_one())


def mark_items(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Executemany update by id: state, worker, invoice_id, error, finished_at."""
    if values:
        session.execute(update(BillRunItem), list(values))


# batch loads -------------------------------------------------------------------------------------


def accounts_and_customers(session: Session, ids: Collection[int]) -> list[tuple[BillingAccount, Customer]]:
    out: list[tuple[BillingAccount, Customer]] = []
    for chunk in _chunks(ids):
        stmt = select(BillingAccount, Customer).join(Customer, Customer.id == BillingAccount.customer_id)
        out += [(a, c) for a, c in session.execute(stmt.where(BillingAccount.id.in_(chunk))).all()]
    return out


def subscriptions_of(session: Session, account_ids: Collection[int]) -> list[Subscription]:
    out: list[Subscription] = []
    for chunk in _chunks(account_ids):
        stmt = select(Subscription).where(Subscription.account_id.in_(chunk), Subscription.state != "pending")
        out += session.scalars(stmt)
    return out


def changes_of(session: Session, subscription_ids: Collection[int]) -> list[SubscriptionChange]:
    out: list[SubscriptionChange] = []
    for chunk in _chunks(subscription_ids):
        stmt = select(SubscriptionChange).where(
            SubscriptionChange.subscription_id.in_(chunk), SubscriptionChange.status != "cancelled"
        )
        out += session.scalars(stmt)
    return out


def pending_charges(session: Session, account_ids: Collection[int]) -> list[PendingCharge]:
    out: list[PendingCharge] = []
    for chunk in _chunks(account_ids):
        stmt = select(PendingCharge).where(
            PendingCharge.account_id.in_(chunk), PendingCharge.status == "pending"
        )
        out += session.scalars(stmt)
    return out


def mark_charges_billed(session: Session, ids: Collection[int]) -> None:
    for chunk in _chunks(ids):
        session.execute(update(PendingCharge).where(PendingCharge.id.in_(chunk)).values(status="billed"))


def billed_lines(session: Session, payer_ids: Collection[int], since: date) -> list[Row[Any]]:
    """Lines the bill run wrote (they carry a `source_ref` key) on the payers' recent documents."""
    i, ln = Invoice, InvoiceLineRow
    out: list[Row[Any]] = []
    for chunk in _chunks(payer_ids):
        stmt = (
            select(
                i.payer_account_id,
                i.document_type,
                ln.source_ref,
                ln.net_amount,
                ln.subscription_id,
                ln.description,
                ln.period_start,
                ln.period_end,
            )
            .join(ln, ln.invoice_id == i.id)
            .where(
                i.payer_account_id.in_(chunk),
                i.period_end >= since,
                i.kind == "cycle",
                i.absorbed_into_id.is_(None),
                i.preceding_invoice_id.is_(None),
                ln.source_ref.is_not(None),
            )
        )
        out += session.execute(stmt).all()
    return out
