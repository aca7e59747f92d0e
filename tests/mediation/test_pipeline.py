"""The pure pipeline, one rule at a time, on records written as text."""

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from telbill.mediation.correlate import correlate
from telbill.mediation.dedupe import content_hash, dedupe_against, dedupe_batch
from telbill.mediation.guide import guide
from telbill.mediation.normalise import NumberBook, normalise, to_e164
from telbill.mediation.pipeline import process_batch
from telbill.mediation.readers import to_staging
from telbill.mediation.schema import STAGING_FIELDS, UTC_US
from telbill.mediation.sources import SourceConfig
from telbill.mediation.validate import validate

from .conftest import PLAN_CHANGE

SOURCE = SourceConfig(name="msc", timezone="Europe/Paris", dedupe_window_s=5, partial_timeout_s=3600)
NOW = datetime(2026, 2, 1, tzinfo=UTC)


def staging(*rows: dict) -> pl.DataFrame:
    base = {"usage_type": "voice", "served_msisdn": "0612345678", "other_party": "0142685300",
            "start_time": "2026-01-10 10:00:00", "duration_s": "60"}  # fmt: skip
    full = [{"line_no": i + 1} | {f: None for f in STAGING_FIELDS} | base | {"record_id": f"r{i + 1}"} | r
            for i, r in enumerate(rows)]  # fmt: skip
    schema = {"line_no": pl.Int64} | {f: pl.String for f in STAGING_FIELDS}
    return to_staging(pl.DataFrame(full, schema=schema, orient="row"), "msc", 1)


def run(intervals, *rows: dict, source: SourceConfig = SOURCE):
    return process_batch(staging(*rows), source, intervals, NOW, NumberBook())


def reasons(outcome) -> dict[str, str]:
    return dict(outcome.rejects.select("record_id", "reason").iter_rows())


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0612345678", "33612345678"),
        ("+33 6 12 34 56 78", "33612345678"),
        ("0033612345678", "33612345678"),
        ("33612345678", "33612345678"),
        ("+447911123456", "447911123456"),
        ("3179", "3179"),
        ("12ab", None),
        ("0012", None),
    ],
)
def test_numbers_are_normalised_to_e164_by_the_country_rules(raw, e164):
    assert to_e164(raw.replace(" ", ""), "FR") == e164


def test_normalise_converts_local_switch_time_to_utc_and_numbers_once_per_distinct_value():
    book = NumberBook()
    rows = [{"other_party": "01 42 68 53 00"}] * 3 + [{"start_time": "2026-07-01 10:00:00"}]
    good, rejects = normalise(staging(*rows), SOURCE, book)
    assert rejects.is_empty()
    assert good["other_party"].to_list() == ["33142685300"] * 4
    assert good["served_msisdn"].unique().to_list() == ["33612345678"]
    assert good["start_time"].to_list()[0] == datetime(2026, 1, 10, 9, tzinfo=UTC)  # CET
    assert good["start_time"].to_list()[3] == datetime(2026, 7, 1, 8, tzinfo=UTC)  # CEST
    assert book.known == {}  # numbers of the home plan are settled by its rules, never parsed
    table = book.lookup(pl.Series(["+442071838750", "+442071838750", "0612345678"]))
    assert set(book.known) == {"+442071838750"}  # the others: parsed once per distinct value
    assert dict(table.iter_rows()) == {"+442071838750": "442071838750", "0612345678": "33612345678"}


