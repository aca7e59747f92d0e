"""Credit notes (full, partial, refused over-credit), void, and account credit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from telbill.core.errors import Conflict, IllegalTransition, ValidationFailed
from telbill.invoicing import (
    CreditSpec,
    DocumentAllowance,
    DocumentType,
    LineCredit,
    TaxCategory,
    account_credit_balance,
    apply_account_credit,
    create_draft,
    credit_notes_of,
    finalise,
    grant_account_credit,
    invoice_content,
    issue_credit_note,
    record_payment,
    replace_draft_lines,
    void,
)
from tests.invoicing.test_store_support import SELLER, draft_for, issued, ln, new_account, new_clock

D = Decimal
FEB = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.fixture
def clock():
    return new_clock()


@pytest.fixture
def account(session, clock):
    return new_account(session, clock)


@pytest.fixture
def invoice(session, clock, account):
    """Two lines at 20 % and one at 5.5 %: 100 + 3 × 10 + 50 = 180.00 net, 28.75 VAT, 208.75."""
    return issued(
        session,
        clock,
        account,
        [ln("1", "1", "100"), ln("2", "3", "10"), ln("3", "1", "50", rate="5.5")],
    )


def test_full_credit_note_mirrors_the_invoice_and_voids_it(session, clock, invoice):
    assert invoice.grand_total == D("208.75")
    note = issue_credit_note(session, clock, invoice.id, reason="Ordered by mistake")
    assert note.number == "CN-2026-000001" and note.document_type == "381" and note.state == "finalised"
    assert note.grand_total == D("208.75") and note.balance == 0
    content = invoice_content(session, note.id)
    assert content.document_type is DocumentType.CREDIT_NOTE
    assert (
        content.preceding_invoice == invoice.number and content.preceding_invoice_date == invoice.issue_date
    )
    assert [line.net_amount for line in content.lines] == [D("100.00"), D("30.00"), D("50.00")]
    assert content.buyer == invoice_content(session, invoice.id).buyer
    assert (invoice.state, invoice.amount_credited, invoice.balance) == ("void", D("208.75"), D("0.00"))
    with pytest.raises(IllegalTransition):
        issue_credit_note(session, clock, invoice.id, reason="again")


def test_partial_credit_by_lines_quantity_and_amount(session, clock, invoice):
    spec = CreditSpec(lines=(LineCredit("1"), LineCredit("2", quantity=D("1"))))
    note = issue_credit_note(session, clock, invoice.id, spec, reason="Outage")
    assert note.line_total == D("110.00") and note.tax_total == D("22.00") and note.grand_total == D("132.00")
    assert (invoice.state, invoice.balance) == ("finalised", D("76.75"))
    second = issue_credit_note(
        session, clock, invoice.id, CreditSpec(lines=(LineCredit("2", amount=D("5.00")),)), reason="Goodwill"
    )
    assert second.number == "CN-2026-000002" and second.grand_total == D("6.00")
    lines = invoice_content(session, second.id).lines
    assert lines[0].quantity == D("0.5") and lines[0].net_amount == D("5.00")
    with pytest.raises(ValidationFailed, match="remains creditable"):
        issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit("1"),)), reason="twice")
    with pytest.raises(ValidationFailed, match="remains creditable"):
        issue_credit_note(
            session,
            clock,
            invoice.id,
            CreditSpec(lines=(LineCredit("2", quantity=D("2")),)),
            reason="too many",
        )
    with pytest.raises(ValidationFailed, match="no such lines"):
        issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit("9"),)), reason="unknown")
    rest = issue_credit_note(session, clock, invoice.id, reason="Close")  # all that remains
    assert rest.grand_total == D("208.75") - D("132.00") - D("6.00")
    assert invoice.state == "void" and invoice.amount_credited == invoice.grand_total
    assert [n.id for n in credit_notes_of(session, invoice.id)] == [note.id, second.id, rest.id]


def test_amount_credit_is_spread_over_the_rates(session, clock, invoice):
    note = issue_credit_note(session, clock, invoice.id, CreditSpec(amount=D("18.00")), reason="Discount")
    content = invoice_content(session, note.id)
    # remaining taxable: 130.00 at 20 %, 50.00 at 5.5 % → 13.00 and 5.00
    assert [(line.tax_rate, line.net_amount) for line in content.lines] == [
        (D("20"), D("13.00")),
        (D("5.5"), D("5.00")),
    ]
    assert note.tax_total == D("2.88")  # 2.60 + 0.275 → 0.28
    with pytest.raises(ValidationFailed, match="exceeds"):
        issue_credit_note(session, clock, invoice.id, CreditSpec(amount=D("170")), reason="too much")
    with pytest.raises(ValidationFailed):
        CreditSpec(amount=D("-1"))
    with pytest.raises(ValidationFailed):
        issue_credit_note(session, clock, invoice.id, CreditSpec(amount=D("1")), reason="  ")


def test_cumulative_vat_never_over_credits(session, clock, account):
    """Three lines of 0.03 at 20 %: the invoice charges 0.02 VAT (on 0.09). Credited one by one, VAT
    follows round(credited so far × 20 %): 0.01 (0.006), then 0.00 (0.012 → 0.01), then 0.01
    (0.018 → 0.02) — 0.02 in all, where three separate computations would give back 0.03."""
    invoice = issued(
        session, clock, account, [ln("a", "1", "0.03"), ln("b", "1", "0.03"), ln("c", "1", "0.03")]
    )
    assert invoice.tax_total == D("0.02")
    taxes = [
        issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit(x),)), reason=x).tax_total
        for x in "abc"
    ]
    assert taxes == [D("0.01"), D("0.00"), D("0.01")]
    assert invoice.amount_credited == invoice.grand_total and invoice.state == "void"


def test_units_credited_one_by_one_give_back_the_whole_line(session, clock, account):
    """Three units for 1.00 in all (0.3333…): crediting them one at a time gives back
    round(1.00 × 1/3) = 0.33, then round(1.00 × 2/3) − 0.33 = 0.34, then the rest 0.33 — 1.00 in
    all, and the line is closed (three separate roundings would leave 0.01 with no unit left)."""
    invoice = issued(session, clock, account, [ln("1", "3", "0.333333")])
    assert invoice.line_total == D("1.00")
    nets = [
        invoice_content(
            session,
            issue_credit_note(
                session, clock, invoice.id, CreditSpec(lines=(LineCredit("1", quantity=D("1")),)), reason="u"
            ).id,
        )
        .lines[0]
        .net_amount
        for _ in range(3)
    ]
    assert nets == [D("0.33"), D("0.34"), D("0.33")]
    assert invoice.state == "void" and invoice.amount_credited == invoice.grand_total == D("1.20")


def test_an_amount_that_closes_a_line_closes_its_units(session, clock, account):
    invoice = issued(session, clock, account, [ln("1", "3", "0.333333")])  # 1.00
    first = issue_credit_note(
        session, clock, invoice.id, CreditSpec(lines=(LineCredit("1", amount=D("0.50")),)), reason="a"
    )
    assert invoice_content(session, first.id).lines[0].quantity == D("1.5")
    rest = issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit("1"),)), reason="b")
    line = invoice_content(session, rest.id).lines[0]
    assert (line.quantity, line.net_amount) == (D("1.5"), D("0.50"))
    with pytest.raises(ValidationFailed, match="nothing at the currency"):
        big = issued(session, clock, account, [ln("1", "1000", "0.001")], period=FEB)  # 1.00
        issue_credit_note(
            session, clock, big.id, CreditSpec(lines=(LineCredit("1", quantity=D("1")),)), reason="c"
        )  # 0.001 rounds to 0.00


def test_credit_with_allowances(session, clock, account):
    """50.00 + 50.00 and a 20.00 promotion on the invoice, VAT 20 %: 80.00 + 16.00 = 96.00. The
    promotion's shares are 10.00 per line (by net), so each line cost the customer 40.00 + 8.00:
    crediting line 1 gives back 48.00, line 2 the other 48.00, and the invoice is void."""
    invoice = issued(
        session, clock, account, [ln("1", "1", "50"), ln("2", "1", "50")],
        allowances=(DocumentAllowance("Promo", D("20.00"), TaxCategory.STANDARD, D("20")),),
    )  # fmt: skip
    assert invoice.grand_total == D("96.00")
    first = issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit("1"),)), reason="a")
    content = invoice_content(session, first.id)
    line = content.lines[0]
    assert (line.net_amount, line.unit_price, content.allowances) == (D("40.00"), D("40"), ())
    assert (content.totals.tax_total, first.grand_total) == (D("8.00"), D("48.00"))
    assert invoice.state == "finalised" and invoice.balance == D("48.00")
    second = issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit("2"),)), reason="b")
    assert second.grand_total == D("48.00") and invoice.state == "void" and invoice.balance == 0
    with pytest.raises(IllegalTransition):
        issue_credit_note(session, clock, invoice.id, reason="nothing is left")


def test_void_only_with_a_credit_note(session, clock, account, invoice):
    void(session, clock, invoice.id, "Duplicate")
    notes = credit_notes_of(session, invoice.id)
    assert len(notes) == 1 and notes[0].grand_total == invoice.grand_total
    assert invoice.state == "void" and invoice.void_reason == "Duplicate" and invoice.voided_at
    with pytest.raises(IllegalTransition):
        void(session, clock, invoice.id, "again")
    paid = issued(session, clock, account, [ln("1", "1", "10")], period=FEB)
    record_payment(session, clock, paid.id, D("12.00"))
    with pytest.raises(IllegalTransition):
        void(session, clock, paid.id, "paid invoices are credited, not voided")


def test_void_of_a_partly_paid_invoice_returns_the_payment_as_account_credit(
    session, clock, account, invoice
):
    record_payment(session, clock, invoice.id, D("50.00"))
    void(session, clock, invoice.id, "Contract cancelled")
    assert (invoice.state, invoice.balance, invoice.amount_refunded) == ("void", D("0.00"), D("50.00"))
    assert account_credit_balance(session, account.id, "EUR") == D("50.00")


def test_credit_note_after_payment_becomes_account_credit(session, clock, account, invoice):
    record_payment(session, clock, invoice.id, D("208.75"))
    issue_credit_note(
        session, clock, invoice.id, CreditSpec(lines=(LineCredit("3"),)), reason="Refund line 3"
    )
    assert invoice.state == "paid" and invoice.balance == 0
    assert account_credit_balance(session, account.id, "EUR") == D("52.75")  # 50 + 2.75 VAT


def test_overpayment_becomes_account_credit(session, clock, account):
    invoice = issued(session, clock, account, [ln("1", "1", "10")])
    record_payment(session, clock, invoice.id, D("15.00"))
    assert invoice.state == "paid" and invoice.amount_refunded == D("3.00")
    assert account_credit_balance(session, account.id, "EUR") == D("3.00")


def test_account_credit_is_consumed_by_later_invoices(session, clock, account):
    grant_account_credit(session, clock, account.id, D("15.00"), "EUR", "proration", note="unused days")
    grant_account_credit(session, clock, account.id, D("10.00"), "EUR", "goodwill")
    with pytest.raises(ValidationFailed):
        grant_account_credit(session, clock, account.id, D("0.001"), "EUR", "goodwill")
    draft = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")]))  # 12.00
    assert apply_account_credit(session, clock, draft.id) == D("12.00")
    assert draft.prepaid_amount == D("12.00") and draft.balance == D("0.00")
    assert account_credit_balance(session, account.id, "EUR") == D("13.00")
    replace_draft_lines(session, clock, draft.id, [ln("1", "1", "5")])  # regenerated: credit released
    assert draft.prepaid_amount == 0 and account_credit_balance(session, account.id, "EUR") == D("25.00")
    assert apply_account_credit(session, clock, draft.id) == D("6.00")
    invoice = finalise(session, clock, draft.id, SELLER)
    assert invoice.state == "paid"  # fully prepaid
    totals = invoice_content(session, invoice.id).totals
    assert (totals.prepaid, totals.due_payable) == (D("6.00"), D("0.00"))
    feb = create_draft(session, clock, draft_for(account, [ln("1", "1", "100")], period=FEB))
    assert apply_account_credit(session, clock, feb.id) == D("19.00")
    assert account_credit_balance(session, account.id, "EUR") == 0
    with pytest.raises(IllegalTransition):
        apply_account_credit(session, clock, invoice.id)


def test_standalone_credit_note_goes_to_account_credit(session, clock, account):
    draft = create_draft(
        session, clock, draft_for(account, [ln("1", "1", "25")], document_type=DocumentType.CREDIT_NOTE)
    )
    note = finalise(session, clock, draft.id, SELLER)
    assert note.number == "CN-2026-000001" and note.state == "finalised"
    assert account_credit_balance(session, account.id, "EUR") == D("30.00")


def test_credit_notes_are_idempotent_by_key(session, clock, invoice):
    spec = CreditSpec(amount=D("10.00"))
    first = issue_credit_note(session, clock, invoice.id, spec, reason="x", idempotency_key="req-1")
    again = issue_credit_note(session, clock, invoice.id, spec, reason="x", idempotency_key="req-1")
    assert again.id == first.id and invoice.amount_credited == first.grand_total
    with pytest.raises(Conflict):
        issue_credit_note(session, clock, first.id, spec, reason="x")  # a credit note is not credited
