"""An import settles batch N+1 while batch N is written (PostgreSQL), keeps the sessions of its
source in memory when no other file has any, and writes each partial it holds once, in its final
state. Whatever the path, the database ends up as the look-ups in the database would leave it."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from telbill.mediation import repository as repo
from telbill.mediation import service
from telbill.mediation.model import PartialRecord, SuspenseRecord, UsageRecord
from telbill.mediation.service import import_file
from telbill.mediation.sources import BUILTIN_SOURCES
from telbill.synth.cdrs import demo_subscribers, generate_cdrs, write_cdrs

from .conftest import T0, directory, write

CSV = BUILTIN_SOURCES["telbill-csv"]


def _outcome(session) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """What a file became, without surrogate ids: usage, partials with status, suspense."""
    u = UsageRecord
    usage = session.execute(
        select(u.record_id, u.line_no, u.start_time, u.duration_s, u.volume_up, u.volume_down).add_columns(
            u.record_sequence, u.cause_for_closing, u.partial, u.subscription_id
        )
    ).all()
    partials = session.execute(select(PartialRecord.record_id, PartialRecord.status)).all()
    s = SuspenseRecord
    suspense = session.execute(select(s.line_no, s.record_id, s.reason, s.message, s.status)).all()
    return sorted(map(tuple, usage)), sorted(map(tuple, partials)), sorted(map(tuple, suspense))


def _traffic(tmp_path, seed: int):
    subs = demo_subscribers(6, seed=3)
    frame = generate_cdrs(
        subs, days=2, seed=seed, start=datetime(2026, 1, 10, tzinfo=UTC), fault_share="0.2", events_per_day=6
    )
    path = write_cdrs(frame, tmp_path / f"t{seed}", "csv", stem="traffic")
    known = [("msisdn", s.msisdn, T0, None, i + 1, i + 1) for i, s in enumerate(subs[:5])]
    return path, frame, directory(*known)


@pytest.mark.parametrize("batch_size", [1, 5, 17, 100_000])
@pytest.mark.parametrize("seed", [1, 2])
def test_sessions_in_memory_settle_as_the_database_would(
    session, clock, tmp_path, monkeypatch, seed, batch_size
):
    path, frame, intervals = _traffic(tmp_path, seed)
    assert frame["partial"].cast(str).str.to_lowercase().eq("true").sum() > 5  # sessions span batches
    nested = session.begin_nested()
    in_memory = import_file(session, clock, path, CSV, intervals, batch_size=batch_size)
    remembered = _outcome(session)
    nested.rollback()
    monkeypatch.setattr(repo, "sessions_stored", lambda session, source: True)  # as if another file had some
    looked_up = import_file(session, clock, path, CSV, intervals, batch_size=batch_size)
    assert looked_up.totals == in_memory.totals
    assert _outcome(session) == remembered
    statuses = {status for _, status in remembered[1]}
    assert statuses <= {"held", "merged", "expired"} and "merged" in statuses


def test_a_refused_record_id_with_sessions_waiting_gives_one_clean_run(
    session, clock, intervals, tmp_path, monkeypatch
):
    """Queued writes: the unique index refuses r0 (stored by another file, outside its range) after a
    session's first partial was settled; the file is imported again batch by batch, and ends as if
    the refusal had been foreseen."""
    other = write(tmp_path / "a.csv", "r0,voice,0612345678,,0142685300,2026-01-20 10:00:00,60,,,,,,")
    import_file(session, clock, other, CSV, intervals)
    path = write(
        tmp_path / "b.csv",
        "p1,data,0612345678,,,2026-01-10 10:00:00,600,10,90,c1,1,timeLimit,true",
        "x1,voice,0612345678,,0142685300,2026-01-10 11:00:00,30,,,,,,",
        "r0,voice,0612345678,,0142685300,2026-01-10 12:00:00,45,,,,,,",  # same id, another time
        "p2,data,0612345678,,,2026-01-10 10:10:00,300,5,50,c1,2,normalRelease,true",
        "p3,data,0612345678,,,2026-01-10 13:00:00,600,1,9,c2,1,timeLimit,true",
    )
    runs: list[bool] = []
    whole_file = service._import_batches

    def spy(*args, **kwargs):
        runs.append(args[-1])  # queued or not
        return whole_file(*args, **kwargs)

    monkeypatch.setattr(service, "_import_batches", spy)
    result = import_file(session, clock, path, CSV, intervals, batch_size=2)
    postgres = repo.driver_connection(session) is not None
    assert runs == ([True, False] if postgres else [False])  # queued, refused, then batch by batch
    t = result.totals
    assert (t.records_in, t.accepted, t.duplicates, t.partials, t.events_correlated) == (5, 4, 1, 3, 1)
    usage = session.execute(
        select(UsageRecord.record_id, UsageRecord.duration_s, UsageRecord.volume_down, UsageRecord.partial)
        .where(UsageRecord.file_id == result.file_id)
        .order_by(UsageRecord.record_id)
    ).all()
    assert [tuple(r) for r in usage] == [("p1", 900, 140, True), ("x1", 30, None, False)]
    partials = session.execute(select(PartialRecord.record_id, PartialRecord.status)).all()
    assert sorted(map(tuple, partials)) == [("p1", "merged"), ("p2", "merged"), ("p3", "held")]
    [dup] = session.scalars(select(SuspenseRecord).where(SuspenseRecord.file_id == result.file_id)).all()
    assert (dup.line_no, dup.record_id, dup.reason) == (4, "r0", "DUPLICATE")