def test_each_rejection_reason(intervals):
    out = run(
        intervals,
        {"record_id": "missing", "served_msisdn": None},
        {"record_id": "bad-number", "other_party": "12ab"},
        {"record_id": "bad-time", "start_time": "yesterday"},
        {"record_id": "bad-int", "duration_s": "sixty"},
        {"record_id": "bad-type", "usage_type": "fax"},
        {"record_id": "future", "start_time": "2026-02-01 01:10:00"},
        {"record_id": "negative", "duration_s": "-1"},
        {"record_id": "too-long", "duration_s": "90000"},
        {"record_id": "unknown", "served_msisdn": "0699999999"},
        {"record_id": "ok"},
        {"record_id": "ok"},
        {"record_id": "dst-gap", "start_time": "2026-03-29 02:30:00"},
    )
    assert reasons(out) == {
        "missing": "MISSING_FIELD",
        "bad-number": "BAD_NUMBER",
        "bad-time": "BAD_TIMESTAMP",
        "bad-int": "BAD_VALUE",
        "bad-type": "BAD_USAGE_TYPE",
        "future": "FUTURE_EVENT",
        "negative": "NEGATIVE_DURATION",
        "too-long": "OUT_OF_RANGE",
        "unknown": "UNKNOWN_SUBSCRIBER",
        "ok": "DUPLICATE",
        "dst-gap": "BAD_TIMESTAMP",
    }
    assert out.good["record_id"].to_list() == ["ok"]
    raw = out.rejects.filter(pl.col("record_id") == "bad-time")["raw"].item()
    assert '"start_time":"yesterday"' in raw


def test_future_events_within_the_allowed_clock_skew_pass(intervals):
    near = (NOW + timedelta(seconds=200)).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    out = run(intervals, {"start_time": near})
    assert out.rejects.is_empty()


def test_guiding_at_a_plan_change_instant(intervals):
    just_before = (PLAN_CHANGE - timedelta(microseconds=1)).isoformat()
    out = run(
        intervals,
        {"record_id": "before", "start_time": just_before},
        {"record_id": "at", "start_time": PLAN_CHANGE.isoformat(), "duration_s": "61"},
        {"record_id": "by-imsi", "served_msisdn": None, "served_imsi": "208011234567890"},
        {"record_id": "too-early", "start_time": "2025-12-31T23:59:59Z"},
    )
    got = dict(out.good.select("record_id", "subscription_id").iter_rows())
    assert got == {"before": 1, "at": 2, "by-imsi": 3}
    assert reasons(out) == {"too-early": "UNKNOWN_SUBSCRIBER"}


def test_guide_alone_keeps_the_row_order_and_fills_account(intervals):
    good, _ = normalise(staging({"record_id": "a"}, {"record_id": "b"}), SOURCE, NumberBook())
    guided, rejects = guide(good, intervals)
    assert guided.select("record_id", "account_id").rows() == [("a", 100), ("b", 100)]
    assert rejects.is_empty()


def test_dedupe_by_content_within_the_window_only():
    good, _ = normalise(
        staging(
            {"record_id": "a", "start_time": "2026-01-10 10:00:00"},
            {"record_id": "b", "start_time": "2026-01-10 10:00:04"},  # 4 s later: same call, resent
            {"record_id": "c", "start_time": "2026-01-10 10:00:30"},  # another call
        ),
        SOURCE,
        NumberBook(),
    )
    kept, dups = dedupe_batch(good, window_s=5)
    assert kept["record_id"].to_list() == ["a", "c"]
    assert dups.select("record_id", "reason").rows() == [("b", "DUPLICATE")]


def test_dedupe_against_what_is_stored():
    good, _ = normalise(
        staging({"record_id": "a"}, {"record_id": "b", "other_party": "0600000000"}), SOURCE, NumberBook()
    )
    good = good.with_columns(content_hash=content_hash(good, 0))
    stored = good.filter(pl.col("record_id") == "b").select("content_hash", "start_time")
    kept, dups = dedupe_against(good, pl.Series(["a"]), stored, window_s=0)
    assert kept.is_empty()
    assert sorted(dups["message"].to_list()) == [
        "record id already imported",
        "same content already imported",
    ]


