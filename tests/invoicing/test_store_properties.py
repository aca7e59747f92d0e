"""Properties: stored totals equal totals recomputed from stored lines, every document balances, and
any sequence of partial credit notes ends exactly at the invoice total."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.invoicing import (
    CreditSpec,
    LineCredit,
    TaxCategory,
    invoice_content,
    issue_credit_note,
    recomputed_totals,
)
from tests.invoicing.test_store_support import issued, ln, new_account, new_clock

RATES = ["20", "10", "5.5", "2.1"]

line_specs = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=50).map(str),  # quantity
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=4).map(str),  # unit price
        st.sampled_from([*RATES, "exempt"]),
    ),
    min_size=1,
    max_size=6,
)


def _lines(specs):  # type: ignore[no-untyped-def]
    return [
        ln(str(i), q, p, category=TaxCategory.EXEMPT) if r == "exempt" else ln(str(i), q, p, rate=r)
        for i, (q, p, r) in enumerate(specs, start=1)
    ]


@pytest.fixture
def clock():
    return new_clock()


@settings(max_examples=25)
@given(specs=line_specs, order=st.randoms(use_true_random=False))
def test_totals_balance_and_credit_notes_close_exactly(session, clock, specs, order):
    with session.begin_nested() as savepoint:
        account = new_account(session, clock)
        invoice = issued(session, clock, account, _lines(specs))
        content = invoice_content(session, invoice.id)
        totals = content.totals
        assert recomputed_totals(session, invoice) == totals
        assert totals.line_total - totals.allowance_total + totals.tax_total == totals.grand_total
        assert sum((s.tax_amount for s in content.tax_subtotals), Decimal(0)) == totals.tax_total
        assert (invoice.line_total, invoice.tax_total, invoice.grand_total) == (
            totals.line_total, totals.tax_total, totals.grand_total
        )  # fmt: skip
        ids = [line.line_id for line in content.lines]
        order.shuffle(ids)
        credited = Decimal(0)
        for line_id in ids:
            note = issue_credit_note(
                session, clock, invoice.id, CreditSpec(lines=(LineCredit(line_id),)), reason="p"
            )
            note_totals = invoice_content(session, note.id).totals
            assert note_totals.line_total + note_totals.tax_total == note_totals.grand_total
            credited += note.grand_total
            assert credited <= invoice.grand_total
        assert credited == invoice.grand_total == invoice.amount_credited
        assert invoice.state == "void" and invoice.balance == 0
        savepoint.rollback()
