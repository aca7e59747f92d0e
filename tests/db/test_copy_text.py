"""COPY text formatting: what goes in by `copy_text` comes back equal, whatever the text holds."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from telbill.db.copy_text import copy_text, format_rows, format_value

PG_URL = os.environ.get("TELBILL_TEST_DATABASE_URL")


def test_text_format_escapes_and_nulls():
    assert format_rows([["a\\b\tc", None, 7, Decimal("1.50"), True]]) == "a\\\\b\\tc\t\\N\t7\t1.50\tt\n"
    assert format_value("line\nbreak\rcarriage") == "line\\nbreak\\rcarriage"
    assert format_value({"k": "v\tw"}) == '{"k": "v\\\\tw"}'  # JSON escapes the tab, COPY the backslash
    assert format_value(datetime(2027, 2, 1, tzinfo=UTC)) == "2027-02-01T00:00:00+00:00"
    assert format_value(date(2027, 2, 1)) == "2027-02-01"


def test_unknown_types_are_refused():
    with pytest.raises(TypeError, match="cannot write a float"):
        format_value(1.5)


texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False)
instants = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


cells = st.one_of(
    st.none(), texts, amounts, st.dates(), instants, st.integers(), st.booleans(),
    st.dictionaries(texts, texts, max_size=2),
)  # fmt: skip


@given(st.integers(1, 5).flatmap(lambda width: st.lists(st.lists(cells, min_size=width, max_size=width))))
def test_column_by_column_is_value_by_value(rows):
    """Columns of one type, of one type and NULLs, of mixed types: the same text as each value
    formatted alone."""
    expected = "".join("\t".join(format_value(v) for v in row) + "\n" for row in rows)
    assert format_rows(rows) == expected


def test_column_kinds():
    rows = [("plain", "tab\there", None, Decimal("1"), date(2027, 1, 1)), ("x", "y", None, None, None)]
    assert format_rows(rows) == "plain\ttab\\there\t\\N\t1\t2027-01-01\nx\ty\t\\N\t\\N\t\\N\n"


@pytest.mark.skipif(PG_URL is None, reason="COPY is PostgreSQL's")
@settings(max_examples=60)
@given(st.lists(st.tuples(st.none() | texts, amounts, instants, st.dates(), st.none() | texts), max_size=8))
def test_what_is_copied_comes_back_equal(session, rows):
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS copy_probe"
            " (n int, s text, a numeric, t timestamptz, d date, j jsonb)"
        )
    )
    session.execute(text("TRUNCATE copy_probe"))
    values = [
        (i, s, a, t, d, {"note": j} if j is not None else None) for i, (s, a, t, d, j) in enumerate(rows)
    ]
    copy_text(session, "copy_probe", ("n", "s", "a", "t", "d", "j"), values)
    back = session.execute(text("SELECT n, s, a, t, d, j FROM copy_probe ORDER BY n")).all()
    assert [tuple(r) for r in back] == [
        (n, s, a, t, d, json.loads(json.dumps(j)) if j is not None else None) for n, s, a, t, d, j in values
    ]
