"""Create and finalise many invoices in one transaction: the bill run's write path.

The same tables and rules as `service.create_draft` + `credit_notes.apply_account_credit` +
`service.finalise`, with a few statements per batch instead of a dozen per invoice:

1. drafts whose idempotency key exists are not written again (their invoice is returned);
2. on PostgreSQL each invoice row is written once, already final: its lines, allowances and VAT
   rows go first (the children's insert check lets rows of an invoice not written yet pass, and
   their deferrable foreign key is checked once the invoice is in); on SQLite invoices are
   inserted as drafts, then their children, then finalised by an update;
3. the payers' open account credit is consumed oldest first, as prepaid (BT-113);
4. the finalisation policy holds zero / below-minimum drafts back (`held_reason`);
5. each (series, year) counter row is locked **once** and moved on by the number of invoices it
   numbers: the batch takes a contiguous range, in invoice id order. A rollback returns the
   range with everything else, so numbers stay gapless;
6. the frozen content (JSON + SHA-256), issue and due dates, state, and one
   `CustomerBill.created` event per invoice.

Only invoices (380) go this way; a credit note issued for a negative total goes through
`service.finalise` (it grants account credit).

On PostgreSQL every row goes by COPY: invoice ids are taken from the sequence in one call, the
children are copied, then the invoices with their numbers, content and state. A held invoice
(zero or below the minimum) or a run that leaves drafts writes the invoice as a draft.
A caller that already computed the totals (the bill run's assembler) passes them in `totals`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, insert, select, text, update
from sqlalchemy.orm import Session

from telbill import fx
from telbill.accounts import BillingAccount
from telbill.billing.totals import compute_totals
from telbill.core.clock import Clock
from telbill.core.errors import ValidationFailed
from telbill.core.settings import Seller
from telbill.db.copy_text import copy_text
from telbill.db.filters import in_values as _in
from telbill.events.service import append_events
from telbill.invoicing import accounting_vat, lifecycle, mentions, numbering, rows, snapshot
from telbill.invoicing.content import AccountingVat, DocumentType, InvoiceContent, InvoiceLine, Party, Totals
from telbill.invoicing.lifecycle import InvoiceState, Standing
from telbill.invoicing.model import (
    AccountCredit,
    AccountCreditApplication,
    Invoice,
    InvoiceAllowanceRow,
    InvoiceLineRow,
    InvoiceNumberSeries,
    InvoiceTaxSubtotalRow,
)
from telbill.invoicing.schemas import BelowMinimum, DraftInvoice, FinalisePolicy, LineSource
from telbill.invoicing.service import seller_party
from telbill.invoicing.shares import line_shares

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class BulkResult:
    invoice_id: int
    state: str
    number: str | None


@dataclass(frozen=True)
class PayerTerms:
    """The payer columns the write path reads (no ORM instance per payer); a caller that loaded
    them already (the bill run) passes them in, the others are read."""

    id: int
    number: str
    currency: str
    language: str
    timezone: str
    payment_terms_days: int

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class _New:
    draft: DraftInvoice
    payer: PayerTerms
    buyer: Party
    subtotals: tuple[Any, ...]
    totals: Totals
    currency: str
    invoice_id: int = 0
    prepaid: Decimal = Decimal(0)
    held: str | None = None
    accounting: AccountingVat | None = None  # BT-6/BT-111, set at finalisation (`_accounting_vat`)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _existing(session: Session, keys: Sequence[str]) -> dict[str, BulkResult]:
    from sqlalchemy import String

    out = {}
    for chunk in _chunks(keys):
        stmt = select(Invoice.idempotency_key, Invoice.id, Invoice.state, Invoice.number)
        where = _in(session, Invoice.idempotency_key, chunk, String)
        for key, id_, state, number in session.execute(stmt.where(where)):
            out[key] = BulkResult(id_, state, number)
    return out


def _payers(session: Session, ids: set[int]) -> dict[int, PayerTerms]:
    a = BillingAccount
    out: dict[int, PayerTerms] = {}
    for chunk in _chunks(sorted(ids)):
        stmt = select(a.id, a.number, a.currency, a.language, a.timezone, a.payment_terms_days)
        for row in session.execute(stmt.where(_in(session, a.id, chunk, BigInteger))):
            out[row.id] = PayerTerms(*row)
    return out


_INVOICE_COLUMNS = (
    "account_id", "payer_account_id", "kind", "period_start", "period_end", "series", "document_type",
    "state", "currency", "language", "idempotency_key", "preceding_invoice_id", "line_total",
    "allowance_total", "tax_total", "grand_total", "prepaid_amount", "amount_paid", "amount_credited",
    "amount_refunded", "balance", "extras", "created_at", "updated_at", "number", "issue_date",
    "due_date", "content", "content_sha256", "held_reason", "finalised_at",
)  # fmt: skip
_ZERO = Decimal(0)


def _invoice_values(n: _New, now: datetime) -> list[Any]:
    """A new invoice's row as a draft, values in `_INVOICE_COLUMNS` order."""
    d, t = n.draft, n.totals
    extras = {
        "exemptions": rows.exemptions_to_plain(d.exemptions),
        "usage_summary": snapshot.usage_to_plain(d.usage_summary),
        "notes": list(d.notes),
    }
    return [
        d.account_id, n.payer.id, d.kind, d.period_start, d.period_end, d.series_code,
        d.document_type.value, "draft", d.currency or n.payer.currency, n.payer.language, d.key, None,
        t.line_total, t.allowance_total, t.tax_total, t.grand_total, _ZERO, _ZERO, _ZERO, _ZERO,
        t.grand_total, extras, now, now, None, None, None, None, None, None, None,
    ]  # fmt: skip


