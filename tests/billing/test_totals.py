"""Invoice totals: VAT per rate on the subtotal, and every invoice balances to the minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.taxes import REVERSE_CHARGE
from telbill.billing.totals import as_credit_note, compute_totals, document_type_for
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, currency
from telbill.invoicing.content import DocumentAllowance, DocumentType, InvoiceLine, TaxCategory

S = TaxCategory.STANDARD


def line(line_id: str, amount: str, rate: str = "20", category: TaxCategory = S) -> InvoiceLine:
    return InvoiceLine(
        line_id=line_id,
        description=f"line {line_id}",
        quantity=Decimal(1),
        unit_code="C62",
        unit_price=abs(Decimal(amount)),
        net_amount=Decimal(amount),
        tax_category=category,
        tax_rate=Decimal(rate),
    )


def allowance(amount: str, rate: str = "20", category: TaxCategory = S) -> DocumentAllowance:
    return DocumentAllowance("Coupon WELCOME", Decimal(amount), category, Decimal(rate))


def test_worked_example_two_rates_an_allowance_and_a_prepayment():
    """Mobile S 29.99 + data 5.00 at 20 %, e-magazine 4.99 at 5.5 %, coupon 3.00 at 20 %, 10.00 prepaid.
    20 %: 29.99 + 5.00 − 3.00 = 31.99 → VAT 6.398 → 6.40.  5.5 %: 4.99 → VAT 0.27445 → 0.27.
    Lines 39.98 − 3.00 = 36.98 + VAT 6.67 = 43.65; due 43.65 − 10.00 = 33.65."""
    subtotals, totals = compute_totals(
        [line("1", "29.99"), line("2", "5.00"), line("3", "4.99", "5.5")],
        [allowance("3.00")],
        "EUR",
        prepaid=Decimal("10.00"),
    )
    assert [(s.rate, s.taxable_amount, s.tax_amount) for s in subtotals] == [
        (Decimal("20"), Decimal("31.99"), Decimal("6.40")),
        (Decimal("5.5"), Decimal("4.99"), Decimal("0.27")),
    ]
    assert totals.line_total == Decimal("39.98")
    assert totals.allowance_total == Decimal("3.00")
    assert totals.tax_basis_total == Decimal("36.98")
    assert totals.tax_total == Decimal("6.67")
    assert totals.grand_total == Decimal("43.65")
    assert totals.due_payable == Decimal("33.65")


def test_tax_is_computed_on_the_subtotal_not_per_line():
    """Three lines of 1.03 at 20 %: per line 0.206 → 0.21 would give 0.63; on the subtotal
    3.09 × 20 % = 0.618 → 0.62."""
    subtotals, totals = compute_totals([line(str(i), "1.03") for i in range(3)], [], "EUR")
    assert subtotals[0].tax_amount == Decimal("0.62")
    assert totals.grand_total == Decimal("3.71")


def test_reverse_charge_subtotal_carries_its_mention():
    subtotals, totals = compute_totals([line("1", "100.00", "0", TaxCategory.REVERSE_CHARGE)], [], "EUR")
    (rc,) = subtotals
    assert (rc.tax_amount, rc.exemption_reason, rc.exemption_code) == (
        Decimal("0.00"),
        REVERSE_CHARGE.reason,
        "VATEX-EU-AE",
    )
    assert totals.grand_total == Decimal("100.00")


def test_amounts_keep_the_currency_exponent():
    _, jpy = compute_totals([line("1", "1234", "10")], [], "JPY")
    assert (str(jpy.tax_total), str(jpy.grand_total)) == ("123", "1357")
    _, tnd = compute_totals([line("1", "10.125", "19")], [], "TND")
    assert (str(tnd.tax_total), str(tnd.grand_total)) == ("1.924", "12.049")


def test_unrounded_amounts_and_bad_rates_are_refused_with_every_problem():
    with pytest.raises(ValidationFailed) as caught:
        compute_totals(
            [line("1", "1.005"), line("2", "1.00", "0")], [allowance("1.00", "5", TaxCategory.EXEMPT)], "EUR"
        )
    assert len(caught.value.details) == 3


def test_a_negative_invoice_becomes_a_credit_note_with_positive_amounts():
    """Unused-time credit −15.00 and a new charge 10.00 at 20 %: the invoice would be −5.00 net,
    −6.00 gross; issued as a 381 credit note of 5.00 net + 1.00 VAT = 6.00."""
    lines = [line("1", "-15.00"), line("2", "10.00")]
    _, totals = compute_totals(lines, [], "EUR")
    assert totals.grand_total == Decimal("-6.00")
    assert document_type_for(totals) is DocumentType.CREDIT_NOTE
    flipped, _ = as_credit_note(lines, [])
    _, credit = compute_totals(flipped, [], "EUR")
    assert credit.grand_total == Decimal("6.00")
    assert flipped[0].quantity == -1 and flipped[0].unit_price > 0
    assert document_type_for(credit) is DocumentType.INVOICE  # positive amounts, 381 by the caller


# --- properties ---------------------------------------------------------------------------------

RATES = [(S, "20"), (S, "5.5"), (S, "10"), (S, "25.5"), (S, "8.875"), (TaxCategory.REVERSE_CHARGE, "0")]


@st.composite
def invoices(draw: st.DrawFn) -> tuple[str, list[InvoiceLine], list[DocumentAllowance], Decimal]:
    code = draw(st.sampled_from(["EUR", "JPY", "TND"]))
    exp = currency(code).minor_units

    def amount(lo: int, hi: int) -> str:
        return str(Money.from_minor(draw(st.integers(lo, hi)), code).amount)

    keys = draw(st.lists(st.sampled_from(RATES), min_size=1, max_size=6))
    lines = [line(str(i), amount(-(10**7), 10**8), rate, cat) for i, (cat, rate) in enumerate(keys)]
    allowances = [
        allowance(amount(0, 10**6), rate, cat)
        for cat, rate in draw(st.lists(st.sampled_from(keys), max_size=3))
    ]
    prepaid = Decimal(draw(st.integers(0, 10**6))).scaleb(-exp)
    return code, lines, allowances, prepaid


@given(invoices())
def test_every_invoice_balances(invoice):
    """Σ lines − Σ allowances + Σ taxes = grand total, exactly; due = grand − prepaid; each rate's
    tax is within half a minor unit of taxable × rate."""
    code, lines, allowances, prepaid = invoice
    subtotals, totals = compute_totals(lines, allowances, code, prepaid=prepaid)
    lines_sum = sum(ln.net_amount for ln in lines)
    allowances_sum = sum(a.amount for a in allowances)
    taxes = sum(s.tax_amount for s in subtotals)
    assert lines_sum - allowances_sum + taxes == totals.grand_total
    assert totals.due_payable == totals.grand_total - prepaid
    assert sum(s.taxable_amount for s in subtotals) == totals.tax_basis_total
    half = currency(code).quantum / 2
    for s in subtotals:
        assert abs(s.tax_amount - s.taxable_amount * s.rate / 100) <= half
    for value in (totals.grand_total, totals.tax_total, totals.due_payable):
        assert value.as_tuple().exponent == -currency(code).minor_units


@given(invoices())
def test_credit_note_totals_are_the_exact_opposite(invoice):
    code, lines, allowances, _ = invoice
    subtotals, totals = compute_totals(lines, allowances, code)
    flipped_subtotals, flipped = compute_totals(*as_credit_note(lines, allowances), code)
    assert flipped.grand_total == -totals.grand_total
    assert [s.tax_amount for s in flipped_subtotals] == [-s.tax_amount for s in subtotals]
