"""Credit notes of discounted invoices: a line gives back what the customer was charged for it —
its net minus its share of the discounts that applied to it, as allocated when the invoice was
written — and crediting every line, in any order and pieces, gives back exactly the invoice."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.billing.discounts import (
    ActiveDiscount,
    DiscountKind,
    DiscountSource,
    DiscountTerms,
    Scope,
    apply_discounts,
)
from telbill.core.errors import IllegalTransition, ValidationFailed
from telbill.invoicing import (
    CreditSpec,
    DocumentAllowance,
    InvoiceLine,
    LineCredit,
    TaxCategory,
    invoice_content,
    issue_credit_note,
)
from telbill.invoicing.content import InvoiceContent
from telbill.invoicing.credit_notes import creditable_lines
from telbill.invoicing.documents import facturx_xml, validate_facturx
from telbill.invoicing.shares import default_shares, line_shares
from tests.invoicing.test_store_support import JAN, issued, new_account, new_clock

D = Decimal
CENT = D("0.01")
EUR = "EUR"


def _line(line_id: str, quantity: str, price: str, *, product: str = "mobile", rate: str = "20",
          kind: str = "recurring") -> InvoiceLine:  # fmt: skip
    net = (D(quantity) * D(price)).quantize(CENT, rounding=ROUND_HALF_UP)
    return InvoiceLine(
        line_id=line_id, description=f"{product} {line_id}", quantity=D(quantity), unit_code="C62",
        unit_price=D(price), net_amount=net, tax_category=TaxCategory.STANDARD, tax_rate=D(rate),
        period_start=JAN[0], period_end=JAN[1], product_code=product, charge_kind=kind,
    )  # fmt: skip


def _coupon(discount_id: str, kind: DiscountKind, value: str, scope: Scope = Scope.INVOICE,
            targets: frozenset[str] = frozenset(), priority: int = 100) -> ActiveDiscount:  # fmt: skip
    terms = DiscountTerms(kind, D(value), EUR if kind is DiscountKind.AMOUNT else None,
                          scope=scope, targets=targets, priority=priority)  # fmt: skip
    return ActiveDiscount(discount_id, DiscountSource.COUPON, f"Coupon {discount_id}", terms)


def _discounted_invoice(session, clock, lines, discounts):  # type: ignore[no-untyped-def]
    """An issued invoice whose allowances and shares are what `apply_discounts` made (as the bill
    run writes them)."""
    result = apply_discounts(lines, discounts, 1, currency_code=EUR)
    shares: dict[str, Decimal] = {}
    for a in result.allocations:
        shares[a.line_id] = shares.get(a.line_id, D(0)) + a.amount
    account = new_account(session, clock)
    return issued(session, clock, account, lines, allowances=result.allowances, allowance_shares=shares)


def _credit(session, clock, invoice, *credits: LineCredit):  # type: ignore[no-untyped-def]
    note = issue_credit_note(session, clock, invoice.id, CreditSpec(lines=credits), reason="test")
    return note, invoice_content(session, note.id)


def _valid(note: InvoiceContent) -> None:
    for sub in note.tax_subtotals:
        own = (sub.taxable_amount * sub.rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        assert abs(sub.tax_amount - own) <= CENT, (note.number, sub)
    report = validate_facturx(facturx_xml(note))
    assert report.errors == (), (note.number, report.errors)


@pytest.fixture
def clock():
    return new_clock()


# shares, pure -------------------------------------------------------------------------------------


def test_default_shares_spread_each_rate_by_net_to_the_cent():
    """7.00 at 20 % over 10.00, 10.00 and 10.00 (2.333… each): 2.34, 2.33, 2.33 (largest
    remainder, the first of equal remainders first); the 5.5 % line carries nothing."""
    lines = [
        _line("1", "1", "10"),
        _line("2", "1", "10"),
        _line("3", "1", "10"),
        _line("4", "1", "8", rate="5.5"),
    ]
    promo = DocumentAllowance("Promo", D("7.00"), TaxCategory.STANDARD, D("20"))
    assert default_shares(lines, [promo], EUR) == {"1": D("2.34"), "2": D("2.33"), "3": D("2.33"), "4": D(0)}


def test_given_shares_must_carry_exactly_the_allowances():
    lines = [_line("1", "1", "20"), _line("2", "1", "30")]
    promo = DocumentAllowance("Promo", D("5.00"), TaxCategory.STANDARD, D("20"))
    assert line_shares(lines, [promo], EUR, {"1": D("5.00")}) == {"1": D("5.00"), "2": D(0)}
    for wrong in ({"1": D("4.00")}, {"1": D("25.00"), "2": D("-20.00")}, {"9": D("5.00")}):
        with pytest.raises(ValidationFailed):
            line_shares(lines, [promo], EUR, wrong)


# hand-worked --------------------------------------------------------------------------------------


def test_percentage_coupon_on_the_invoice(session, clock):
    """3 × 10.00 (L1) and 19.99 (L2) at 20 %, 10.00 (L3) at 5.5 %; 10 % off the invoice:
    round(5.999) = 6.00, spread by net (300.05, 199.93, 100.02 cents → 3.00, 2.00, 1.00).
    20 %: 49.99 − 5.00 = 44.99, VAT 9.00; 5.5 %: 9.00, VAT 0.50; total 63.49.
    L1 by pieces: 1 unit → 9.00 (net price 9), 5.00 → 0.555556 unit, the rest → 13.00;
    VAT cumulative on 27.00: 1.80, 1.00, 2.60 (5.40). L2 → 17.99 + 3.60 (round(8.998) − 5.40).
    L3 → 9.00 + 0.50. In all 63.49, exactly the invoice."""
    lines = [_line("L1", "3", "10"), _line("L2", "1", "19.99"), _line("L3", "1", "10", rate="5.5")]
    invoice = _discounted_invoice(session, clock, lines, [_coupon("ten", DiscountKind.PERCENTAGE, "10")])
    assert invoice.grand_total == D("63.49") and invoice.allowance_total == D("6.00")
    assert [i.allowance_share for i in creditable_lines(session, invoice)] == [
        D("3.00"),
        D("2.00"),
        D("1.00"),
    ]
    _, one_unit = _credit(session, clock, invoice, LineCredit("L1", quantity=D(1)))
    assert (one_unit.lines[0].net_amount, one_unit.lines[0].unit_price) == (D("9.00"), D("9"))
    _, five = _credit(session, clock, invoice, LineCredit("L1", amount=D("5.00")))
    assert five.lines[0].quantity == D("0.555556")
    _, rest = _credit(session, clock, invoice, LineCredit("L1"))
    assert (rest.lines[0].net_amount, rest.lines[0].quantity) == (D("13.00"), D("1.444444"))
    assert [n.totals.tax_total for n in (one_unit, five, rest)] == [D("1.80"), D("1.00"), D("2.60")]
    _, l2 = _credit(session, clock, invoice, LineCredit("L2"))
    assert (l2.totals.tax_basis_total, l2.totals.tax_total, l2.totals.grand_total) == (
        D("17.99"), D("3.60"), D("21.59"),
    )  # fmt: skip
    _, l3 = _credit(session, clock, invoice, LineCredit("L3"))
    assert l3.totals.grand_total == D("9.50")
    notes = (one_unit, five, rest, l2, l3)
    assert sum((n.totals.grand_total for n in notes), D(0)) == D("63.49")
    assert invoice.state == "void" and invoice.balance == 0
    for note in notes:
        _valid(note)
    assert l2.notes[1].startswith(("Amounts are net of the discounts", "Montants nets des remises"))


def test_product_coupon_is_given_back_only_with_its_product(session, clock):
    """Mobile 20.00 and fibre 30.00 at 20 %, 25 % off mobile only: 5.00 on the mobile line.
    Invoice 45.00 + 9.00 = 54.00. Fibre gives back its full 30.00 + 6.00 (a spread by net would
    have said 27.00); mobile 15.00 + 3.00."""
    lines = [_line("L1", "1", "20", product="mobile"), _line("L2", "1", "30", product="fibre")]
    coupon = _coupon("mob", DiscountKind.PERCENTAGE, "25", Scope.PRODUCT, frozenset({"mobile"}))
    invoice = _discounted_invoice(session, clock, lines, [coupon])
    assert invoice.grand_total == D("54.00")
    fibre, content = _credit(session, clock, invoice, LineCredit("L2"))
    assert fibre.grand_total == D("36.00") and content.notes == ("test",)  # no discount on that line
    mobile, content = _credit(session, clock, invoice, LineCredit("L1"))
    assert (content.lines[0].net_amount, mobile.grand_total) == (D("15.00"), D("18.00"))
    assert invoice.state == "void"
    with pytest.raises(IllegalTransition):
        _credit(session, clock, invoice, LineCredit("L1"))


def test_full_credit_still_mirrors_the_allowances_and_keeps_the_shares(session, clock):
    """A full credit note repeats the invoice's lines and allowances; its lines carry the same
    shares, so nothing is left to credit line by line."""
    lines = [_line("L1", "1", "20", product="mobile"), _line("L2", "1", "30", product="fibre")]
    coupon = _coupon("mob", DiscountKind.AMOUNT, "4.00", Scope.PRODUCT, frozenset({"mobile"}))
    invoice = _discounted_invoice(session, clock, lines, [coupon])
    note = issue_credit_note(session, clock, invoice.id, reason="all")
    content = invoice_content(session, note.id)
    assert [a.amount for a in content.allowances] == [D("4.00")] and note.grand_total == D("55.20")
    assert [i.remaining_net for i in creditable_lines(session, invoice)] == [D(0), D(0)]
    _valid(content)


# property -----------------------------------------------------------------------------------------

PRODUCTS = ["mobile", "fibre", "tv"]
KINDS = ["recurring", "usage", "one_time"]
prices = st.one_of(st.integers(1, 30).map(lambda c: D(c) / 100), st.decimals(D("0.01"), D("200"), places=2))
line_specs = st.lists(
    st.tuples(st.integers(1, 6), prices, st.sampled_from(["20", "10", "5.5"]), st.sampled_from(PRODUCTS),
              st.sampled_from(KINDS)),
    min_size=1, max_size=5,
)  # fmt: skip
discount_specs = st.lists(
    st.tuples(
        st.sampled_from([DiscountKind.PERCENTAGE, DiscountKind.AMOUNT]),
        st.integers(1, 100),  # percent, or an amount in units
        st.sampled_from([Scope.INVOICE, Scope.PRODUCT, Scope.CHARGE_KIND]),
        st.integers(0, 2),
    ),
    min_size=1, max_size=3,
)  # fmt: skip
# one piece: which open line (index into them), how (whole, quantity, amount) and a fraction
pieces = st.lists(
    st.tuples(
        st.integers(0, 9),
        st.sampled_from(["whole", "quantity", "amount"]),
        st.fractions(0, 1, max_denominator=5),
    ),
    max_size=12,
)


def _discounts(specs):  # type: ignore[no-untyped-def]
    out = []
    for n, (kind, value, scope, target) in enumerate(specs):
        targets = frozenset() if scope is Scope.INVOICE else frozenset(
            {(PRODUCTS if scope is Scope.PRODUCT else KINDS)[target]}
        )  # fmt: skip
        out.append(_coupon(f"d{n}", kind, str(value), scope, targets, priority=n))
    return out


def _piece(item, how, fraction):  # type: ignore[no-untyped-def]
    """A credit of part of what remains of a line (the whole of it when the part rounds to nothing)."""
    ratio = D(fraction.numerator) / fraction.denominator
    if how == "quantity":
        quantity = (item.remaining_quantity * ratio).quantize(D("0.000001"), ROUND_DOWN)
        if quantity > 0 and (item.charged * quantity / item.line.quantity) >= CENT:
            return LineCredit(item.line.line_id, quantity=quantity)
    if how == "amount":
        amount = (item.remaining_net * ratio).quantize(CENT, ROUND_DOWN)
        if amount > 0:
            return LineCredit(item.line.line_id, amount=amount)
    return LineCredit(item.line.line_id)


def _per_rate(contents):  # type: ignore[no-untyped-def]
    out: dict[tuple[TaxCategory, Decimal], tuple[Decimal, Decimal]] = {}
    for content in contents:
        for sub in content.tax_subtotals:
            base, tax = out.get((sub.category, sub.rate), (D(0), D(0)))
            out[(sub.category, sub.rate)] = (base + sub.taxable_amount, tax + sub.tax_amount)
    return out


@settings(max_examples=25, deadline=None)
@given(specs=line_specs, discount=discount_specs, plan=pieces)
def test_crediting_every_line_in_pieces_gives_back_exactly_the_invoice(session, clock, specs, discount, plan):
    with session.begin_nested() as savepoint:
        lines = [
            _line(f"L{i}", str(q), str(p), rate=r, product=prod, kind=kind)
            for i, (q, p, r, prod, kind) in enumerate(specs, start=1)
        ]
        invoice = _discounted_invoice(session, clock, lines, _discounts(discount))
        charged = _per_rate([invoice_content(session, invoice.id)])
        notes: list[InvoiceContent] = []

        def open_lines():  # type: ignore[no-untyped-def]
            return [i for i in creditable_lines(session, invoice) if i.remaining_net > 0]

        steps = list(plan)
        while open_lines():
            items = open_lines()
            index, how, fraction = steps.pop(0) if steps else (0, "whole", 1)
            credit = _piece(items[index % len(items)], how, fraction)
            note = issue_credit_note(session, clock, invoice.id, CreditSpec(lines=(credit,)), reason="piece")
            notes.append(invoice_content(session, note.id))
            for key, (base, tax) in _per_rate(notes).items():
                assert base <= charged[key][0] and tax <= charged[key][1], key
        for item in creditable_lines(session, invoice):
            assert item.credited_net == item.charged, item
        for note in notes:
            _valid(note)
        credited = _per_rate(notes)
        assert {k: credited.get(k, (D(0), D(0))) for k in charged} == charged
        assert sum((n.totals.grand_total for n in notes), D(0)) == invoice.grand_total
        assert invoice.balance == 0 and invoice.state == ("void" if notes else "paid")
        savepoint.rollback()