def _invoice_row(n: _New, now: datetime) -> dict[str, Any]:
    return dict(zip(_INVOICE_COLUMNS, _invoice_values(n, now), strict=True))


_COLUMN_AT = {name: i for i, name in enumerate(_INVOICE_COLUMNS)}


_LINE_COLUMNS = (
    "invoice_id", "position", "line_id", "description", "quantity", "unit_code", "unit_price", "net_amount",
    "tax_category", "tax_rate", "period_start", "period_end", "product_code", "charge_kind",
    "subscription_id", "usage_aggregate_id", "source_ref", "credited_line_id", "allowance_share",
)  # fmt: skip


def _line_row(
    invoice_id: int, position: int, line: InvoiceLine, source: LineSource, share: Decimal
) -> tuple[Any, ...]:
    """The row `rows.line_rows` builds, as values in `_LINE_COLUMNS` order (no ORM instance, no
    mapping per line)."""
    return (
        invoice_id, position, line.line_id, line.description, line.quantity, line.unit_code,
        line.unit_price, line.net_amount, line.tax_category.value, line.tax_rate, line.period_start,
        line.period_end, line.product_code, line.charge_kind, source.subscription_id,
        source.usage_aggregate_id, source.source_ref, None, share,
    )  # fmt: skip


def _canonical(line: InvoiceLine, code: str) -> InvoiceLine:
    """What `rows.to_line` reads back from the stored row: the same canonical Decimals."""
    return replace(
        line,
        quantity=rows.plain(line.quantity),
        unit_price=rows.plain(line.unit_price),
        net_amount=rows.money(line.net_amount, code),
        tax_rate=rows.plain(line.tax_rate),
    )


def _allocate_ids(session: Session, table: Any, count: int) -> list[int]:
    """`count` ids from the table's sequence (PostgreSQL). The sequence is named in the statement
    as a constant: `nextval(pg_get_serial_sequence(...))` looked it up again for every id (2.8 µs
    an id against 0.3)."""
    sequence = session.execute(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
    ).scalar_one()
    literal = "'" + sequence.replace("'", "''") + "'"
    stmt = text(f"SELECT nextval({literal}::regclass) FROM generate_series(1, :n)")
    return [int(i) for i in session.execute(stmt, {"n": count}).scalars()]


def _insert_drafts(session: Session, new: list[_New], now: datetime) -> None:
    """Drafts, then their children (the database's draft-then-finalise order; SQLite)."""
    stmt = insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True)
    ids = list(session.scalars(stmt, [_invoice_row(n, now) for n in new]))
    for n, invoice_id in zip(new, ids, strict=True):
        n.invoice_id = invoice_id
    _insert_children(session, new)


