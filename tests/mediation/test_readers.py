import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from telbill.mediation.ber import decode_record, encode_record, write_ber_file
from telbill.mediation.framing import FileHeader, HeaderTime, iter_records, pack_file, parse_file_header
from telbill.mediation.readers import FileRejected, ramp_up, reader_for
from telbill.mediation.sources import BUILTIN_SOURCES, SourceConfig, parse_sources

from .conftest import write

CSV = BUILTIN_SOURCES["telbill-csv"]


def read_all(source: SourceConfig, path: Path):
    batches = list(reader_for(source).batches(path, file_id=1, batch_size=2))
    staging = [b.staging for b in batches]
    rejects = [b.rejects for b in batches]
    import polars as pl

    return pl.concat(staging), pl.concat(rejects)


def test_csv_reads_every_field_as_text_with_line_numbers_and_ragged_rows_as_rejects(tmp_path):
    path = write(
        tmp_path / "a.csv",
        "r1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,",
        "broken,row",
        "r2,sms,0612345678,,0033142685300,2026-01-10 11:00:00,,,,,,,",
        "r3,voice,0612345678,,0142685300,2026-01-10 12:00:00,007,,,,,,",
    )
    staging, rejects = read_all(CSV, path)
    assert staging["record_id"].to_list() == ["r1", "r2", "r3"]
    assert staging["line_no"].to_list() == [2, 4, 5]
    assert staging["duration_s"].to_list() == ["60", None, "007"]  # text: leading zeros survive
    assert rejects.select("line_no", "reason", "raw").rows() == [(3, "MISSING_FIELD", "broken,row")]


def test_csv_mapping_without_header_by_position_with_its_own_date_format_and_encoding(tmp_path):
    cfg = parse_sources(
        """
sources:
  - name: msc-paris
    delimiter: ";"
    has_header: false
    encoding: latin-1
    date_format: "%d/%m/%Y %H:%M:%S"
    timezone: Europe/Paris
    usage_types: {MOC: voice, SMSMO: sms}
    fields: {record_id: 0, usage_type: 1, served_msisdn: 2, other_party: 3,
             start_time: 4, duration_s: 5, cell_id: 6}
"""
    )["msc-paris"]
    path = tmp_path / "msc.txt"
    path.write_bytes("c1;MOC;0612345678;0142685300;10/01/2026 10:00:00;61;Montréal\n".encode("latin-1"))
    staging, rejects = read_all(cfg, path)
    assert rejects.is_empty()
    row = staging.row(0, named=True)
    assert (row["record_id"], row["usage_type"], row["start_time"], row["cell_id"]) == (
        "c1", "MOC", "10/01/2026 10:00:00", "Montréal",
    )  # fmt: skip
    assert row["line_no"] == 1


def test_invalid_source_declarations_name_each_problem():
    from telbill.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        parse_sources("sources: [{name: x, timezone: Mars/Base, fields: {nope: 1}, usage_types: {A: fax}}]")
    text = str(err.value)
    assert "timezone" in text and "nope" in text and "fax" in text


def test_jsonl_reads_objects_and_rejects_lines_that_are_not(tmp_path):
    path = tmp_path / "a.jsonl"
    good = {"record_id": "j1", "usage_type": "sms", "served_msisdn": "33612345678", "duration_s": 0}
    path.write_text(
        json.dumps(good) + "\n{not json\n[1,2]\n\n" + json.dumps(good | {"record_id": "j2"}) + "\n"
    )
    staging, rejects = read_all(BUILTIN_SOURCES["telbill-jsonl"], path)
    assert staging.select("record_id", "line_no", "duration_s").rows() == [("j1", 1, "0"), ("j2", 5, "0")]
    assert rejects.select("line_no", "reason").rows() == [(2, "BAD_VALUE"), (3, "BAD_VALUE")]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "ber"])
def test_gzip_inputs_read_like_plain_ones(tmp_path, fmt):
    plain = _sample_file(tmp_path, fmt)
    zipped = tmp_path / (plain.name + ".gz")
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    source = BUILTIN_SOURCES[f"telbill-{fmt}"]
    a, _ = read_all(source, plain)
    b, _ = read_all(source, zipped)
    assert a.height == 2 and a.equals(b)


def _sample_file(tmp_path: Path, fmt: str) -> Path:
    if fmt == "csv":
        return write(
            tmp_path / "s.csv",
            "r1,voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,",
            "r2,sms,0612345678,,0142685300,2026-01-10 11:00:00,,,,,,,",
        )
    if fmt == "jsonl":
        path = tmp_path / "s.jsonl"
        path.write_text('{"record_id": "a"}\n{"record_id": "b"}\n')
        return path
    path = tmp_path / "s.ber"
    write_ber_file(path, [encode_record(_rec("voice", 1)), encode_record(_rec("data", 2))])
    return path


def _rec(kind: str, n: int, **extra):
    base = {
        "record_id": f"{'pgw1' if kind == 'data' else '33609000001'}:{n}",
        "usage_type": kind,
        "served_msisdn": "33612345678",
        "served_imsi": "208011234567890",
        "other_party": "+33142685300" if kind != "data" else None,
        "start_time": datetime(2026, 1, 10, 9, 30, tzinfo=UTC),
        "duration_s": 61,
        "volume_up": 1000,
        "volume_down": 9000,
        "visited_mcc": "234",
        "visited_mnc": "15",
        "cell_id": "00ab",
        "rating_group": 10,
        "charging_id": str(900 + n),
        "record_sequence": None,
        "cause_for_closing": "normalRelease",
    }
    return base | extra


