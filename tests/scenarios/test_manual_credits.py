"""Stories: an operator's credit notes and the bill run. What an operator gave back is never billed
again, and never given back a second time when the bill run later repairs the same period.
UTC accounts, BCD 1, French consumers (20 % VAT), February 2027 (28 days), Basic 20.00 a month in
advance (cancellation immediate, unused time credited), Extra lines 10.00 each."""

from __future__ import annotations

from decimal import Decimal

from telbill.invoicing import (
    CreditSpec,
    LineCredit,
    account_credit_balance,
    invoice_content,
    issue_credit_note,
    void,
)
from telbill.subscriptions import cancel, change_quantity
from tests.scenarios.test_changes import CATALOG
from tests.scenarios.world import World, utc

D = Decimal


def _february(session, offer="basic", quantity=None):  # type: ignore[no-untyped-def]
    w = World(session, CATALOG, utc(2027, 2, 1))
    acc = w.account(bill_cycle_day=1)
    sub = w.order(acc, offer, quantity=quantity)
    w.advance(utc(2027, 2, 15))
    (feb,) = w.invoices(acc)
    return w, acc, sub, feb


def _cycle_documents(w, acc):  # type: ignore[no-untyped-def]
    """(period start, type, total) of the bill run's documents, manual credit notes left out."""
    return [
        (i.period_start.isoformat(), i.document_type, i.grand_total.quantize(D("0.01")))
        for i in w.invoices(acc)
        if i.kind == "cycle"
    ]


def test_goodwill_credit_is_not_billed_again(session):
    """February 20.00 (24.00). The operator gives back 5.00 of it for an outage (6.00 with VAT).
    March: only March's 20.00 in advance — 24.00; February is not billed the 5.00 again."""
    w, acc, _sub, feb = _february(session)
    line = invoice_content(session, feb.id).lines[0]
    issue_credit_note(
        session,
        w.clock,
        feb.id,
        CreditSpec(lines=(LineCredit(line.line_id, amount=D("5.00")),)),
        reason="Outage",
    )
    w.advance(utc(2027, 3, 2))
    assert _cycle_documents(w, acc) == [("2027-02-01", "380", D("24.00")), ("2027-03-01", "380", D("24.00"))]
    assert feb.balance == D("18.00")


def test_a_voided_invoice_is_not_credited_again_when_the_subscription_ends(session):
    """The operator voids February (24.00) on 20 Feb and the subscription is cancelled that day.
    Reconciliation expects 19/28 × 20.00 = 13.57 for February and sees nothing still paid (20.00
    billed − 20.00 credited): no credit note for −6.43 on 1 March, no account credit."""
    w, acc, sub, feb = _february(session)
    w.advance(utc(2027, 2, 20))
    void(session, w.clock, feb.id, "Customer left")
    cancel(session, w.clock, sub.id, when="now")
    w.advance(utc(2027, 3, 2))
    assert _cycle_documents(w, acc) == [("2027-02-01", "380", D("24.00"))]
    assert account_credit_balance(session, acc, "EUR") == 0


def test_partial_credit_then_cancellation_credits_only_the_rest(session):
    """5.00 given back on February, then cancelled on 20 Feb: owed 13.57, still paid 20.00 − 5.00
    = 15.00 → a repair of −1.43 (VAT 0.286 → 0.29): a credit note of 1.72 on 1 March. The customer
    pays 13.57 net for February, as owed (the 5.00 already covered most of the unused time)."""
    w, acc, sub, feb = _february(session)
    line = invoice_content(session, feb.id).lines[0]
    issue_credit_note(
        session,
        w.clock,
        feb.id,
        CreditSpec(lines=(LineCredit(line.line_id, amount=D("5.00")),)),
        reason="Outage",
    )
    w.advance(utc(2027, 2, 20))
    cancel(session, w.clock, sub.id, when="now")
    w.advance(utc(2027, 3, 2))
    assert _cycle_documents(w, acc) == [("2027-02-01", "380", D("24.00")), ("2027-03-01", "381", D("1.72"))]
    march = w.invoices(acc)[-1]
    assert [amount for _, amount in w.lines(march)] == [D("1.43")]


def test_an_amount_credit_spread_over_the_rates_counts_for_the_lines_it_covers(session):
    """An amount of 10.00 credited on February (spread over its one rate, no invoice line named)
    counts for February's fee: cancelled on 20 Feb, owed 13.57, still paid 10.00 — nothing more
    is credited."""
    w, acc, sub, feb = _february(session)
    issue_credit_note(session, w.clock, feb.id, CreditSpec(amount=D("10.00")), reason="Goodwill")
    w.advance(utc(2027, 2, 20))
    cancel(session, w.clock, sub.id, when="now")
    w.advance(utc(2027, 3, 2))
    assert _cycle_documents(w, acc) == [("2027-02-01", "380", D("24.00"))]


def test_more_service_is_still_billed_after_a_goodwill_credit(session):
    """3 lines at 10.00 billed for February (36.00), 5.00 given back; 5 lines from 22 Feb: owed
    22.50 + 12.50 = 35.00, more than the 30.00 ever billed → +5.00 (the goodwill stays granted);
    March 50.00. 55.00 + 11.00 VAT = 66.00, as without the credit."""
    w, acc, sub, feb = _february(session, "lines", quantity=3)
    issue_credit_note(session, w.clock, feb.id, CreditSpec(amount=D("5.00")), reason="Goodwill")
    w.advance(utc(2027, 2, 22))
    change_quantity(session, w.clock, sub.id, 5)
    w.advance(utc(2027, 3, 2))
    assert _cycle_documents(w, acc) == [("2027-02-01", "380", D("36.00")), ("2027-03-01", "380", D("66.00"))]
