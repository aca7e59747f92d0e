"""Importing files into the database: once per file, control totals, audit, suspense and recycling."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from telbill.core.errors import IllegalTransition
from telbill.mediation import repository as repo
from telbill.mediation import suspense
from telbill.mediation.model import PartialRecord, SuspenseRecord, UsageRecord
from telbill.mediation.service import expire_partials, finish_run, import_file, start_run
from telbill.mediation.sources import BUILTIN_SOURCES, SourceConfig
from telbill.synth.cdrs import demo_subscribers, generate_cdrs, write_cdrs

from .conftest import T0, directory, write

CSV = BUILTIN_SOURCES["telbill-csv"]


def rows(session, table):
    return session.scalars(select(table)).all()


def test_a_file_is_imported_once_and_every_line_is_accounted_for(session, clock, intervals, tmp_path):
    path = write(
        tmp_path / "day.csv",
        "r1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,",
        "r2,voice,0699999999,,0142685300,2026-01-10 10:00:00,60,,,,,,",
        "r1,voice,0612345678,,0142685300,2026-01-10 10:05:00,60,,,,,,",
        "broken",
        "r4,data,0612345678,,,2026-01-10 10:00:00,600,100,200,c1,1,timeLimit,true",
        "r5,data,0612345678,,,2026-01-10 10:10:00,600,100,200,c1,2,normalRelease,true",
    )
    run = start_run(session, clock)
    first = import_file(session, clock, path, CSV, intervals, run=run)
    t = first.totals
    assert (t.records_in, t.accepted, t.suspended, t.duplicates, t.dropped) == (6, 3, 2, 1, 0)
    assert (t.partials, t.events_correlated) == (2, 1)
    again = import_file(session, clock, path, CSV, intervals, run=run)
    assert (again.status, again.message, again.file_id) == ("skipped", "already imported", first.file_id)
    finish_run(session, clock, run)
    assert (run.files, run.records_in, run.accepted) == (1, 6, 3)
    assert [u.record_id for u in rows(session, UsageRecord)] == ["r1", "r4"]
    where = repo.lines_of_file(session, first.file_id)
    assert where == {"usage": [2, 6], "partial": [6, 7], "suspense": [3, 4, 5]}
    audit = repo.usage_by_record(session, "telbill-csv", "r1")
    assert (audit.file_id, audit.line_no, audit.subscription_id, audit.account_id) == (
        first.file_id,
        2,
        1,
        100,
    )
    event = repo.usage_by_record(session, "telbill-csv", "r4")
    assert (event.duration_s, event.volume_down, event.partial) == (1200, 400, True)


def test_the_same_records_in_a_new_file_are_duplicates(session, clock, intervals, tmp_path):
    line = "r1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,"
    import_file(session, clock, write(tmp_path / "a.csv", line), CSV, intervals)
    renamed = write(tmp_path / "b.csv", line.replace("r1,", "r9,"), line.replace(",60,", ",61,"))
    t = import_file(session, clock, renamed, CSV, intervals).totals
    assert (t.records_in, t.duplicates, t.accepted) == (2, 2, 0)
    msgs = sorted(s.message for s in rows(session, SuspenseRecord))
    assert msgs == ["record id already imported", "same content already imported"]


def test_a_rejected_file_is_recorded_and_may_be_imported_again_once_fixed(
    session, clock, intervals, tmp_path
):
    path = tmp_path / "x.jsonl"
    path.write_bytes('{"record_id": "é"}\n'.encode("latin-1"))
    jsonl = BUILTIN_SOURCES["telbill-jsonl"]
    result = import_file(session, clock, path, jsonl, intervals)
    assert (result.status, result.reason) == ("rejected", "BAD_ENCODING")
    assert rows(session, SuspenseRecord) == []
    latin = SourceConfig(name="telbill-jsonl", format="jsonl", encoding="latin-1")
    again = import_file(session, clock, path, latin, intervals)
    assert again.status == "imported" and again.file_id == result.file_id
    assert again.totals.records_in == 1 and again.totals.suspended == 1  # no subscriber, no type...


def test_recycling_after_the_subscriber_was_created_late(session, clock, intervals, tmp_path):
    path = write(tmp_path / "a.csv", "r1,voice,0699999999,,0142685300,2026-01-10 10:00:00,60,,,,,,")
    import_file(session, clock, path, CSV, intervals)
    [parked] = suspense.list_records(session, reason="UNKNOWN_SUBSCRIBER")
    result = suspense.recycle(session, clock, intervals, ids=[parked.id])
    assert (result.recycled, result.still_open) == (0, 1)
    later = pl.concat([intervals, directory(("msisdn", "33699999999", T0, None, 7, 700))])
    result = suspense.recycle(session, clock, later, reason="UNKNOWN_SUBSCRIBER")
    assert (result.recycled, result.still_open, parked.status, parked.attempts) == (1, 0, "recycled", 2)
    usage = repo.usage_by_record(session, "telbill-csv", "r1")
    assert (usage.subscription_id, usage.line_no, usage.start_time) == (
        7,
        2,
        datetime(2026, 1, 10, 9, tzinfo=UTC),
    )
    with pytest.raises(IllegalTransition):
        suspense.recycle(session, clock, later, ids=[parked.id])


def test_correct_then_recycle_and_drop(session, clock, intervals, tmp_path):
    path = write(
        tmp_path / "a.csv",
        "r1,voice,0612345678,,12ab,2026-01-10 10:00:00,60,,,,,,",
        "r2,voice,0612345678,,0142685300,2026-01-10 10:00:00,-3,,,,,,",
    )
    import_file(session, clock, path, CSV, intervals)
    bad_number, negative = suspense.list_records(session)
    assert (bad_number.reason, negative.reason) == ("BAD_NUMBER", "NEGATIVE_DURATION")
    suspense.correct(session, clock, bad_number.id, {"other_party": "01 42 68 53 01"})
    assert suspense.recycle(session, clock, intervals, ids=[bad_number.id]).recycled == 1
    assert repo.usage_by_record(session, "telbill-csv", "r1").other_party == "33142685301"
    assert suspense.drop(session, clock, [negative.id]) == 1
    assert negative.status == "dropped"


def test_an_incomplete_session_expires_to_suspense_and_a_late_partial_is_flagged(
    session, clock, intervals, tmp_path
):
    source = SourceConfig(name="pgw", partial_timeout_s=3600)
    first = write(
        tmp_path / "a.csv",
        "p1,data,0612345678,,,2026-01-10 10:00:00,600,1,2,c9,1,timeLimit,true",
        "p3,data,0612345678,,,2026-01-10 10:20:00,600,1,2,c9,3,normalRelease,true",
    )
    assert import_file(session, clock, first, source, intervals).totals.accepted == 2
    assert [p.status for p in rows(session, PartialRecord)] == ["held", "held"]
    clock.advance_to(datetime(2026, 2, 1, 2, tzinfo=UTC))
    assert expire_partials(session, clock, {"pgw": source}) == 2
    assert {(s.line_no, s.reason) for s in rows(session, SuspenseRecord)} == {
        (2, "MISSING_PARTIAL"),
        (3, "MISSING_PARTIAL"),
    }
    late = write(tmp_path / "b.csv", "p2,data,0612345678,,,2026-01-10 10:10:00,600,1,2,c9,2,timeLimit,true")
    t = import_file(session, clock, late, source, intervals).totals
    assert (t.records_in, t.suspended) == (1, 1)
    assert suspense.list_records(session, reason="LATE_PARTIAL")[0].record_id == "p2"
    result = suspense.recycle(session, clock, intervals, reason="MISSING_PARTIAL")
    assert result.recycled == 2  # accepted as standalone events
    assert repo.usage_by_record(session, "pgw", "p3").partial is False


def test_a_session_closed_in_an_earlier_file_is_known_by_its_event(session, clock, intervals, tmp_path):
    """Merged partials have no session index entry: the event in usage_records closes the session."""
    a = write(
        tmp_path / "a.csv",
        "p1,data,0612345678,,,2026-01-10 10:00:00,600,1,2,c5,1,timeLimit,true",
        "p2,data,0612345678,,,2026-01-10 10:10:00,600,1,2,c5,2,normalRelease,true",
    )
    assert import_file(session, clock, a, CSV, intervals).totals.events_correlated == 1
    assert {(p.record_id, p.status) for p in rows(session, PartialRecord)} == {
        ("p1", "merged"),
        ("p2", "merged"),
    }
    b = write(
        tmp_path / "b.csv",
        "p2,data,0612345678,,,2026-01-10 10:10:00,600,1,2,c5,2,normalRelease,true",  # sent again
        "p3,data,0612345678,,,2026-01-10 10:20:00,600,1,2,c5,3,normalRelease,true",  # after the end
    )
    t = import_file(session, clock, b, CSV, intervals).totals
    assert (t.records_in, t.accepted, t.duplicates, t.suspended) == (2, 0, 1, 1)
    found = {(s.record_id, s.reason) for s in rows(session, SuspenseRecord)}
    assert found == {("p2", "DUPLICATE"), ("p3", "LATE_PARTIAL")}
    [event] = rows(session, UsageRecord)
    assert (event.record_id, event.duration_s, event.record_sequence) == ("p1", 1200, 2)


@pytest.mark.parametrize("when", ["2026-01-10 10:30:00", "2026-01-25 08:00:00"])
def test_an_expired_partials_id_reused_by_another_session_is_a_duplicate(
    session, clock, intervals, tmp_path, when
):
    """The expired row keeps its key: a new session's partial with that id is refused as a duplicate
    (whether the import looks it up in the database or learns it from the unique key), never a crash;
    in its own session it is a late partial."""
    source = SourceConfig(name="pgw", partial_timeout_s=3600)
    first = write(tmp_path / "a.csv", "p1,data,0612345678,,,2026-01-10 10:00:00,600,1,2,c9,1,timeLimit,true")
    import_file(session, clock, first, source, intervals)
    clock.advance_to(datetime(2026, 2, 1, 2, tzinfo=UTC))
    assert expire_partials(session, clock, {"pgw": source}) == 1
    again = write(
        tmp_path / "b.csv",
        f"p1,data,0612345678,,,{when},60,5,6,c7,1,normalRelease,true",
        "p8,data,0612345678,,,2026-01-10 10:00:00,600,1,2,c8,1,normalRelease,true",
    )
    result = import_file(session, clock, again, source, intervals)
    t = result.totals
    assert (t.records_in, t.accepted, t.duplicates, t.suspended) == (2, 1, 1, 0)
    [dup] = [s for s in rows(session, SuspenseRecord) if s.file_id == result.file_id]
    assert (dup.line_no, dup.record_id, dup.reason, dup.message) == (
        2,
        "p1",
        "DUPLICATE",
        "record id already imported",
    )
    assert [u.record_id for u in rows(session, UsageRecord)] == ["p8"]
    own = write(
        tmp_path / "c.csv",
        "p1,data,0612345678,,,2026-01-10 10:00:00,600,1,2,c9,1,timeLimit,true",
        "r1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,",
    )
    result = import_file(session, clock, own, source, intervals)
    assert (result.totals.accepted, result.totals.suspended) == (1, 1)
    [late] = [s for s in rows(session, SuspenseRecord) if s.file_id == result.file_id]
    assert (late.record_id, late.reason) == ("p1", "LATE_PARTIAL")


def _faulty_files(tmp_path: Path, seed: int, share: str, fmt: str):
    subs = demo_subscribers(5, seed=3)
    known = subs[:4]  # the fifth makes UNKNOWN_SUBSCRIBER too
    rows_ = [("msisdn", s.msisdn, T0, None, i + 1, i + 1) for i, s in enumerate(known)]
    frame = generate_cdrs(subs, days=1, seed=seed, start=datetime(2026, 1, 10, tzinfo=UTC), fault_share=share,
                          events_per_day=3, fmt=fmt)  # fmt: skip
    path = write_cdrs(frame, tmp_path / f"s{seed}-{fmt}", fmt, stem=f"traffic-{seed}")
    return path, frame, directory(*rows_)


@settings(max_examples=6)
@given(
    seed=st.integers(0, 10_000),
    share=st.sampled_from(["0", "0.1", "0.3"]),
    fmt=st.sampled_from(["csv", "jsonl"]),
)
def test_nothing_is_lost(session, clock, tmp_path, seed, share, fmt):
    path, frame, intervals = _faulty_files(tmp_path, seed, share, fmt)
    source = BUILTIN_SOURCES[f"telbill-{fmt}"]
    nested = session.begin_nested()
    result = import_file(session, clock, path, source, intervals)
    t = result.totals
    assert t.records_in == frame.height == t.accepted + t.suspended + t.duplicates + t.dropped
    where = repo.lines_of_file(session, result.file_id)
    accepted_lines = set(where["usage"]) | set(where["partial"])
    suspended_lines = set(where["suspense"])
    first_line = 2 if fmt == "csv" else 1
    assert accepted_lines | suspended_lines == set(range(first_line, first_line + frame.height))
    assert not (set(where["partial"]) & suspended_lines)
    assert len(where["suspense"]) == len(suspended_lines)  # each line suspended once
    faulty = frame.with_row_index("i").filter(
        pl.col("fault").is_not_null() & (pl.col("fault") != "MISSING_PARTIAL")
    )
    for i in faulty["i"].to_list():
        assert i + first_line in suspended_lines
    nested.rollback()


def test_ber_traffic_imports_with_its_faults(session, clock, tmp_path):
    path, frame, intervals = _faulty_files(tmp_path, 5, "0.2", "ber")
    result = import_file(session, clock, path, BUILTIN_SOURCES["telbill-ber"], intervals)
    t = result.totals
    assert t.records_in == frame.height == t.accepted + t.suspended + t.duplicates + t.dropped
    assert t.accepted > 0 and t.suspended > 0
    reasons = {s.reason for s in rows(session, SuspenseRecord)}
    assert {"UNKNOWN_SUBSCRIBER", "NEGATIVE_DURATION"} <= reasons
