"""`snapshot.canonical` writes the bytes of the snapshot's definition — the plain form dumped with
sorted keys, no spaces and no ASCII escaping — for any content, whatever its strings hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.invoicing import snapshot
from telbill.invoicing.content import (
    DocumentAllowance,
    DocumentType,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    TaxSubtotal,
    Totals,
    UsageSummaryRow,
)

TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"', "\\", "\n\t\r\b\f", "\x00\x1f\x7f", "é ✓ 🙂", '"lines":[]', '"seller":null', "\u2028"]
)
AMOUNT = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
) | st.sampled_from([Decimal("1E+2"), Decimal("-0"), Decimal("0E-6"), Decimal("20.000000")])
DAY = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))
CATEGORY = st.sampled_from(list(TaxCategory))
PARTY = st.builds(Party, TEXT, TEXT, TEXT, TEXT, TEXT, st.none() | TEXT, st.none() | TEXT, st.none() | TEXT)
LINE = st.builds(
    InvoiceLine,
    TEXT,
    TEXT,
    AMOUNT,
    TEXT,
    AMOUNT,
    AMOUNT,
    CATEGORY,
    AMOUNT,
    st.none() | DAY,
    st.none() | DAY,
    st.none() | TEXT,
    TEXT,
)
ALLOWANCE = st.builds(DocumentAllowance, TEXT, AMOUNT, CATEGORY, AMOUNT)
SUBTOTAL = st.builds(TaxSubtotal, CATEGORY, AMOUNT, AMOUNT, AMOUNT, st.none() | TEXT, st.none() | TEXT)
TOTALS = st.builds(Totals, AMOUNT, AMOUNT, AMOUNT, AMOUNT, AMOUNT, AMOUNT, AMOUNT)
USAGE = st.builds(UsageSummaryRow, TEXT, TEXT, st.integers(-(2**40), 2**40), AMOUNT, TEXT, AMOUNT)
CONTENT = st.builds(
    InvoiceContent,
    number=TEXT, document_type=st.sampled_from(list(DocumentType)), issue_date=DAY, due_date=DAY,
    currency=TEXT, language=TEXT, seller=PARTY, buyer=PARTY, buyer_reference=TEXT, period_start=DAY,
    period_end=DAY, lines=st.lists(LINE, max_size=3).map(tuple),
    allowances=st.lists(ALLOWANCE, max_size=2).map(tuple),
    tax_subtotals=st.lists(SUBTOTAL, max_size=2).map(tuple), totals=TOTALS, payment_terms=TEXT,
    late_payment_text=TEXT, usage_summary=st.lists(USAGE, max_size=2).map(tuple),
    notes=st.lists(TEXT, max_size=2).map(tuple),
)  # fmt: skip


def reference(value: object) -> str:
    return snapshot._dumps(snapshot._plain(value))


@settings(max_examples=300, deadline=None)
@given(CONTENT)
def test_canonical_content_is_the_plain_form_dumped(content):
    assert snapshot.canonical(content) == reference(content)
    expected = snapshot._dumps({"version": snapshot.SNAPSHOT_VERSION, "content": snapshot._plain(content)})
    assert snapshot.content_to_json(content) == expected
    assert snapshot.content_from_json(snapshot.content_to_json(content)) == snapshot.content_from_json(
        expected
    )


@given(st.lists(st.one_of(st.none(), st.booleans(), st.integers(), TEXT, AMOUNT, DAY, CATEGORY), max_size=5))
def test_canonical_values_are_the_plain_form_dumped(values):
    assert snapshot.canonical(values) == reference(values)
    assert snapshot.canonical(tuple(values)) == reference(tuple(values))


def test_values_the_plain_form_leaves_alone_go_through_json_itself():
    nested = {"b": [1, "x"], "a": {"d": None, "c": True}}
    assert snapshot.canonical(nested) == reference(nested) == '{"a":{"c":true,"d":null},"b":[1,"x"]}'
    assert snapshot.canonical(1.5) == reference(1.5)
