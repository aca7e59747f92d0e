"""The bill run's write path (`invoicing.bulk`): on PostgreSQL each invoice row is written once,
already final, after its children; the database still refuses children added to a finalised
invoice and children of an invoice that never comes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from telbill.invoicing import FinalisePolicy, create_draft
from telbill.invoicing.bulk import create_and_finalise_many
from telbill.invoicing.content import Party
from telbill.invoicing.model import Invoice, InvoiceLineRow, InvoiceTaxSubtotalRow
from tests.invoicing.test_store_support import SELLER, draft_for, issued, ln, new_account, new_clock

BUYER = Party(name="Acme SAS", address="3 place du Marché", city="Lyon", postcode="69002", country="FR")
LINE = (
    "INSERT INTO invoice_lines (invoice_id, position, line_id, description, quantity, unit_code, "
    "unit_price, net_amount, tax_category, tax_rate, charge_kind) VALUES "
)


def _row(invoice_id: int, n: int) -> str:
    return f"({invoice_id}, {n}, 'x{n}', 'x', '1', 'C62', '1', '1.00', 'S', '20', 'one_time')"


@pytest.fixture
def clock():
    return new_clock()


def _postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def test_bulk_invoices_are_final_numbered_and_complete(session, clock):
    accounts = [new_account(session, clock, name=f"Acme {i}") for i in range(3)]
    drafts = [draft_for(a, [ln("1", "1", "10"), ln("2", "2", "2.50")]) for a in accounts]
    drafts.append(draft_for(new_account(session, clock, name="Zero"), [ln("1", "1", "0")]))
    if _postgres(session):
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
    buyers = {d.account_id: BUYER for d in drafts}
    results = create_and_finalise_many(
        session, clock, drafts, buyers, SELLER, FinalisePolicy(finalise_zero=False)
    )
    session.flush()
    by_key = {d.key: results[d.key] for d in drafts}
    final = [by_key[d.key] for d in drafts[:3]]
    assert [r.state for r in final] == ["finalised"] * 3
    numbers = sorted(r.number for r in final)
    assert len(set(numbers)) == 3 and all(n for n in numbers)
    assert by_key[drafts[3].key].state == "draft" and by_key[drafts[3].key].number is None  # held: zero
    held = session.get(Invoice, by_key[drafts[3].key].invoice_id)
    assert held.held_reason == "zero_amount" and held.content is None
    for r in final:
        invoice = session.get(Invoice, r.invoice_id)
        assert invoice.grand_total == Decimal("18.00") and invoice.balance == Decimal("18.00")
        assert invoice.content and invoice.content_sha256 and invoice.finalised_at is not None
        lines = session.scalar(select(func.count()).where(InvoiceLineRow.invoice_id == r.invoice_id))
        vat = session.scalars(
            select(InvoiceTaxSubtotalRow).where(InvoiceTaxSubtotalRow.invoice_id == r.invoice_id)
        )
        assert lines == 2 and [v.tax_amount for v in vat] == [Decimal("3.00")]
    if _postgres(session):  # written once: no row was updated
        stats = session.execute(
            text("SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'invoices'")
        ).one()
        assert stats.n_tup_upd == 0 and stats.n_tup_ins >= 4
        # the children's keys are checked at once again after the batch
        with pytest.raises(DBAPIError, match="foreign key"), session.begin_nested():
            session.execute(text(LINE + _row(2_000_000_000, 1)))


def test_one_statement_adding_lines_to_a_draft_and_a_finalised_invoice_is_refused(session, clock):
    account = new_account(session, clock)
    final = issued(session, clock, account, [ln("1", "1", "10")])
    draft = create_draft(
        session, clock, draft_for(account, [ln("1", "1", "5")], period=(final.period_end, final.period_end))
    )
    session.flush()
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(text(LINE + _row(draft.id, 7) + ", " + _row(final.id, 8)))
    session.execute(text(LINE + _row(draft.id, 9)))  # a draft alone takes lines


def test_deferred_children_of_an_invoice_never_written_are_refused(session, clock):
    if not _postgres(session):
        pytest.skip("deferred keys are PostgreSQL's write path")
    keys = "fk_invoice_lines_invoice_id_invoices"
    with pytest.raises(DBAPIError, match="foreign key"), session.begin_nested():
        session.execute(text(f"SET CONSTRAINTS {keys} DEFERRED"))
        session.execute(text(LINE + _row(2_000_000_001, 1)))  # passes the insert check: no invoice yet
        session.execute(text(f"SET CONSTRAINTS {keys} IMMEDIATE"))


def test_a_replayed_batch_writes_nothing_new(session, clock):
    account = new_account(session, clock)
    drafts = [draft_for(account, [ln("1", "1", "10")])]
    first = create_and_finalise_many(session, clock, drafts, {account.id: BUYER}, SELLER)
    again = create_and_finalise_many(session, clock, drafts, {account.id: BUYER}, SELLER)
    key = drafts[0].key
    assert again[key] == first[key]
    assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_content_is_compressed_with_lz4_where_the_server_has_it(session):
    if not _postgres(session):
        pytest.skip("column compression is PostgreSQL's")
    method = session.execute(
        text(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = 'invoices'::regclass AND attname = 'content'"
        )
    ).scalar_one()
    has_lz4 = session.execute(
        text(
            "SELECT count(*) FROM pg_settings"
            " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
    ).scalar_one()
    assert method == ("l" if has_lz4 else "")
