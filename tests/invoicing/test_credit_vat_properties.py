"""Properties of partial credit notes (Hypothesis): random invoices, random sequences of partial
credits, then a last credit note for all that remains.

- every credit note satisfies BR-CO-17 on its own: VAT per rate within one minor unit of
  round(its own base × rate / 100), and its Factur-X XML passes the EN 16931 XSD and schematron;
- credited base and credited VAT never exceed the invoice's, per rate, after any credit note;
- no line is credited beyond its quantity or net, and a line whose net is all given back has no
  units left;
- crediting everything in pieces nets the invoice to zero per rate (base and VAT).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.core.errors import IllegalTransition, ValidationFailed
from telbill.invoicing import (
    CreditSpec,
    DocumentAllowance,
    LineCredit,
    TaxCategory,
    credit_notes_of,
    invoice_content,
    issue_credit_note,
)
from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.credit_notes import creditable_lines, rate_standings
from telbill.invoicing.documents import facturx_xml, validate_facturx
from tests.invoicing.test_store_support import issued, ln, new_account, new_clock

D = Decimal
CENT = D("0.01")
RATES = ["20", "10", "5.5", "2.1", "exempt"]

# small unit prices make VAT rounding bite (0.03 at 20 % is 0.006), large ones exercise the totals
prices = st.one_of(
    st.integers(1, 20).map(lambda c: Decimal(c) / 100),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=4),
)
line_specs = st.lists(st.tuples(st.integers(1, 12), prices, st.sampled_from(RATES)), min_size=1, max_size=5)
# one step: (kind, which line, fraction of what remains creditable)
steps = st.lists(
    st.tuples(
        st.sampled_from(["whole", "quantity", "line_amount", "amount"]),
        st.integers(0, 4),
        st.fractions(min_value=0, max_value=1, max_denominator=7),
    ),
    max_size=6,
)


def _lines(specs):  # type: ignore[no-untyped-def]
    out = []
    for i, (quantity, price, rate) in enumerate(specs, start=1):
        if rate == "exempt":
            out.append(ln(str(i), str(quantity), str(price), category=TaxCategory.EXEMPT))
        else:
            out.append(ln(str(i), str(quantity), str(price), rate=rate))
    return out


def _allowance(lines, share):  # type: ignore[no-untyped-def]
    """A document discount on the first line's rate, `share` of that rate's base (none if 0)."""
    first = lines[0]
    key = (first.tax_category, first.tax_rate)
    base = sum((x.net_amount for x in lines if (x.tax_category, x.tax_rate) == key), Decimal(0))
    amount = (base * share).quantize(CENT, rounding=ROUND_DOWN)
    if amount <= 0:
        return ()
    return (DocumentAllowance("Promo", amount, first.tax_category, first.tax_rate),)


def _spec(session, invoice, step):  # type: ignore[no-untyped-def]
    """A credit spec that asks for a fraction of what remains (None when nothing can be asked)."""
    kind, index, fraction = step
    rates = {r.key: r for r in rate_standings(session, invoice)}
    open_total = sum((r.remaining_taxable for r in rates.values() if r.remaining_taxable > 0), Decimal(0))
    if kind == "amount":
        amount = (open_total * Decimal(fraction.numerator) / fraction.denominator).quantize(CENT, ROUND_DOWN)
        return CreditSpec(amount=amount) if amount > 0 else None
    lines = creditable_lines(session, invoice)
    item = lines[index % len(lines)]
    room = rates[(item.line.tax_category, item.line.tax_rate)].remaining_taxable
    if item.remaining_net <= 0 or room <= 0:
        return None
    if kind == "whole":
        return CreditSpec(lines=(LineCredit(item.line.line_id),)) if item.remaining_net <= room else None
    if kind == "quantity":
        quantity = (item.remaining_quantity * Decimal(fraction.numerator) / fraction.denominator).quantize(
            Decimal("0.000001"), ROUND_DOWN
        )
        if quantity <= 0 or item.line.net_amount * quantity / item.line.quantity > room - CENT:
            return None
        return CreditSpec(lines=(LineCredit(item.line.line_id, quantity=quantity),))
    limit = min(item.remaining_net, room)
    amount = (limit * Decimal(fraction.numerator) / fraction.denominator).quantize(CENT, ROUND_DOWN)
    return CreditSpec(lines=(LineCredit(item.line.line_id, amount=amount),)) if amount > 0 else None


def _assert_br_co_17(note: InvoiceContent) -> None:
    for sub in note.tax_subtotals:
        own = (sub.taxable_amount * sub.rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        assert abs(sub.tax_amount - own) <= CENT, (note.number, sub)


def _assert_valid_facturx(note: InvoiceContent) -> None:
    report = validate_facturx(facturx_xml(note))
    assert report.errors == (), (note.number, report.errors)


def _assert_lines_within_the_invoice(session, invoice):  # type: ignore[no-untyped-def]
    for item in creditable_lines(session, invoice):
        assert 0 <= item.credited_quantity <= item.line.quantity, item
        assert 0 <= item.credited_net <= item.line.net_amount, item
        if item.remaining_net == 0:  # a line whose net is all given back has no units left either
            assert item.remaining_quantity == 0, item


def _per_rate(contents):  # type: ignore[no-untyped-def]
    out: dict[tuple[TaxCategory, Decimal], tuple[Decimal, Decimal]] = {}
    for content in contents:
        for sub in content.tax_subtotals:
            base, tax = out.get((sub.category, sub.rate), (Decimal(0), Decimal(0)))
            out[(sub.category, sub.rate)] = (base + sub.taxable_amount, tax + sub.tax_amount)
    return out


@pytest.fixture
def clock():
    return new_clock()


@settings(max_examples=30)
@given(specs=line_specs, discount=st.sampled_from([0, 0, Decimal("0.1"), Decimal("0.5")]), plan=steps)
def test_partial_credit_notes_pass_br_co_17_never_exceed_and_net_to_zero(
    session, clock, specs, discount, plan
):
    with session.begin_nested() as savepoint:
        account = new_account(session, clock)
        lines = _lines(specs)
        invoice = issued(session, clock, account, lines, allowances=_allowance(lines, discount))
        charged = _per_rate([invoice_content(session, invoice.id)])
        notes: list[InvoiceContent] = []
        for step in plan:
            spec = _spec(session, invoice, step)
            if spec is None or invoice.state == "void":
                continue
            try:
                note = issue_credit_note(session, clock, invoice.id, spec, reason="partial")
            except ValidationFailed as exc:  # a quantity worth less than the minor unit is refused
                assert "gives back nothing" in str(exc), exc
                continue
            notes.append(invoice_content(session, note.id))
            for key, (base, tax) in _per_rate(notes).items():
                assert base <= charged[key][0] and abs(tax) <= abs(charged[key][1]), key
            _assert_lines_within_the_invoice(session, invoice)
        if invoice.state != "void":
            rest = issue_credit_note(session, clock, invoice.id, reason="rest")
            notes.append(invoice_content(session, rest.id))
        for note in notes:
            _assert_br_co_17(note)
            _assert_valid_facturx(note)
        credited = _per_rate(notes)
        assert set(credited) <= set(charged)
        assert {k: credited.get(k, (Decimal(0), Decimal(0))) for k in charged} == charged
        assert sum((n.totals.grand_total for n in notes), Decimal(0)) == invoice.grand_total
        assert invoice.state == "void" and invoice.balance == 0
        assert len(credit_notes_of(session, invoice.id)) == len(notes)
        with pytest.raises(IllegalTransition):
            issue_credit_note(session, clock, invoice.id, CreditSpec(amount=CENT), reason="over")
        savepoint.rollback()


def test_a_note_one_cent_off_its_own_vat_is_a_valid_en16931_credit_note(session, clock):
    """Three lines of 0.03 at 20 % (VAT 0.02 on 0.09), credited one at a time: the second note's
    VAT is 0.00 where round(0.03 × 20 %) alone is 0.01 — within BR-CO-17's tolerance, so its
    Factur-X passes the EN 16931 schematron, and the three notes give back exactly 0.02."""
    account = new_account(session, clock)
    invoice = issued(session, clock, account, [ln(x, "1", "0.03") for x in "abc"])
    notes = [
        invoice_content(
            session,
            issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(LineCredit(x),)), reason=x).id,
        )
        for x in "abc"
    ]
    assert [n.tax_subtotals[0].tax_amount for n in notes] == [D("0.01"), D("0.00"), D("0.01")]
    for note in notes:
        _assert_br_co_17(note)
        report = validate_facturx(facturx_xml(note))
        assert report.errors == () and "BR-CO-17" not in report.rules
