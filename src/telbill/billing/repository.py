"""Every SQL statement of the bill run: planning, claiming, and the batch loads.

A batch of payers is loaded with a handful of queries (accounts and customers, the children
they pay for, cycle changes, subscriptions, their changes, pending charges, billed lines), each
`IN (...)` chunked so statements stay bounded on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Row,
    String,
    and_,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from telbill.accounts import BillingAccount, BillingAccountCycleChange, Customer
from telbill.billing.model import BillRun, BillRunItem
from telbill.core.clock import zone
from telbill.db.base import UTCDateTime
from telbill.db.filters import in_values as _in
from telbill.db.filters import int_array
from telbill.invoicing.model import Invoice, InvoiceLineRow, InvoiceTaxSubtotalRow
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


def payer_rows(session: Session, ids: Collection[int] | None = None) -> Sequence[Row[Any]]:
    """Active accounts that receive their own invoice (not paid by a parent)."""
    a = BillingAccount
    stmt = select(
        a.id,
        a.currency,
        a.timezone,
        a.bill_cycle_day,
        a.cycle_unit,
        a.cycle_count,
        a.cycle_anchor,
        a.billing_start,
    ).where(a.status == "active", a.payment_responsibility == "self")
    if ids is None:
        return _rows(session, stmt)
    return [r for chunk in _chunks(ids) for r in session.execute(stmt.where(_in(session, a.id, chunk)))]


def consolidated_edges(session: Session) -> list[tuple[int, int]]:
    """(child, parent) for every account invoiced on its parent's invoice."""
    a = BillingAccount
    stmt = select(a.id, a.parent_id).where(a.payment_responsibility == "parent", a.parent_id.is_not(None))
    return [(c, p) for c, p in _rows(session, stmt)]


def earliest_starts(session: Session, account_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """Earliest subscription start per account (subscriptions not pending)."""
    s = Subscription
    stmt = select(s.account_id, func.min(s.start_at)).where(s.state != "pending").group_by(s.account_id)
    if account_ids is None:
        return {acc: start for acc, start in session.execute(stmt).all()}
    out: dict[int, datetime] = {}
    for chunk in _chunks(account_ids):
        out.update(dict(session.execute(stmt.where(_in(session, s.account_id, chunk))).all()))  # type: ignore[arg-type]
    return out


def cycle_changes(
    session: Session, account_ids: Collection[int] | None = None
) -> list[BillingAccountCycleChange]:
    stmt = select(BillingAccountCycleChange)
    if account_ids is None:
        return list(session.scalars(stmt.order_by(BillingAccountCycleChange.effective_at)))
    out: list[BillingAccountCycleChange] = []
    for chunk in _chunks(account_ids):
        out += session.scalars(stmt.where(_in(session, BillingAccountCycleChange.billing_account_id, chunk)))
    return sorted(out, key=lambda c: (c.effective_at, c.id))


def planned_periods(session: Session, account_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """The latest period start planned per account (done, pending or failed)."""
    i = BillRunItem
    stmt = select(i.account_id, func.max(i.period_start)).group_by(i.account_id)
    if account_ids is None:
        return {acc: start for acc, start in session.execute(stmt).all()}
    out: dict[int, datetime] = {}
    for chunk in _chunks(account_ids):
        out.update(dict(session.execute(stmt.where(_in(session, i.account_id, chunk))).all()))  # type: ignore[arg-type]
    return out


def has_items(session: Session, account_ids: Collection[int]) -> bool:
    """Whether any bill run planned a period for one of these accounts."""
    stmt = select(exists().where(BillRunItem.account_id.in_(list(account_ids))))
    return bool(session.execute(stmt).scalar())


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


_MARK_SQL = text(
    "UPDATE bill_run_items AS i SET state = :state, worker = :worker, finished_at = :finished,"
    " invoice_id = COALESCE(m.invoice_id, i.invoice_id), error = COALESCE(:error, i.error)"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:invoices AS bigint[])) AS m(id, invoice_id)"
    " WHERE i.id = m.id AND i.id BETWEEN :low AND :high"
)


