"""The vectorised home-plan rule gives exactly what phonenumbers gives, for every value it settles."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.mediation.normalise import NumberBook, _home_numbers, home_plan, to_e164

digits = st.text(alphabet="0123456789", min_size=1, max_size=13)
written = st.sampled_from(["0", "33", "+33", "49", "+49", "32", "+32", "00", "", "+"])


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(["FR", "DE", "BE"]), values=st.lists(st.tuples(written, digits), max_size=40))
def test_home_rule_agrees_with_phonenumbers(region: str, values: list[tuple[str, str]]) -> None:
    raws = pl.Series([p + d for p, d in values], dtype=pl.String).unique()
    fast = _home_numbers(raws, region)
    assert (fast is None) == raws.is_empty()
    if fast is None:
        return
    for raw, e164 in fast.iter_rows():
        assert e164 == to_e164(raw, region), raw


def test_book_answers_the_same_with_and_without_the_rule() -> None:
    values = ["0612345678", "33612345678", "+33612345678", "0033612345678", "33123", "0000", "+441632960961"]
    table = NumberBook(region="FR").lookup(pl.Series([*values, None, "0612345678"]))
    assert dict(table.iter_rows()) == {v: to_e164(v, "FR") for v in values}
    assert home_plan("FR") is not None and home_plan("US") is None