def test_ber_records_round_trip_for_data_voice_and_sms():
    data = decode_record(encode_record(_rec("data", 7, record_sequence=2, cause_for_closing="timeLimit")))
    assert data | {} == data and data["record_id"] == "pgw1:7"
    assert (data["volume_up"], data["volume_down"], data["visited_mcc"], data["visited_mnc"]) == (
        "1000",
        "9000",
        "234",
        "15",
    )
    assert (data["charging_id"], data["record_sequence"], data["cause_for_closing"], data["partial"]) == (
        "907", "2", "timeLimit", "true",
    )  # fmt: skip
    assert data["start_time"] == "2026-01-10T09:30:00+00:00"
    voice = decode_record(encode_record(_rec("voice", 8)))
    assert (voice["usage_type"], voice["other_party"], voice["duration_s"]) == ("voice", "+33142685300", "61")
    sms = decode_record(encode_record(_rec("sms", 9, other_party="0612345679")))
    assert (sms["usage_type"], sms["other_party"], sms["record_id"]) == ("sms", "0612345679", "33609000001:9")


def test_ts_32297_file_header_fields_are_parsed():
    opened = HeaderTime(1, 10, 9, 30, offset_minutes=60)
    header = FileHeader(
        opened=opened, last_appended=HeaderTime(1, 10, 9, 45), sequence_number=42, closure_reason=2
    )
    data = pack_file(header, [b"\xa0\x00", b"\xa0\x01\x00"], record_release=16)
    parsed = parse_file_header(data)
    assert (parsed.file_length, parsed.record_count, parsed.sequence_number, parsed.closure_reason) == (
        len(data),
        2,
        42,
        2,
    )
    assert (parsed.high_release, parsed.low_release) == (15, 15)
    assert parsed.opened == opened and parsed.opened.at_year(2026) == datetime(2026, 1, 10, 8, 30, tzinfo=UTC)
    records = list(iter_records(data, parsed))
    assert [(i, h.length, h.release, h.data_format) for i, h, _ in records] == [(1, 2, 16, 1), (2, 3, 16, 1)]


def test_a_record_pycrate_cannot_decode_is_a_reject_with_its_bytes(tmp_path):
    path = tmp_path / "x.ber"
    write_ber_file(path, [encode_record(_rec("data", 1)), b"\xbf\x4f\x03\x80\x01\xff"])
    staging, rejects = read_all(BUILTIN_SOURCES["telbill-ber"], path)
    assert staging["record_id"].to_list() == ["pgw1:1"]
    assert rejects.select("line_no", "reason", "raw").rows() == [(2, "UNDECODABLE", "bf4f038001ff")]


@pytest.mark.parametrize(
    ("fmt", "content", "reason"),
    [
        ("csv", b"", "EMPTY_FILE"),
        ("jsonl", b"\n\n", "EMPTY_FILE"),
        ("ber", b"", "EMPTY_FILE"),
        ("csv", "record_id,usage_type\nr1,é\n".encode("latin-1"), "UNREADABLE"),
        ("jsonl", '{"record_id": "é"}\n'.encode("latin-1"), "BAD_ENCODING"),
        ("csv", b"\x1f\x8b\x08\x00garbage", "BAD_COMPRESSION"),
    ],
)
def test_malformed_files_are_rejected_with_a_reason_not_a_traceback(tmp_path, fmt, content, reason):
    path = tmp_path / f"bad.{fmt}"
    path.write_bytes(content)
    with pytest.raises(FileRejected) as err:
        read_all(BUILTIN_SOURCES[f"telbill-{fmt}"], path)
    assert err.value.reason == reason
    assert "bad." in err.value.message


def test_truncated_ber_files_are_rejected(tmp_path):
    full = tmp_path / "full.ber"
    write_ber_file(full, [encode_record(_rec("data", i)) for i in range(3)])
    cut = tmp_path / "cut.ber"
    cut.write_bytes(full.read_bytes()[:-10])
    with pytest.raises(FileRejected, match="octets") as err:
        read_all(BUILTIN_SOURCES["telbill-ber"], cut)
    assert err.value.reason == "TRUNCATED"
    bare = tmp_path / "bare.ber"
    bare.write_bytes(encode_record(_rec("data", 1)) + encode_record(_rec("data", 2))[:-3])
    with pytest.raises(FileRejected) as err:
        read_all(BUILTIN_SOURCES["telbill-ber"], bare)
    assert err.value.reason == "TRUNCATED"


def test_ramp_up_cuts_only_the_first_batch_and_keeps_every_row_and_reject(tmp_path):
    lines = [f"r{i},voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,," for i in range(25)]
    path = write(tmp_path / "a.csv", *lines[:3], "ragged,row", *lines[3:])
    plain = list(reader_for(CSV).batches(path, file_id=1, batch_size=10))
    ramped = list(ramp_up(reader_for(CSV).batches(path, file_id=1, batch_size=10), 2))
    assert [b.staging.height for b in plain] == [10, 10, 5]
    assert [b.staging.height for b in ramped] == [2, 8, 10, 5]
    assert ramped[0].rejects["line_no"].to_list() == [5]  # the first batch's rejects go with its head
    for got, want in (("staging", "staging"), ("rejects", "rejects")):
        assert pl.concat([getattr(b, got) for b in ramped]).equals(
            pl.concat([getattr(b, want) for b in plain])
        )
    assert [b.staging.height for b in ramp_up(iter(plain), 5)] == [10, 10, 5]  # too small to cut