def mark_items(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Update by id: state, worker, finished_at, and invoice_id and error where given. On
    PostgreSQL one statement per distinct (state, worker, error, finished_at) — a batch is mostly
    one group: done, by one worker, at one instant — with the ids and invoice ids as two integer
    array literals; an executemany elsewhere. The ids' range bounds the items read: a claim takes
    consecutive pending ids, and without the bound the join read the whole table (the planner
    cannot see the array's values: a hash of every item, or a merge join from the first id)."""
    if not values:
        return
    if dialect(session) != "postgresql":
        session.execute(update(BillRunItem), list(values))
        return
    session.flush()
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for v in values:
        key = (v["state"], v.get("worker"), v.get("error"), v.get("finished_at"))
        groups.setdefault(key, []).append(v)
    for (state, worker, error, finished), members in groups.items():
        session.execute(
            _MARK_SQL,
            {
                "state": state, "worker": worker, "error": error, "finished": finished,
                "ids": int_array(v["id"] for v in members),
                "low": min(v["id"] for v in members), "high": max(v["id"] for v in members),
                "invoices": int_array(v.get("invoice_id") for v in members),
            },
        )  # fmt: skip


# batch loads -------------------------------------------------------------------------------------


ACCOUNT_COLUMNS = (
    "id", "number", "currency", "timezone", "language", "payment_terms_days", "tax_exempt",
    "tax_exempt_until", "tax_exemption_reason", "cycle_unit", "cycle_count", "bill_cycle_day",
    "cycle_anchor", "billing_start",
)  # fmt: skip
CUSTOMER_COLUMNS = (
    "name", "legal_name", "address_line1", "address_line2", "city", "postcode", "country", "vat_number",
    "registration_number", "kind",
)  # fmt: skip


def accounts_and_customers(session: Session, ids: Collection[int]) -> list[Row[Any]]:
    """One row per account: its columns, then its customer's prefixed `customer_`. The customers'
    ids are read first and filter their side too: with the accounts' side alone filtered, the
    join hashed the whole customers table for a batch (a scan of every customer at each batch
    of the bill run, 14 ms at 100,000 customers, against index probes for the batch's own)."""
    a, c = BillingAccount, Customer
    cols = [*_columns(a, ACCOUNT_COLUMNS), *(getattr(c, n).label(f"customer_{n}") for n in CUSTOMER_COLUMNS)]
    out: list[Row[Any]] = []
    for chunk in _chunks(ids):
        owners = {r[0] for r in _rows(session, select(a.customer_id).where(_in(session, a.id, chunk)))}
        stmt = select(*cols).join(c, c.id == a.customer_id)
        out += _rows(session, stmt.where(_in(session, a.id, chunk), _in(session, c.id, owners)))
    return out


def _rows(session: Session, stmt: Any) -> list[Row[Any]]:
    """Rows of a column select, through Core (the ORM's result machinery costs more than the
    query itself on the bill run's batch loads); pending changes are flushed first, as the
    session's own execute would."""
    session.flush()
    return session.connection().execute(stmt).all()


def _columns(entity: Any, names: Sequence[str]) -> list[Any]:
    return [getattr(entity, n) for n in names]


SUBSCRIPTION_COLUMNS = (
    "id", "account_id", "offer_code", "offer_version", "quantity", "state", "start_at", "trial_end",
    "end_at", "parent_id",
)  # fmt: skip
CHANGE_COLUMNS = ("id", "subscription_id", "kind", "effective_at", "status", "payload")
PENDING_COLUMNS = (
    "id", "subscription_id", "account_id", "code", "description", "amount", "currency", "effective_at",
)  # fmt: skip


def subscriptions_of(session: Session, account_ids: Collection[int]) -> list[Row[Any]]:
    """Rows (not ORM instances) of the accounts' subscriptions that started or were requested."""
    s = Subscription
    out: list[Row[Any]] = []
    for chunk in _chunks(account_ids):
        stmt = select(*_columns(s, SUBSCRIPTION_COLUMNS)).where(_in(session, s.account_id, chunk))
        out += _rows(session, stmt.where(s.state != "pending"))
    return out


def changes_of(session: Session, subscription_ids: Collection[int]) -> list[Row[Any]]:
    c = SubscriptionChange
    out: list[Row[Any]] = []
    for chunk in _chunks(subscription_ids):
        stmt = select(*_columns(c, CHANGE_COLUMNS)).where(_in(session, c.subscription_id, chunk))
        out += _rows(session, stmt.where(c.status != "cancelled"))
    return out


def pending_charges(session: Session, account_ids: Collection[int]) -> list[Row[Any]]:
    c = PendingCharge
    out: list[Row[Any]] = []
    for chunk in _chunks(account_ids):
        stmt = select(*_columns(c, PENDING_COLUMNS)).where(_in(session, c.account_id, chunk))
        out += _rows(session, stmt.where(c.status == "pending"))
    return out


def mark_charges_billed(session: Session, ids: Collection[int]) -> None:
    for chunk in _chunks(ids):
        stmt = update(PendingCharge).where(_in(session, PendingCharge.id, chunk)).values(status="billed")
        session.execute(stmt.execution_options(synchronize_session=False))


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
                _in(session, i.payer_account_id, chunk),
                i.period_end >= since,
                i.kind == "cycle",
                i.absorbed_into_id.is_(None),
                i.preceding_invoice_id.is_(None),
                ln.source_ref.is_not(None),
            )
        )
        out += _rows(session, stmt)
    return out


