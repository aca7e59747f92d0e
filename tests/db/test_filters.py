"""`in_values` selects exactly the rows whose column is in the values, on both databases, for
integer ids (sent as one array literal on PostgreSQL) and for text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, select, text

from telbill.billing.model import BillRun
from telbill.db.engine import json_loads
from telbill.db.filters import TextArray, in_values, int_array, text_array

T0 = datetime(2027, 1, 1, tzinfo=UTC)


def test_int_array_is_postgresql_text_form():
    assert int_array([]) == "{}"
    assert int_array([1, None, -3, 2**62]) == "{1,NULL,-3,4611686018427387904}"
    with pytest.raises((TypeError, ValueError)):
        int_array(["1; DROP TABLE x"])  # type: ignore[list-item]


def test_in_values_selects_the_rows_named(session):
    runs = [BillRun(target_at=T0, started_at=T0, trigger=t) for t in ("cli", "api", "scheduler", "cli")]
    session.add_all(runs)
    session.flush()
    ids = [r.id for r in runs]
    picked = [ids[0], ids[2], 10**15]  # one id that no row has
    got = session.scalars(select(BillRun.id).where(in_values(session, BillRun.id, picked)))
    assert sorted(got) == [ids[0], ids[2]]
    assert list(session.scalars(select(BillRun.id).where(in_values(session, BillRun.id, [])))) == []
    by_trigger = select(BillRun.id).where(
        in_values(session, BillRun.trigger, ["cli"], String), BillRun.id.in_(ids)
    )
    assert sorted(session.scalars(by_trigger)) == [ids[0], ids[3]]


TRICKY = ["", "NULL", "null", 'a"b', "a\\b", "\\", '"', "{x,y}", "a, b", " padded ", "é ✓", "tab\tnew\nline"]


def test_text_array_form():
    assert text_array([]) == "{}"
    assert text_array(["a", None, 'q"', "b\\s"]) == '{"a",NULL,"q\\"","b\\\\s"}'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(TRICKY),
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        ),
        max_size=8,
    )
)
def test_text_arrays_reach_the_database_intact(session, values):
    """Every string, whatever it holds, arrives as itself (a string PostgreSQL can hold: no NUL, no
    lone surrogate — the driver refuses those for any parameter)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("array parameters are PostgreSQL's")
    got = session.execute(text("SELECT unnest(CAST(:v AS text[]))"), {"v": TextArray(text_array(values))})
    assert [r[0] for r in got] == values


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(json_values)
def test_json_loads_reads_what_json_loads_reads(value):
    """The driver's JSON loader (`db.engine.json_loads`) against the standard one."""
    data = json.dumps(value, ensure_ascii=False).encode()
    assert json_loads(data) == json.loads(data)
    assert json_loads(b"{}") == {} and json_loads(b"{}") is not json_loads(b"{}")  # a new dict each time