def _insert_children(session: Session, new: list[_New]) -> None:
    lines, allowances, subtotals = [], [], []
    for n in new:
        invoice_id, sources, d = n.invoice_id, n.draft.sources, n.draft
        shares = line_shares(d.lines, d.allowances, n.currency, d.allowance_shares)
        lines += [
            _line_row(invoice_id, pos, ln, sources.get(ln.line_id, _NO_SOURCE), shares[ln.line_id])
            for pos, ln in enumerate(d.lines, start=1)
        ]
        allowances += [
            {"invoice_id": invoice_id, "position": pos, "reason": a.reason, "amount": a.amount,
             "tax_category": a.tax_category.value, "tax_rate": a.tax_rate}
            for pos, a in enumerate(n.draft.allowances, start=1)
        ]  # fmt: skip
        subtotals += [
            {"invoice_id": invoice_id, "position": pos, "category": t.category.value, "rate": t.rate,
             "taxable_amount": t.taxable_amount, "tax_amount": t.tax_amount,
             "exemption_reason": t.exemption_reason, "exemption_code": t.exemption_code}
            for pos, t in enumerate(n.subtotals, start=1)
        ]  # fmt: skip
    write_tuples(session, InvoiceLineRow.__table__, _LINE_COLUMNS, lines)
    write_rows(session, InvoiceAllowanceRow.__table__, allowances)
    write_rows(session, InvoiceTaxSubtotalRow.__table__, subtotals)


_NO_SOURCE = LineSource()


_CHILD_KEYS = ", ".join(
    f"fk_{t.__tablename__}_invoice_id_invoices"
    for t in (InvoiceLineRow, InvoiceAllowanceRow, InvoiceTaxSubtotalRow)
)