_CREDITED_INVOICE = aliased(Invoice, name="credited")  # made once: an alias's columns are costly to build


def manually_credited(
    session: Session, payer_ids: Collection[int], since: date
) -> tuple[list[Row[Any]], list[Row[Any]], list[Row[Any]]]:
    """Manual credit notes of the payers' recent bill-run invoices: (their lines, the credited
    invoices' lines, the VAT rows of both). Empty, after one query, when there are none."""
    note, inv, ln = Invoice, _CREDITED_INVOICE, InvoiceLineRow
    found: list[int] = []
    for chunk in _chunks(payer_ids):  # the notes alone first: one table, by the payer index
        found += session.scalars(
            select(note.id).where(
                _in(session, note.payer_account_id, chunk),
                note.period_end >= since,
                note.preceding_invoice_id.is_not(None),
                note.document_type == "381",
                note.state != "draft",
            )
        )
    if not found:
        # the usual batch: no join at all. During a large run the invoice tables grow far beyond
        # their statistics, and the join's plan read every invoice of the run for each batch
        return [], [], []
    notes: list[Row[Any]] = []
    for chunk in _chunks(found):
        stmt = (
            select(
                inv.payer_account_id,
                inv.currency,
                note.id.label("note_id"),
                note.preceding_invoice_id,
                ln.credited_line_id,
                ln.net_amount,
                ln.tax_category,
                ln.tax_rate,
                ln.allowance_share,
            )
            .join(note, note.preceding_invoice_id == inv.id)
            .join(ln, ln.invoice_id == note.id)
            .where(
                _in(session, note.id, chunk),
                inv.kind == "cycle",
                inv.absorbed_into_id.is_(None),
                inv.preceding_invoice_id.is_(None),
                note.document_type == "381",
                note.state != "draft",
            )
        )
        notes += _rows(session, stmt)
    if not notes:
        return [], [], []
    invoice_ids = sorted({r.preceding_invoice_id for r in notes})
    doc_ids = invoice_ids + sorted({r.note_id for r in notes})
    lines: list[Row[Any]] = []
    subtotals: list[Row[Any]] = []
    for chunk in _chunks(invoice_ids):
        cols = (
            ln.id,
            ln.invoice_id,
            ln.source_ref,
            ln.net_amount,
            ln.tax_category,
            ln.tax_rate,
            ln.allowance_share,
        )
        lines += _rows(session, select(*cols).where(_in(session, ln.invoice_id, chunk)))
    for chunk in _chunks(doc_ids):
        t = InvoiceTaxSubtotalRow
        cols2 = (t.invoice_id, t.category, t.rate, t.taxable_amount)
        subtotals += _rows(session, select(*cols2).where(_in(session, t.invoice_id, chunk)))
    return notes, lines, subtotals


# planning by calendar ----------------------------------------------------------------------------


def _payer_conditions() -> tuple[Any, Any, Any]:
    """(is an active self-paying account, has consolidated children, has a cycle history)."""
    a, kids, ch = BillingAccount, aliased(BillingAccount), BillingAccountCycleChange
    payer = and_(a.status == "active", a.payment_responsibility == "self")
    has_kids = exists().where(kids.parent_id == a.id, kids.payment_responsibility == "parent")
    changed = exists().where(ch.billing_account_id == a.id)
    return payer, has_kids, changed


def _simple_payer(session: Session) -> list[Any]:
    """Active self-paying accounts with no cycle history and no consolidated children."""
    payer, has_kids, changed = _payer_conditions()
    return [payer, ~has_kids, ~changed]


def simple_calendars(session: Session) -> list[Row[Any]]:
    """Distinct calendars (timezone, cycle unit and count, BCD, anchor) of the simple payers."""
    a = BillingAccount
    cols = (a.timezone, a.cycle_unit, a.cycle_count, a.bill_cycle_day, a.cycle_anchor)
    return session.execute(select(*cols).where(*_simple_payer(session)).distinct()).all()


def complex_payer_ids(session: Session) -> list[int]:
    """Active self-paying accounts with a cycle history or consolidated children (no NOT IN: its
    subplan is quadratic once it no longer fits in memory)."""
    payer, has_kids, changed = _payer_conditions()
    return list(session.scalars(select(BillingAccount.id).where(payer, or_(has_kids, changed))))


