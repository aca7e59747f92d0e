"""The bulk writer's content JSON — each line's text cached by value and put into the
`"lines":[]` slot, the seller's into `"seller":null`, the rest written by `snapshot.canonical` —
has the snapshot's bytes,
whatever the strings hold (quotes, backslashes, the slot's own text) and however Decimals are
written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.invoicing import bulk, snapshot
from telbill.invoicing.content import DocumentType, InvoiceContent, InvoiceLine, Party, TaxCategory, Totals

TRICKY = st.sampled_from(['"lines":[]', '\\"lines":[]', "\\", '"', "é ✓", "", "x"])
TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=8)), max_size=3).map("".join)
AMOUNT = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)
SELLER = Party("Seller", "1 rue", "Paris", "75001", "FR", "FR123")


@st.composite
def lines(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 4))
    out = []
    for i in range(1, n + 1):
        out.append(
            InvoiceLine(
                line_id=f"L{i}", description=draw(TEXT), quantity=draw(AMOUNT), unit_code="C62",
                unit_price=draw(AMOUNT), net_amount=draw(AMOUNT), tax_category=TaxCategory.STANDARD,
                tax_rate=draw(st.sampled_from([Decimal("20"), Decimal("20.000000"), Decimal("5.5")])),
                period_start=date(2027, 1, 1), period_end=None, product_code=draw(st.none() | TEXT),
            )
        )  # fmt: skip
    return out


@settings(max_examples=150, deadline=None)
@given(lines(), TEXT, TEXT, st.lists(TEXT, max_size=2))
def test_bulk_content_json_is_the_snapshot_bytes(drawn, buyer_name, terms, notes):
    zero = Decimal("0.00")
    content = InvoiceContent(
        number="#number#", document_type=DocumentType.INVOICE, issue_date=date(2027, 2, 1),
        due_date=date(2027, 3, 3), currency="EUR", language="fr", seller=SELLER,
        buyer=Party(buyer_name, "2 rue", "Lyon", "69001", "FR"), buyer_reference="A-1",
        period_start=date(2027, 1, 1), period_end=date(2027, 1, 31), lines=(), allowances=(),
        tax_subtotals=(), totals=Totals(zero, zero, zero, zero, zero), payment_terms=terms,
        late_payment_text=terms, notes=tuple(notes),
    )  # fmt: skip
    cache: dict = {}  # type: ignore[type-arg]
    for _ in range(2):  # the second pass answers from the cache
        bare = replace(content, seller=None)
        text = bulk._content_json(bare, snapshot.canonical(SELLER), bulk._lines_json(drawn, "EUR", cache))
        canonical = tuple(bulk._canonical(line, "EUR") for line in drawn)
        assert text == reference_json(replace(content, lines=canonical))


def reference_json(content: InvoiceContent) -> str:
    """The snapshot's definition: the plain form, dumped with sorted keys and no spaces."""
    return snapshot._dumps({"version": snapshot.SNAPSHOT_VERSION, "content": snapshot._plain(content)})


def test_equal_lines_written_differently_share_one_cached_text():
    """Equal Decimals with other exponents hash alike; their canonical forms are alike too."""
    one = InvoiceLine("L1", "Fee", Decimal("1"), "C62", Decimal("9.99"), Decimal("9.99"),
                      TaxCategory.STANDARD, Decimal("20"))  # fmt: skip
    other = replace(one, quantity=Decimal("1.000"), unit_price=Decimal("9.990000"), tax_rate=Decimal("20.0"))
    cache: dict = {}  # type: ignore[type-arg]
    assert bulk._lines_json([one], "EUR", cache) == bulk._lines_json([other], "EUR", cache)
    assert len(cache) == 1
    alone = bulk._lines_json([other], "EUR", {})
    assert bulk._lines_json([other], "EUR", cache) == alone
