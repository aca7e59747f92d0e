"""The invoice store: drafts, idempotency by key, finalisation, snapshots, immutability, policies."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from telbill.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from telbill.events.service import events_for
from telbill.invoicing import (
    BelowMinimum,
    DocumentAllowance,
    DocumentType,
    FinalisePolicy,
    InvoiceFilters,
    LineSource,
    TaxCategory,
    carry_forward,
    create_draft,
    delete_draft,
    draft_key,
    finalise,
    get_document,
    get_invoice,
    get_invoice_by_number,
    invoice_content,
    list_invoices,
    recomputed_totals,
    record_payment,
    replace_draft_lines,
    store_document,
)
from telbill.invoicing.model import immutability_ddl
from tests.invoicing.test_store_support import JAN, SELLER, draft_for, issued, ln, new_account, new_clock

FEB = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.fixture
def clock():
    return new_clock()


@pytest.fixture
def account(session, clock):
    return new_account(session, clock, payment_terms_days=15, timezone="Pacific/Auckland", language="en")


def test_draft_holds_lines_totals_and_sources(session, clock, account):
    lines = [ln("1", "1", "29.99"), ln("2", "3", "0.333333", rate="5.5")]
    draft = create_draft(
        session,
        clock,
        draft_for(account, lines, sources={"1": LineSource(subscription_id=None, source_ref="sub-9")}),
    )
    assert (draft.state, draft.number, draft.series, draft.document_type) == ("draft", None, "INV", "380")
    assert draft.line_total == Decimal("30.99")  # 29.99 + 1.00
    assert draft.tax_total == Decimal("6.06")  # 6.00 (20 % of 29.99 = 5.998) + 0.06 (5.5 % of 1.00 = 0.055)
    assert draft.grand_total == draft.balance == Decimal("37.05")
    assert draft.idempotency_key == draft_key(account.id, *JAN, "INV", "cycle")
    assert draft.payer_account_id == account.id and draft.currency == "EUR"


def test_same_key_returns_the_existing_invoice(session, clock, account):
    first = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")]))
    again = create_draft(session, clock, draft_for(account, [ln("1", "1", "99")]))
    assert again.id == first.id and again.grand_total == Decimal("12.00")
    other_kind = create_draft(session, clock, draft_for(account, [ln("1", "1", "5")], kind="one_off"))
    assert other_kind.id != first.id
    finalise(session, clock, first.id, SELLER)
    assert create_draft(session, clock, draft_for(account, [ln("1", "1", "10")])).id == first.id


def test_unique_index_refuses_a_second_row_with_the_same_key(session, clock, account):
    first = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")]))
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO invoices (account_id, payer_account_id, kind, period_start, period_end, series, "
                "document_type, state, currency, language, line_total, allowance_total, tax_total, "
                "grand_total, "
                "prepaid_amount, amount_paid, amount_credited, amount_refunded, balance, extras, "
                "idempotency_key, created_at, updated_at) SELECT account_id, payer_account_id, kind, "
                "period_start, period_end, series, document_type, state, currency, language, line_total, "
                "allowance_total, tax_total, grand_total, prepaid_amount, amount_paid, amount_credited, "
                "amount_refunded, balance, extras, idempotency_key, created_at, updated_at "
                "FROM invoices WHERE id = :id"
            ),
            {"id": first.id},
        )


def test_finalise_numbers_dates_and_freezes(session, clock, account):
    draft = create_draft(
        session,
        clock,
        draft_for(
            account,
            [ln("1", "1", "40"), ln("2", "2", "5", category=TaxCategory.EXEMPT)],
            allowances=(DocumentAllowance("Welcome", Decimal("4.00"), TaxCategory.STANDARD, Decimal("20")),),
            notes=("Thank you",),
        ),
    )
    invoice = finalise(session, clock, draft.id, SELLER)
    # 06:00 UTC on 1 February is 19:00 in Auckland: the issue date is the account's local date
    assert invoice.number == "INV-2026-000001" and invoice.state == "finalised"
    assert invoice.issue_date == date(2026, 2, 1) and invoice.due_date == date(2026, 2, 16)
    content = invoice_content(session, invoice.id)
    assert content.number == invoice.number and content.document_type is DocumentType.INVOICE
    assert content.seller.vat_number == SELLER.vat_number and content.buyer.name == "Acme SAS"
    assert content.buyer.city == "Lyon" and content.buyer_reference == account.number
    assert [line.net_amount for line in content.lines] == [Decimal("40.00"), Decimal("10.00")]
    assert content.tax_subtotals[0].tax_amount == Decimal("7.20")  # 20 % of (40 − 4)
    assert content.tax_subtotals[1].exemption_reason
    assert content.totals.grand_total == Decimal("53.20") == invoice.grand_total
    assert content.notes == ("Thank you",) and "15 days" in content.payment_terms
    assert content.late_payment_text
    assert [e.event_type for e in events_for(session, "invoice", invoice.id)] == ["CustomerBill.created"]
    assert get_invoice_by_number(session, invoice.number).id == invoice.id


def test_snapshot_is_identical_on_both_databases(session, clock, account):
    invoice = issued(session, clock, account, [ln("1", "1.5", "0.1234")])
    session.expire_all()
    content = invoice_content(session, invoice.id)
    line = content.lines[0]
    assert (str(line.quantity), str(line.unit_price), str(line.net_amount), str(line.tax_rate)) == (
        "1.5", "0.1234", "0.19", "20"
    )  # fmt: skip
    assert '"net_amount":"0.19"' in get_invoice(session, invoice.id).content


def test_drafts_are_edited_and_deleted_finalised_ones_are_not(session, clock, account):
    draft = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")]))
    replace_draft_lines(session, clock, draft.id, [ln("a", "2", "10"), ln("b", "1", "1")])
    assert draft.line_total == Decimal("21.00") and draft.grand_total == Decimal("25.20")
    finalise(session, clock, draft.id, SELLER)
    with pytest.raises(IllegalTransition):
        replace_draft_lines(session, clock, draft.id, [ln("a", "1", "1")])
    with pytest.raises(IllegalTransition):
        delete_draft(session, clock, draft.id)
    with pytest.raises(IllegalTransition):
        finalise(session, clock, draft.id, SELLER)
    other = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], period=FEB))
    delete_draft(session, clock, other.id)
    with pytest.raises(NotFound):
        get_invoice(session, other.id)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoices SET grand_total = '1.00' WHERE id = :id",
        "UPDATE invoices SET number = 'X-1' WHERE id = :id",
        "UPDATE invoices SET content = '{}' WHERE id = :id",
        "UPDATE invoices SET state = 'draft' WHERE id = :id",
        "DELETE FROM invoices WHERE id = :id",
        "UPDATE invoice_lines SET net_amount = '1.00' WHERE invoice_id = :id",
        "DELETE FROM invoice_lines WHERE invoice_id = :id",
        "UPDATE invoice_tax_subtotals SET tax_amount = '0.00' WHERE invoice_id = :id",
        "DELETE FROM invoice_allowances WHERE invoice_id = :id",
        "INSERT INTO invoice_lines (invoice_id, position, line_id, description, quantity, unit_code, "
        "unit_price, net_amount, tax_category, tax_rate, charge_kind) "
        "VALUES (:id, 9, 'x', 'x', '1', 'C62', '1', '1.00', 'S', '20', 'one_time')",
    ],
)
def test_the_database_refuses_to_change_a_finalised_invoice(session, clock, account, statement):
    invoice = issued(
        session, clock, account, [ln("1", "1", "10")],
        allowances=(DocumentAllowance("Promo", Decimal("1.00"), TaxCategory.STANDARD, Decimal("20")),),
    )  # fmt: skip
    session.flush()
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(text(statement), {"id": invoice.id})


def test_the_database_lets_settlement_change_and_drafts_be_edited(session, clock, account):
    invoice = issued(session, clock, account, [ln("1", "1", "10")])
    session.execute(
        text(
            "UPDATE invoices SET amount_paid = '5.00', balance = '7.00', state = 'partially_paid' "
            "WHERE id = :id"
        ),
        {"id": invoice.id},
    )
    draft = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], period=FEB))
    session.flush()
    session.execute(
        text("UPDATE invoice_lines SET description = 'x' WHERE invoice_id = :id"), {"id": draft.id}
    )
    session.execute(text("DELETE FROM invoice_lines WHERE invoice_id = :id"), {"id": draft.id})


def test_immutability_ddl_is_available_for_migrations():
    for dialect in ("postgresql", "sqlite"):
        statements = immutability_ddl(dialect)
        assert any("invoices_immutable" in s for s in statements)
        # nothing that DDL() would format or text() would read as a bind parameter
        assert not [s for s in statements if "%" in s or re.search(r"(?<!:):\w", s)]
    with pytest.raises(ValueError):
        immutability_ddl("oracle")


def test_zero_invoice_policy(session, clock, account):
    zero = create_draft(session, clock, draft_for(account, [ln("1", "1", "0")]))
    held = finalise(session, clock, zero.id, SELLER, FinalisePolicy(finalise_zero=False))
    assert (held.state, held.held_reason, held.number) == ("draft", "zero_amount", None)
    issued_zero = finalise(session, clock, zero.id, SELLER, FinalisePolicy(finalise_zero=True))
    assert issued_zero.state == "paid" and issued_zero.number  # nothing to pay


def test_below_minimum_is_carried_to_the_next_invoice(session, clock, account):
    policy = FinalisePolicy(minimum_amount=Decimal("5"), below_minimum=BelowMinimum.CARRY_FORWARD)
    small = create_draft(session, clock, draft_for(account, [ln("1", "1", "2")]))
    assert finalise(session, clock, small.id, SELLER, policy).held_reason == "below_minimum"
    feb = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], period=FEB))
    assert carry_forward(session, clock, feb.id) == 1
    assert feb.line_total == Decimal("12.00")
    assert small.absorbed_into_id == feb.id and small.grand_total == 0
    invoice = finalise(session, clock, feb.id, SELLER, policy)
    assert invoice.state == "finalised"
    assert [ln_.line_id for ln_ in invoice_content(session, invoice.id).lines] == ["1", f"{small.id}-1"]
    assert create_draft(session, clock, draft_for(account, [ln("1", "1", "2")])).id == small.id
    anyway = create_draft(session, clock, draft_for(account, [ln("1", "1", "2")], kind="one_off"))
    policy_anyway = FinalisePolicy(minimum_amount=Decimal("5"), below_minimum=BelowMinimum.FINALISE)
    assert finalise(session, clock, anyway.id, SELLER, policy_anyway).state == "finalised"


def test_payments_move_the_state(session, clock, account):
    invoice = issued(session, clock, account, [ln("1", "1", "100")])  # 120.00
    record_payment(session, clock, invoice.id, Decimal("20.00"))
    assert (invoice.state, invoice.balance) == ("partially_paid", Decimal("100.00"))
    record_payment(session, clock, invoice.id, Decimal("100.00"))
    assert (invoice.state, invoice.balance) == ("paid", Decimal("0.00"))
    with pytest.raises(IllegalTransition):
        record_payment(session, clock, invoice.id, Decimal("1.00"))
    with pytest.raises(ValidationFailed):
        record_payment(session, clock, invoice.id, Decimal("-1"))
    types = [e.event_type for e in events_for(session, "invoice", invoice.id)]
    assert types == ["CustomerBill.created", "CustomerBill.stateChanged", "CustomerBill.stateChanged"]


def test_bad_drafts_are_refused(session, clock, account):
    with pytest.raises(ValidationFailed):
        create_draft(session, clock, draft_for(account, [ln("1", "1", "1"), ln("1", "1", "2")]))
    with pytest.raises(ValidationFailed):
        create_draft(session, clock, draft_for(account, [ln("1", "1", "0.0000001")]))
    with pytest.raises(ValidationFailed):
        draft_for(account, [], period=(date(2026, 2, 1), date(2026, 1, 1)))
    negative = create_draft(session, clock, draft_for(account, [ln("1", "-1", "5")]))
    with pytest.raises(Conflict, match="credit note"):
        finalise(session, clock, negative.id, SELLER)


def test_documents_are_stored_once(session, clock, account):
    draft = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")]))
    with pytest.raises(Conflict):
        store_document(session, draft.id, "pdf", b"%PDF-1")
    invoice = finalise(session, clock, draft.id, SELLER)
    doc = store_document(session, invoice.id, "pdf", b"%PDF-first", clock=clock)
    assert doc.size == 10 and len(doc.sha256) == 64
    assert store_document(session, invoice.id, "pdf", b"%PDF-second").data == b"%PDF-first"
    assert get_document(session, invoice.id, "pdf").data == b"%PDF-first"
    assert get_document(session, invoice.id, "facturx_xml") is None


def test_list_and_filters(session, clock, account):
    other = new_account(session, clock, name="Other SARL")
    a = issued(session, clock, account, [ln("1", "1", "10")])
    create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], period=FEB))
    issued(session, clock, other, [ln("1", "1", "10")])
    assert [
        i.id for i in list_invoices(session, InvoiceFilters(account_id=account.id, state="finalised"))
    ] == [a.id]
    assert len(list_invoices(session, InvoiceFilters(account_id=account.id))) == 2
    clock.advance(timedelta(days=400))
    late = issued(session, clock, account, [ln("1", "1", "1")], period=FEB, kind="late")
    assert late.number == "INV-2027-000001"  # the series counts per year
    assert recomputed_totals(session, a).grand_total == a.grand_total