def payer_id_ranges(session: Session, size: int) -> list[tuple[int, int]]:
    """[low, high) ranges of `size` account ids covering every account (planning in chunks)."""
    low, high = session.execute(select(func.min(BillingAccount.id), func.max(BillingAccount.id))).one()
    if low is None:
        return []
    return [(first, first + size) for first in range(int(low), int(high) + 1, size)]


def plan_calendar(
    session: Session, run_id: int, calendar: Row[Any], start: datetime, end: datetime,
    ids: tuple[int, int] | None = None,
) -> int:  # fmt: skip
    """Plan `[start, end)` for every simple payer on this calendar (with an id in `ids`, when
    given) that has a subscription started by `start` and no item planned at or after it: one
    INSERT … SELECT. Rows planned."""
    a, s, i = BillingAccount, Subscription, BillRunItem
    started = exists().where(s.account_id == a.id, s.state != "pending", s.start_at <= start)
    planned = exists().where(i.account_id == a.id, i.period_start >= start)
    tz, unit, count, day, anchor = calendar
    # live by `start`: its go-live date is on or before the period's first local day (`start` is
    # local midnight, so this compares the go-live instant with `start`)
    live = or_(a.billing_start.is_(None), a.billing_start <= start.astimezone(zone(tz)).date())
    chosen = select(
        literal(run_id, BigInteger()), a.id, literal(start, UTCDateTime()), literal(end, UTCDateTime()),
        literal("pending", String()),
    ).where(
        *_simple_payer(session), a.timezone == tz, a.cycle_unit == unit, a.cycle_count == count,
        a.bill_cycle_day == day, a.cycle_anchor == anchor, started, live, ~planned,
        *((a.id >= ids[0], a.id < ids[1]) if ids else ()),
    )  # fmt: skip
    insert = pg_insert if dialect(session) == "postgresql" else sqlite_insert
    columns = ["run_id", "account_id", "period_start", "period_end", "state"]
    stmt = (
        insert(BillRunItem.__table__)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["account_id", "period_start"])
    )
    result = session.execute(stmt, execution_options={"preserve_rowcount": True})
    return int(result.rowcount)  # type: ignore[attr-defined]


def run_invoice_ids(session: Session, run_ids: Collection[int]) -> list[int]:
    """Documents (invoices and credit notes) the runs wrote."""
    i = BillRunItem
    stmt = select(i.invoice_id).where(i.run_id.in_(list(run_ids)), i.invoice_id.is_not(None))
    return sorted({int(x) for x in session.scalars(stmt)})


# when bill runs fall due (billing/due.py) -----------------------------------------------------------


def _first_and_last() -> tuple[Any, Any]:
    """Per account (correlated): its earliest subscription start (not pending), its last period planned."""
    a, s, i = BillingAccount, Subscription, BillRunItem
    first = select(func.min(s.start_at)).where(s.account_id == a.id, s.state != "pending")
    last = select(func.max(i.period_start)).where(i.account_id == a.id)
    return first.scalar_subquery(), last.scalar_subquery()


_CALENDAR = ("timezone", "cycle_unit", "cycle_count", "bill_cycle_day", "cycle_anchor")


def simple_calendar_bounds(session: Session, until: datetime) -> list[Row[Any]]:
    """Per calendar of the simple payers with a subscription started by `until`: (timezone, unit,
    count, BCD, anchor, lowest), lowest = the earliest of their last period planned (else their
    earliest start) — no payer's next period to bill can start before the boundary before it."""
    first, last = _first_and_last()
    a = BillingAccount
    payers = (
        select(*_columns(a, _CALENDAR), first.label("first"), last.label("last"))
        .where(*_simple_payer(session))
        .subquery()
    )
    cols = [payers.c[n] for n in _CALENDAR]
    lowest = func.min(func.coalesce(payers.c["last"], payers.c["first"]))
    stmt = select(*cols, lowest).where(payers.c["first"] <= until).group_by(*cols)
    return session.execute(stmt).all()


Span = tuple[tuple[Any, ...], datetime, datetime, date, date]  # (calendar, lo, hi, lo's day, hi's day)