def _write_once(
    session: Session, clock: Clock, new: list[_New], now: datetime, policy: FinalisePolicy,
    seller: Seller, finalise: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """PostgreSQL: every invoice row written once, final (or held as a draft), by COPY.

    Ids come from the sequence first; the children are copied before their invoices, under
    deferred foreign keys (the children's insert check lets rows of an invoice not written yet
    pass), then the invoices with their numbers, and the keys are checked at once (SET
    CONSTRAINTS … IMMEDIATE checks what was deferred, inside this call). No draft row, no
    second row version, no second entry in each invoice index."""
    for n, invoice_id in zip(new, _allocate_ids(session, Invoice.__table__, len(new)), strict=True):
        n.invoice_id = invoice_id
    session.execute(text(f"SET CONSTRAINTS {_CHILD_KEYS} DEFERRED"))
    _insert_children(session, new)
    updates, applications = _finalisation(session, clock, new, now, policy, seller, finalise)
    final = {u["id"]: u for u in updates}
    invoices = []
    for n in new:  # the draft row with its final values (or a held draft's) put in
        values = _invoice_values(n, now)
        for name, value in (final.get(n.invoice_id) or _draft_values(n)).items():
            if name != "id":
                values[_COLUMN_AT[name]] = value
        values.append(n.invoice_id)
        invoices.append(values)
    write_tuples(session, Invoice.__table__, (*_INVOICE_COLUMNS, "id"), invoices)
    session.execute(text(f"SET CONSTRAINTS {_CHILD_KEYS} IMMEDIATE"))
    _insert_applications(session, applications)
    return updates


def write_rows(session: Session, table: Any, values: Sequence[dict[str, Any]]) -> None:
    """COPY on PostgreSQL (rows formatted by `db.copy_text`), executemany elsewhere (the
    architecture's bulk-write rule). JSON columns travel as their JSON text."""
    if not values:
        return
    if session.get_bind().dialect.name != "postgresql":
        for chunk in _chunks(values):
            session.execute(insert(table), list(chunk))
        return
    columns = list(values[0])
    name = table if isinstance(table, str) else table.name
    copy_text(session, name, columns, [[row[c] for c in columns] for row in values])


def write_tuples(
    session: Session, table: Any, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """`write_rows` for rows given as values in `columns` order."""
    if not values:
        return
    if not _postgres(session):
        write_rows(session, table, [dict(zip(columns, row, strict=True)) for row in values])
        return
    copy_text(session, table.name, columns, values)


def _update_invoices(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Every row's new values, an executemany by primary key (SQLite's path)."""
    for chunk in _chunks(values):
        session.execute(update(Invoice), list(chunk))


def _apply_credits(session: Session, new: list[_New], now: datetime) -> list[dict[str, Any]]:
    """Open account credit of the payers, oldest first, consumed as prepaid up to each total:
    the applications to insert once the invoices are written."""
    by_payer = {n.payer.id: n for n in new}
    credits: list[AccountCredit] = []
    for chunk in _chunks(sorted(by_payer)):
        where = _in(session, AccountCredit.account_id, chunk, BigInteger)
        stmt = select(AccountCredit).where(where).with_for_update()
        credits += session.scalars(stmt.order_by(AccountCredit.created_at, AccountCredit.id))
    applications = []
    for credit in credits:
        n = by_payer[credit.account_id]
        due = n.totals.grand_total - n.prepaid
        if credit.remaining <= 0 or due <= 0 or credit.currency != n.currency:
            continue
        take = min(credit.remaining, due)
        credit.remaining -= take
        n.prepaid += take
        applications.append(
            {"credit_id": credit.id, "invoice_id": n.invoice_id, "amount": take, "created_at": now}
        )
    return applications


def _insert_applications(session: Session, applications: list[dict[str, Any]]) -> None:
    if applications:
        session.execute(insert(AccountCreditApplication), applications)
        session.flush()


def _hold(n: _New, policy: FinalisePolicy) -> str | None:
    total = n.totals.grand_total
    if total == 0 and not policy.finalise_zero:
        return "zero_amount"
    if 0 < total < policy.minimum_amount and policy.below_minimum is BelowMinimum.CARRY_FORWARD:
        return "below_minimum"
    return None


def take_range(session: Session, code: str, year: int, count: int, doc_type: DocumentType) -> tuple[str, int]:
    """Lock the counter row once and move it on by `count`: (format, first value of the range)."""
    template = numbering._template(session, code)
    if session.get(InvoiceNumberSeries, (code, year)) is None:
        from telbill.invoicing import repository

        repository.ensure_series_row(session, code, year, template.document_type.value, template.format)
    where = (InvoiceNumberSeries.code == code, InvoiceNumberSeries.year == year)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(InvoiceNumberSeries.next_value).where(*where).with_for_update()).scalar_one()
    bump = (
        update(InvoiceNumberSeries)
        .where(*where)
        .values(next_value=InvoiceNumberSeries.next_value + count)
        .returning(
            InvoiceNumberSeries.format, InvoiceNumberSeries.document_type, InvoiceNumberSeries.next_value
        )
        .execution_options(synchronize_session=False)
    )
    fmt, stored_type, after = session.execute(bump).one()
    if stored_type != doc_type.value:
        raise ValidationFailed(f"series {code} numbers documents of type {stored_type}, not {doc_type.value}")
    cached = session.identity_map.get(session.identity_key(InvoiceNumberSeries, (code, year)))  # type: ignore[arg-type]
    if cached is not None:
        session.expire(cached)
    return fmt, int(after) - count


def _content(n: _New, number: str, issue: Any, seller: Party | None) -> InvoiceContent:
    """The content without its lines (`_lines_json` writes them, from a cache); the seller may be
    left out too (`_content_json` puts its JSON in)."""
    code = n.currency
    due = issue + timedelta(days=n.payer.payment_terms_days)
    lines: tuple[InvoiceLine, ...] = ()
    allowances = tuple(
        replace(a, amount=rows.money(a.amount, code), tax_rate=rows.plain(a.tax_rate))
        for a in n.draft.allowances
    )
    subtotals = tuple(
        replace(
            t, rate=rows.plain(t.rate), taxable_amount=rows.money(t.taxable_amount, code),
            tax_amount=rows.money(t.tax_amount, code),
        )
        for t in n.subtotals
    )  # fmt: skip
    t, q = n.totals, rows.money
    totals = Totals(
        q(t.line_total, code), q(t.allowance_total, code), q(t.line_total - t.allowance_total, code),
        q(t.tax_total, code), q(t.grand_total, code), q(n.prepaid, code), q(t.grand_total - n.prepaid, code),
    )  # fmt: skip
    language = n.payer.language
    return InvoiceContent(
        number=number, document_type=DocumentType.INVOICE, issue_date=issue, due_date=due,
        currency=code, language=language, seller=seller, buyer=n.buyer, buyer_reference=n.payer.number,
        period_start=n.draft.period_start, period_end=n.draft.period_end, lines=lines,
        allowances=allowances, tax_subtotals=subtotals, totals=totals,
        payment_terms=mentions.payment_terms_text(language, n.payer.payment_terms_days, due),
        late_payment_text=mentions.late_payment_text(language),
        usage_summary=n.draft.usage_summary, notes=tuple(n.draft.notes), accounting_vat=n.accounting,
    )  # fmt: skip


def _lines_json(lines: Sequence[InvoiceLine], code: str, cache: dict[Any, str]) -> str:
    """The JSON array of the lines' canonical forms, each line's text cached by value for the
    batch: the same fee line recurs on many invoices. Equal lines have equal canonical forms
    (every Decimal field is normalised or quantised by value), so the cache cannot change a byte;
    a nested object is encoded exactly as it is alone, with the same options."""
    out = []
    for line in lines:
        key = (line, code)
        text = cache.get(key)
        if text is None:
            text = cache[key] = snapshot.canonical(_canonical(line, code))
        out.append(text)
    return f"[{','.join(out)}]"


_LINES_SLOT = '"lines":[]'
_SELLER_SLOT = '"seller":null'


def _content_json(content: InvoiceContent, seller: str, lines: str) -> str:
    """`snapshot.content_to_json` of the content with its seller and lines, given a content with
    neither, the seller's JSON (encoded once per batch) and the lines' JSON. The seller goes into
    its slot first, then the lines' array into theirs: `"seller":null` and `"lines":[]` can only be
    those keys (every quote inside a string is escaped)."""
    text = snapshot.content_to_json(content).replace(_SELLER_SLOT, f'"seller":{seller}', 1)
    return text.replace(_LINES_SLOT, f'"lines":{lines}', 1)


_PLACEHOLDER = "#number#"
_SLOT = f'"number":"{_PLACEHOLDER}"'


def _prepare(n: _New, issue: date, seller_json: str, cache: dict[Any, Any]) -> tuple[dict[str, Any], str]:
    """An invoice's final values and its content JSON with a placeholder where the number goes
    (the same bytes once the number is put in: the key order does not depend on the value)."""
    content = _content(n, _PLACEHOLDER, issue, None)
    standing = Standing(grand_total=n.totals.grand_total, prepaid=n.prepaid)
    values = {
        "issue_date": issue, "due_date": content.due_date,
        "state": lifecycle.after_finalise(InvoiceState.DRAFT, standing).value,
        "prepaid_amount": n.prepaid, "balance": standing.balance, "held_reason": None,
    }  # fmt: skip
    return values, _content_json(content, seller_json, _lines_json(n.draft.lines, n.currency, cache))


def _accounting_vat(session: Session, ready: list[_New], issue_of: dict[int, date], accounting: str) -> None:
    """BT-6/BT-111 of the invoices not in the accounting currency: one rate look-up per currency
    and issue date of the batch, none when every invoice is in the accounting currency. A missing
    rate refuses the batch, naming every pair and date (the bill run refuses those accounts'
    items beforehand, `billing.writing.without_rates`)."""
    foreign = [n for n in ready if n.currency != accounting]
    if not foreign:
        return
    found, missing = fx.rates_in_force(
        session, {(n.currency, accounting, issue_of[n.invoice_id]) for n in foreign}
    )
    if missing:
        raise fx.MissingExchangeRate(missing)
    for n in foreign:
        rate = found[(n.currency, accounting, issue_of[n.invoice_id])]
        n.accounting = accounting_vat.in_accounting_currency(n.totals.tax_total, n.currency, rate, accounting)


def _finalise(
    session: Session, clock: Clock, new: list[_New], seller: Party, accounting: str
) -> list[dict[str, Any]]:
    now = clock.now()
    ready = sorted((n for n in new if n.held is None), key=lambda n: n.invoice_id)
    groups: dict[tuple[str, int], list[_New]] = {}
    issue_of = {n.invoice_id: now.astimezone(n.payer.zone).date() for n in ready}
    _accounting_vat(session, ready, issue_of, accounting)
    templates: dict[str, str] = {}
    for n in ready:
        code = n.draft.series_code
        if code not in templates:
            templates[code] = numbering._template(session, code).format
        fmt = templates[code]
        groups.setdefault(
            (n.draft.series_code, numbering.counter_year(fmt, issue_of[n.invoice_id])), []
        ).append(n)
    seller_json, cache = snapshot.canonical(seller), {}  # type: ignore[var-annotated]
    prepared = {key: [_prepare(n, issue_of[n.invoice_id], seller_json, cache) for n in members]
                for key, members in groups.items()}  # fmt: skip
    updates = []
    for (code, year), members in groups.items():
        # the series row stays locked until commit: take it last, after the costly work
        fmt, first = take_range(session, code, year, len(members), DocumentType.INVOICE)
        for offset, (n, (values, template)) in enumerate(zip(members, prepared[(code, year)], strict=True)):
            number = numbering.format_number(fmt, values["issue_date"].year, first + offset)
            text = template.replace(_SLOT, f'"number":{json.dumps(number)}', 1)
            updates.append(
                {"id": n.invoice_id, "number": number, **values, "content": text,
                 "content_sha256": snapshot.sha256_of(text), "finalised_at": now, "updated_at": now}
            )  # fmt: skip
    return updates


def _events(clock: Clock, new: list[_New], updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {n.invoice_id: n for n in new}
    out = []
    for u in updates:
        n = by_id[u["id"]]
        payload = {
            "id": u["id"], "billNo": u["number"], "documentType": "380", "state": u["state"],
            "accountId": n.draft.account_id, "payerAccountId": n.payer.id, "currency": n.currency,
            "amountDue": n.totals.grand_total, "remainingAmount": u["balance"], "billDate": u["issue_date"],
            "paymentDueDate": u["due_date"],
        }  # fmt: skip
        out.append(
            {
                "event_type": "CustomerBill.created",
                "aggregate_type": "invoice",
                "aggregate_id": u["id"],
                "payload": payload,
            }
        )
    return out


def _draft_then_finalise(
    session: Session, clock: Clock, new: list[_New], now: datetime, policy: FinalisePolicy,
    seller: Seller, finalise: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """SQLite: drafts and their children, then one update per invoice to finalise or hold it."""
    _insert_drafts(session, new, now)
    updates, applications = _finalisation(session, clock, new, now, policy, seller, finalise)
    _insert_applications(session, applications)
    held = [{"id": n.invoice_id, **_draft_values(n)} for n in new if n.held or not finalise]
    _update_invoices(session, updates)
    _update_invoices(session, held)
    return updates


def _finalisation(
    session: Session, clock: Clock, new: list[_New], now: datetime, policy: FinalisePolicy,
    seller: Seller, finalise: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Both write orders' finalisation: credit consumed, holds decided, then the final values of
    each invoice finalised (numbers, dates, content), and the credit applications to insert once
    the invoices are in. Nothing when the run leaves drafts."""
    if not finalise:
        return [], []
    applications = _apply_credits(session, new, now)
    for n in new:
        n.held = _hold(n, policy)
    return _finalise(session, clock, new, seller_party(seller), seller.accounting_currency), applications


def _draft_values(n: _New) -> dict[str, Any]:
    """What an invoice left as a draft (held, or a run that leaves drafts) carries."""
    return {"held_reason": n.held, "prepaid_amount": n.prepaid, "balance": n.totals.grand_total - n.prepaid}


def create_and_finalise_many(
    session: Session,
    clock: Clock,
    drafts: Sequence[DraftInvoice],
    buyers: Mapping[int, Party],
    seller: Seller,
    policy: FinalisePolicy | None = None,
    *,
    finalise: bool = True,
    totals: Mapping[str, tuple[tuple[Any, ...], Totals]] | None = None,
    payers: Mapping[int, PayerTerms] | None = None,
) -> dict[str, BulkResult]:
    """Write (and finalise, unless `finalise` is False) every draft; results by idempotency key.

    `totals` (by idempotency key): VAT subtotals and totals the caller computed with
    `compute_totals` from the same lines, allowances and exemptions; they are not recomputed.
    `payers` (by account id): the payers' terms the caller read in this transaction."""
    policy = policy or FinalisePolicy()
    keys = [d.key for d in drafts]
    results = _existing(session, keys)
    payers = dict(payers or {})
    if missing := {d.payer_account_id or d.account_id for d in drafts} - set(payers):
        payers.update(_payers(session, missing))
    new: list[_New] = []
    seen: set[str] = set(results)
    for d in drafts:
        if d.key in seen:
            continue
        seen.add(d.key)
        if d.document_type is not DocumentType.INVOICE or d.preceding_invoice_id is not None:
            raise ValidationFailed("bulk finalisation writes invoices (380) only")
        payer = payers[d.payer_account_id or d.account_id]
        rows.check_lines(d.lines, d.allowances)
        known = totals.get(d.key) if totals else None
        subtotals, sums = known or compute_totals(
            d.lines, d.allowances, d.currency or payer.currency, exemptions=d.exemptions
        )
        new.append(_New(d, payer, buyers[payer.id], tuple(subtotals), sums, d.currency or payer.currency))
    if not new:
        return results
    now = clock.now()
    if _postgres(session):
        updates = _write_once(session, clock, new, now, policy, seller, finalise)
    else:
        updates = _draft_then_finalise(session, clock, new, now, policy, seller, finalise)
    append_events(session, clock, _events(clock, new, updates))
    done = {u["id"]: u for u in updates}
    for n in new:
        u = done.get(n.invoice_id)
        results[n.draft.key] = BulkResult(
            n.invoice_id, u["state"] if u else "draft", u["number"] if u else None
        )
    return results
