"""Exact JSON: Decimals keep their digits through JSON text and through a JSON column."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.core.exact_json import DECIMAL_TAG, dumps_exact, from_storable, to_storable

decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=6)
keys = st.text().filter(lambda k: k != DECIMAL_TAG)
plain = decimals | st.text() | st.integers() | st.booleans() | st.none()


@given(st.recursive(plain, lambda inner: st.lists(inner) | st.dictionaries(keys, inner)))
def test_storable_form_round_trips_through_plain_json(value):
    stored = json.loads(json.dumps(to_storable(value)))
    assert from_storable(stored) == value
    assert dumps_exact(from_storable(stored)) == dumps_exact(value)


def test_floats_and_non_finite_numbers_are_refused():
    with pytest.raises(TypeError):
        dumps_exact({"value": 0.1})
    with pytest.raises(ValueError):
        dumps_exact(Decimal("NaN"))