def partials(*rows: tuple[str, int, str, str]) -> pl.DataFrame:
    """(record_id, sequence, cause, start) rows of session c1 as guided usage."""
    good, _ = normalise(
        staging(
            *[
                {"record_id": rid, "usage_type": "data", "other_party": None, "duration_s": "600",
                 "volume_up": "10", "volume_down": "90", "charging_id": "c1", "record_sequence": str(seq),
                 "cause_for_closing": cause, "partial": "true", "start_time": start}
                for rid, seq, cause, start in rows
            ]
        ),
        SOURCE,
        NumberBook(),
    )  # fmt: skip
    return good.with_columns(content_hash=content_hash(good, 0))


NO_HELD = partials().with_columns(received_at=pl.lit(None, UTC_US))
NO_CLOSED = pl.DataFrame(schema={"source": pl.String, "charging_id": pl.String})


def test_partials_are_correlated_into_one_event():
    parts = partials(
        ("p2", 2, "timeLimit", "2026-01-10 11:00:00"),
        ("p1", 1, "timeLimit", "2026-01-10 10:00:00"),
        ("p3", 3, "normalRelease", "2026-01-10 12:00:00"),
    )
    corr = correlate(parts, NO_HELD, NO_CLOSED, NOW, 3600)
    event = corr.events.row(0, named=True)
    assert corr.events.height == 1 and corr.rejects.is_empty()
    assert (event["record_id"], event["duration_s"], event["volume_up"], event["volume_down"]) == (
        "p1",
        1800,
        30,
        270,
    )
    assert event["start_time"] == datetime(2026, 1, 10, 9, tzinfo=UTC)
    assert (event["record_sequence"], event["cause_for_closing"]) == (3, "normalRelease")
    assert corr.merged.height == 3 and corr.held.is_empty()


def test_a_missing_sequence_number_holds_the_session_until_the_timeout():
    parts = partials(
        ("p1", 1, "timeLimit", "2026-01-10 10:00:00"), ("p3", 3, "normalRelease", "2026-01-10 12:00:00")
    )
    first = correlate(parts, NO_HELD, NO_CLOSED, NOW, 3600)
    assert first.events.is_empty() and first.held["record_id"].to_list() == ["p1", "p3"]
    held = first.held.with_columns(received_at=pl.lit(NOW).cast(UTC_US))
    later = correlate(parts.clear(), held, NO_CLOSED, NOW + timedelta(hours=2), 3600)
    assert later.rejects.select("record_id", "reason").sort("record_id").rows() == [
        ("p1", "MISSING_PARTIAL"), ("p3", "MISSING_PARTIAL"),
    ]  # fmt: skip
    assert later.expired_keys.rows() == [("msc", "c1")]


def test_the_missing_partial_completes_a_held_session_and_a_later_one_is_late():
    held = partials(
        ("p1", 1, "timeLimit", "2026-01-10 10:00:00"), ("p3", 3, "normalRelease", "2026-01-10 12:00:00")
    )
    held = held.with_columns(received_at=pl.lit(NOW).cast(UTC_US))
    p2 = partials(("p2", 2, "timeLimit", "2026-01-10 11:00:00"))
    done = correlate(p2, held, NO_CLOSED, NOW, 3600)
    assert done.events["duration_s"].to_list() == [1800] and done.merged["record_id"].to_list() == ["p2"]
    again = partials(("p2b", 2, "timeLimit", "2026-01-10 11:00:00"))
    late = correlate(again, NO_HELD, done.merged_keys, NOW, 3600)
    assert late.rejects.select("record_id", "reason").rows() == [("p2b", "LATE_PARTIAL")]


def test_validate_alone_uses_the_clock_it_is_given():
    good, _ = normalise(staging({"start_time": "2026-03-01 10:00:00"}), SOURCE, NumberBook())
    assert validate(good, SOURCE, NOW)[1]["reason"].to_list() == ["FUTURE_EVENT"]
    assert validate(good, SOURCE, datetime(2026, 4, 1, tzinfo=UTC))[1].is_empty()
