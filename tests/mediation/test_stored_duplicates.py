"""Duplicates of stored records: in memory within a file, by time overlap across files, and the
unique index as the last word when a repeated record id lies outside every overlap."""

from sqlalchemy import select

from telbill.mediation.model import MediationFile, SuspenseRecord, UsageRecord
from telbill.mediation.service import import_file
from telbill.mediation.sources import BUILTIN_SOURCES

from .conftest import write

CSV = BUILTIN_SOURCES["telbill-csv"]


def _line(rid: str, when: str, secs: int = 60) -> str:
    return f"{rid},voice,0612345678,,0142685300,{when},{secs},,,,,,"


def test_across_batches_of_one_file_content_and_ids_are_found(session, clock, intervals, tmp_path):
    path = write(
        tmp_path / "a.csv",
        _line("r1", "2026-01-10 10:00:00"),
        _line("r2", "2026-01-10 11:00:00"),
        _line("r3", "2026-01-10 10:00:00"),  # same content as r1, next batch
        _line("r1", "2026-01-20 09:00:00"),  # same id as r1, another time: the unique index catches it
    )
    result = import_file(session, clock, path, CSV, intervals, batch_size=2)
    t = result.totals
    assert (t.records_in, t.accepted, t.duplicates) == (4, 2, 2)
    reasons = session.execute(select(SuspenseRecord.line_no, SuspenseRecord.message)).all()
    assert sorted(reasons) == [(4, "same content already imported"), (5, "record id already imported")]


def test_a_later_file_overlapping_in_time_is_checked_and_ranges_are_kept(session, clock, intervals, tmp_path):
    first = write(tmp_path / "a.csv", _line("r1", "2026-01-10 10:00:00"), _line("r2", "2026-01-10 12:00:00"))
    second = write(
        tmp_path / "b.csv",
        _line("x1", "2026-01-10 10:00:00"),  # same content as r1
        _line("r2", "2026-01-25 12:00:00"),  # same id as r2, outside every range
        _line("x3", "2026-01-11 08:00:00"),
    )
    import_file(session, clock, first, CSV, intervals)
    stored = session.scalars(select(MediationFile)).one()
    assert (stored.first_start.hour, stored.last_start.hour) == (9, 11)  # Paris wall clock -> UTC
    result = import_file(session, clock, second, CSV, intervals)
    assert (result.totals.accepted, result.totals.duplicates) == (1, 2)
    assert sorted(session.scalars(select(UsageRecord.record_id))) == ["r1", "r2", "x3"]
