from datetime import UTC, datetime

import polars as pl

from telbill.mediation.normalise import NumberBook
from telbill.mediation.pipeline import process_batch
from telbill.mediation.readers import reader_for
from telbill.mediation.schema import INTERVAL_SCHEMA
from telbill.mediation.sources import BUILTIN_SOURCES
from telbill.synth.cdrs import FAULTS, demo_subscribers, generate_cdrs, write_cdrs

SUBS = demo_subscribers(20, seed=4)
START = datetime(2026, 1, 10, tzinfo=UTC)


def test_same_seed_same_traffic_other_seed_other_traffic():
    a = generate_cdrs(SUBS, days=1, seed=7, start=START)
    assert a.equals(generate_cdrs(SUBS, days=1, seed=7, start=START))
    assert not a.equals(generate_cdrs(SUBS, days=1, seed=8, start=START))


def test_traffic_looks_like_a_network():
    frame = generate_cdrs(SUBS, days=2, seed=1, start=START, fault_share="0")
    kinds = dict(frame["usage_type"].value_counts().iter_rows())
    assert set(kinds) == {"voice", "sms", "data"}
    voice = frame.filter(pl.col("usage_type") == "voice")["duration_s"].cast(pl.Int64)
    assert 40 < voice.median() < 200 and voice.max() > 600  # log-normal: a long tail
    sessions = frame.filter(pl.col("partial") == "true").group_by("charging_id").len()
    assert sessions.height > 0 and sessions["len"].min() >= 2
    hours = frame["start_time"].str.slice(11, 2).cast(pl.Int64).value_counts()
    by_hour = dict(hours.iter_rows())
    assert by_hour.get(18, 0) > 3 * by_hour.get(4, 0)  # busy hour vs night (Paris time)
    assert frame.filter(pl.col("visited_mcc") != "208").height > 0  # some roaming


def test_each_fault_gives_the_reason_it_is_tagged_with(tmp_path):
    frame = generate_cdrs(SUBS, days=1, seed=3, start=START, fault_share="0.2")
    tagged = frame.filter(pl.col("fault").is_not_null())
    assert set(tagged["fault"]) == set(FAULTS)
    path = write_cdrs(frame, tmp_path, "csv")
    known = [("msisdn", s.msisdn, START.replace(day=1), None, i, i) for i, s in enumerate(SUBS)]
    intervals = pl.DataFrame(known, schema=INTERVAL_SCHEMA, orient="row")
    source = BUILTIN_SOURCES["telbill-csv"]
    [batch] = list(reader_for(source).batches(path, 1))
    outcome = process_batch(batch.staging, source, intervals, datetime(2026, 2, 1, tzinfo=UTC), NumberBook())
    got = dict(outcome.rejects.select("line_no", "reason").iter_rows())
    rows = frame.with_row_index("i").filter(pl.col("fault").is_not_null())
    for i, fault in rows.select("i", "fault").iter_rows():
        if fault != "MISSING_PARTIAL":  # those wait for their session's timeout
            assert got[i + 2] == fault, (i, fault)