def due_per_boundary(session: Session, spans: Sequence[Span]) -> dict[datetime, int]:
    """Simple payers counted per boundary `hi` their next period to bill starts on, every calendar
    in one statement: a payer of the span's calendar is counted at `hi` when X = max(earliest start,
    go-live, last period planned + 1 µs) falls in (lo, hi]. Written without GREATEST (the go-live
    is a local date): X ≤ hi ⇔ each term ≤ hi; X > lo ⇔ some term > lo. The spans travel as
    arrays (PostgreSQL) or one JSON text (SQLite), so the statement's text never changes."""
    if not spans:
        return {}
    if dialect(session) == "sqlite":  # its planner joins the spans by nested loop: one calendar a time
        by_calendar: dict[tuple[Any, ...], list[Span]] = {}
        for span in spans:
            by_calendar.setdefault(span[0], []).append(span)
        out: dict[datetime, int] = {}
        for calendar, group in by_calendar.items():
            for hi, n in _due_counts(session, group, calendar).items():
                out[hi] = out.get(hi, 0) + n
        return out
    return _due_counts(session, spans, None)


def _due_counts(
    session: Session, spans: Sequence[Span], calendar: tuple[Any, ...] | None
) -> dict[datetime, int]:
    a = BillingAccount
    first, last = _first_and_last()
    facts = (a.billing_start.label("g"), first.label("e"), last.label("l"))
    payers = select(*_columns(a, _CALENDAR), *facts).where(*_simple_payer(session))
    if calendar is not None:
        payers = payers.where(*(getattr(a, n) == v for n, v in zip(_CALENDAR, calendar, strict=True)))
    # computed once per payer (not per payer and span), then joined on the calendar
    p = payers.cte("p").prefix_with("MATERIALIZED")
    b = _span_rows(session, spans)
    on = and_(
        p.c.timezone == b.c.tz, p.c.cycle_unit == b.c.unit, p.c.cycle_count == b.c.count,
        p.c.bill_cycle_day == b.c.day, p.c.cycle_anchor == b.c.anchor,
        p.c.e <= b.c.hi,
        or_(p.c.g.is_(None), p.c.g <= b.c.hi_d),
        or_(p.c.l.is_(None), p.c.l < b.c.hi),
        or_(p.c.e > b.c.lo, p.c.g > b.c.lo_d, p.c.l >= b.c.lo),
    )  # fmt: skip
    stmt = select(b.c.hi, func.count()).select_from(p.join(b, on)).group_by(b.c.hi)
    return {hi: n for hi, n in session.execute(stmt).all()}


_SPAN_COLUMNS = (
    column("tz", String()), column("unit", String()), column("count", Integer()), column("day", Integer()),
    column("anchor", Date()), column("lo", UTCDateTime()), column("hi", UTCDateTime()),
    column("lo_d", Date()), column("hi_d", Date()),
)  # fmt: skip
_PG_SPANS = text(
    "SELECT * FROM unnest(CAST(:tz AS varchar[]), CAST(:unit AS varchar[]), CAST(:count AS integer[]),"
    " CAST(:day AS integer[]), CAST(:anchor AS date[]), CAST(:lo AS timestamptz[]),"
    " CAST(:hi AS timestamptz[]), CAST(:lo_d AS date[]), CAST(:hi_d AS date[]))"
    " AS s(tz, unit, count, day, anchor, lo, hi, lo_d, hi_d)"
)
_SQLITE_SPANS = text(
    "SELECT json_extract(value, '$[0]') AS tz, json_extract(value, '$[1]') AS unit,"
    " json_extract(value, '$[2]') AS count, json_extract(value, '$[3]') AS day,"
    " json_extract(value, '$[4]') AS anchor, json_extract(value, '$[5]') AS lo,"
    " json_extract(value, '$[6]') AS hi, json_extract(value, '$[7]') AS lo_d,"
    " json_extract(value, '$[8]') AS hi_d FROM json_each(:spans)"
)
_SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime on SQLite


def _span_rows(session: Session, spans: Sequence[Span]) -> Any:
    rows = [(*calendar, lo, hi, lo_d, hi_d) for calendar, lo, hi, lo_d, hi_d in spans]
    if dialect(session) == "postgresql":
        names = [c.name for c in _SPAN_COLUMNS]
        values = {name: [r[i] for r in rows] for i, name in enumerate(names)}
        return _PG_SPANS.bindparams(**values).columns(*_SPAN_COLUMNS).subquery("b")
    plain = [
        [tz, unit, count, day, anchor.isoformat(), _sqlite(lo), _sqlite(hi), lo_d.isoformat(), d.isoformat()]
        for tz, unit, count, day, anchor, lo, hi, lo_d, d in rows
    ]
    return _SQLITE_SPANS.bindparams(spans=json.dumps(plain)).columns(*_SPAN_COLUMNS).subquery("b")


def _sqlite(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).strftime(_SQLITE_INSTANT)
