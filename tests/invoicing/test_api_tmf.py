"""The pure TMF678 mapping: exact JSON for any Decimal, states, sort keys, indicative line VAT."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.core.errors import ValidationFailed
from telbill.core.exact_json import dumps_exact
from telbill.invoicing import tmf
from telbill.invoicing.lifecycle import InvoiceState
from tests.test_architecture import IO_PACKAGES, _imports

decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=6)


def test_the_mapping_module_does_no_io():
    imported = {name.split(".")[0] for name in _imports(Path(tmf.__file__))}
    assert imported & IO_PACKAGES == set()


@given(decimals)
def test_any_amount_is_written_with_its_exact_digits(value):
    body = dumps_exact({"amount": tmf.money(value, "EUR"), "rate": tmf.number(value)})
    parsed = json.loads(body, parse_float=Decimal, parse_int=Decimal)
    assert parsed["amount"]["value"] == value.quantize(Decimal("0.01"))
    assert f'"value":{value.quantize(Decimal("0.01")):f}'.encode() in body
    assert parsed["rate"] == value


def test_every_store_state_has_a_tmf_state():
    assert {s: tmf.tmf_state(s.value, "380") for s in InvoiceState if s is not InvoiceState.DRAFT} == {
        InvoiceState.FINALISED: "sent",
        InvoiceState.PARTIALLY_PAID: "partiallyPaid",
        InvoiceState.PAID: "settled",
        InvoiceState.VOID: "settled",
    }
    assert tmf.tmf_state("draft", "380") == "new"
    assert tmf.tmf_state("draft", "380", "below_minimum") == "onHold"
    assert tmf.tmf_state("finalised", "381") == "settled"
    assert {tmf.tmf_state(s.value, t) for s in InvoiceState for t in ("380", "381")} <= set(tmf.TMF_STATES)


def test_sort_keys():
    assert tmf.parse_sort("-billDate, billNo,+id") == [("billDate", True), ("billNo", False), ("id", False)]
    assert tmf.parse_sort(None) == []
    with pytest.raises(ValidationFailed):
        tmf.parse_sort("amountDue")


def test_line_vat_is_rounded_half_up_per_line():
    assert tmf.line_tax(Decimal("5.00"), Decimal("5.5"), "EUR") == Decimal("0.28")  # 0.275
    assert tmf.line_tax(Decimal("-2.00"), Decimal("20"), "EUR") == Decimal("-0.40")
    assert tmf.line_tax(Decimal("100"), Decimal("20"), "JPY") == Decimal("20")
