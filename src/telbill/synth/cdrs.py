"""Synthetic network traffic for the synthetic operator: CSV, JSON Lines or 3GPP BER files.

Realistic enough to exercise mediation and rating: call durations are log-normal (median 90 s),
events follow busy hours, most calls are national (mobile and fixed, written nationally), some
international, some made while roaming; data sessions are split into partial records. A share
of records is made faulty on purpose, each fault tagged with the reason mediation should give.
Deterministic for a seed; no wall clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from telbill.mediation.schema import STAGING_FIELDS

FAULTS = (
    "MISSING_FIELD",
    "BAD_NUMBER",
    "BAD_TIMESTAMP",
    "BAD_USAGE_TYPE",
    "FUTURE_EVENT",
    "NEGATIVE_DURATION",
    "UNKNOWN_SUBSCRIBER",
    "DUPLICATE",
    "MISSING_PARTIAL",
)
BER_FAULTS = (
    "MISSING_FIELD",
    "FUTURE_EVENT",
    "NEGATIVE_DURATION",
    "UNKNOWN_SUBSCRIBER",
    "DUPLICATE",
    "MISSING_PARTIAL",
)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 9, 9, 9, 9, 10, 11, 12, 11, 9, 6, 4, 2)
ROAMING = (("234", "15"), ("262", "01"), ("214", "07"), ("222", "10"))
FOREIGN = ("+447911123{:03d}", "+4915123{:06d}", "+34612{:06d}", "+1202555{:04d}")
PARIS = ZoneInfo("Europe/Paris")
NODES = {"voice": "33609000001", "sms": "33609000002", "data": "pgw1"}


@dataclass(frozen=True)
class Subscriber:
    msisdn: str  # E.164 digits without '+'
    imsi: str | None = None


def subscribers_from_intervals(intervals: pl.DataFrame) -> list[Subscriber]:
    """One subscriber per MSISDN of a service-id interval frame (IMSI of the same subscription if any)."""
    imsi = dict(intervals.filter(pl.col("id_type") == "imsi").select("subscription_id", "value").iter_rows())
    rows = intervals.filter(pl.col("id_type") == "msisdn").select("value", "subscription_id").unique("value")
    return [Subscriber(v.lstrip("+"), imsi.get(s)) for v, s in rows.sort("value").iter_rows()]


def demo_subscribers(count: int, seed: int = 1) -> list[Subscriber]:
    """Made-up subscribers with valid French mobile numbers (phonenumbers' current ranges)."""
    from telbill.mediation.normalise import to_e164

    rng = random.Random(seed)
    found: dict[str, Subscriber] = {}
    while len(found) < count:
        n = rng.randrange(10_000_000, 99_999_999)
        msisdn = f"336{n:08d}"
        if msisdn not in found and to_e164(msisdn, "FR") == msisdn:
            found[msisdn] = Subscriber(msisdn, f"20801{n:010d}")
    return list(found.values())


def generate_cdrs(
    subscribers: Sequence[Subscriber] | pl.DataFrame,
    *,
    days: int,
    seed: int,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    fault_share: Decimal | str = "0.02",
    events_per_day: int = 10,
    fmt: str = "csv",
) -> pl.DataFrame:
    """Records as text in telbill's own layout (STAGING_FIELDS) plus `fault`: the reason expected, or null."""
    subs = (
        subscribers_from_intervals(subscribers)
        if isinstance(subscribers, pl.DataFrame)
        else list(subscribers)
    )
    if not subs:
        raise ValueError("no subscribers to make traffic for")
    rng = random.Random(seed)
    contacts = _contacts(rng)
    records: list[dict[str, str | None]] = []
    counters = {"voice": 0, "sms": 0, "data": 0, "charging": 0}
    for day in range(days):
        base = start + timedelta(days=day)
        for _ in range(len(subs) * events_per_day):
            records += _event(rng, subs, contacts, base, counters)
    share = _share(fault_share)
    faults = BER_FAULTS if fmt == "ber" else FAULTS
    records = _inject(rng, records, share, faults, fmt)
    return pl.DataFrame(
        records, schema={f: pl.String for f in (*STAGING_FIELDS, "fault")}, orient="row"
    ).with_columns(pl.col("start_time").cast(pl.String))


def _share(value: Decimal | str) -> Decimal:
    share = Decimal(str(value))
    if not 0 <= share <= 1:
        raise ValueError(f"fault share must be between 0 and 1, got {value}")
    return share


def _contacts(rng: random.Random) -> list[str]:
    """Numbers people call, written as dialled (nationally); only valid numbers, checked once."""
    from telbill.mediation.normalise import to_e164

    mobiles = [f"0{rng.choice('67')}{rng.randrange(10**8):08d}" for _ in range(3000)]
    fixed = [f"0{rng.choice('12345')}{rng.randrange(10**8):08d}" for _ in range(1500)]
    foreign = [rng.choice(FOREIGN).format(rng.randrange(1000)) for _ in range(300)]
    valid = [n for n in mobiles + fixed + foreign if to_e164(n, "FR")]
    national = [n for n in valid if not n.startswith("+")]
    return national * 4 + valid + ["3179", "888"] * 50


def _instant(rng: random.Random, base: datetime) -> datetime:
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    return base + timedelta(hours=hour, seconds=rng.randrange(3600))


def _event(
    rng: random.Random, subs: list[Subscriber], contacts: list[str], base: datetime, counters: dict[str, int]
) -> list[dict[str, str | None]]:
    sub = rng.choice(subs)
    kind = rng.choices(("voice", "sms", "data"), (45, 30, 25))[0]
    at = _instant(rng, base)
    mcc, mnc = rng.choice(ROAMING) if rng.random() < 0.03 else ("208", "01")
    common = {
        "usage_type": kind,
        "served_msisdn": sub.msisdn,
        "served_imsi": sub.imsi,
        "visited_mcc": mcc,
        "visited_mnc": mnc,
        "cell_id": f"{rng.randrange(1 << 16):04x}",
        "partial": "false",
    }
    if kind == "data":
        return _data_session(rng, at, common, counters)
    counters[kind] += 1
    duration = min(7200, max(1, round(rng.lognormvariate(math.log(90), 1.0)))) if kind == "voice" else 0
    return [
        common
        | {
            "record_id": f"{NODES[kind]}:{counters[kind]}",
            "other_party": rng.choice(contacts),
            "start_time": at,
            "duration_s": str(duration),
        }
    ]


def _data_session(
    rng: random.Random, at: datetime, common: dict[str, str | None], counters: dict[str, int]
) -> list[dict[str, str | None]]:
    counters["charging"] += 1
    parts = rng.choices((1, 2, 3, 4), (60, 20, 12, 8))[0]
    out = []
    for seq in range(1, parts + 1):
        counters["data"] += 1
        volume = round(rng.lognormvariate(math.log(2_000_000), 1.5))
        out.append(
            common
            | {
                "record_id": f"{NODES['data']}:{counters['data']}",
                "start_time": at + timedelta(seconds=(seq - 1) * 3600),
                "duration_s": str(3600 if seq < parts else rng.randrange(30, 3600)),
                "volume_up": str(volume // 8),
                "volume_down": str(volume - volume // 8),
                "rating_group": "10",
                "charging_id": str(counters["charging"]),
                "record_sequence": str(seq) if parts > 1 else None,
                "cause_for_closing": "timeLimit" if seq < parts else "normalRelease",
                "partial": "true" if parts > 1 else "false",
            }
        )
    return out


def _inject(
    rng: random.Random, records: list[dict[str, str | None]], share: Decimal, faults: Sequence[str], fmt: str
) -> list[dict[str, str | None]]:
    """Make about `share` of the records faulty, each kind in equal measure; set `fault` on each."""
    for r in records:
        r["fault"] = None
    count = int(len(records) * share)
    picks = rng.sample(range(len(records)), min(count, len(records)))
    dropped: set[int] = set()
    extra: list[dict[str, str | None]] = []
    for n, i in enumerate(picks):
        fault = faults[n % len(faults)]
        r = records[i]
        if r["fault"] is not None or (r["partial"] == "true" and fault != "MISSING_PARTIAL"):
            continue
        if fault == "MISSING_PARTIAL":
            _cut_session(records, i, dropped)
            continue
        if fault == "DUPLICATE":
            r["fault"] = "DUPLICATE"  # keeps the original clean; the later copy is tagged below
            extra.append(dict(r))
            continue
        _spoil(r, fault, i, fmt)
        r["fault"] = fault
    kept = [r for i, r in enumerate(records) if i not in dropped]
    for dup in extra:
        kept.insert(rng.randrange(len(kept) + 1), dup)
    seen: set[object] = set()
    for r in kept:  # of two copies, the later one is the duplicate
        if r["record_id"] in seen:
            r["fault"] = "DUPLICATE"
        elif r["fault"] == "DUPLICATE":
            r["fault"] = None
        seen.add(r["record_id"])
    return _text_times(kept, fmt)


def _cut_session(records: list[dict[str, str | None]], i: int, dropped: set[int]) -> None:
    """Remove the first partial of a multi-part session: the others then wait, and expire."""
    r = records[i]
    if r["partial"] != "true":
        return
    session = [
        j
        for j in range(max(0, i - 4), min(len(records), i + 5))
        if records[j].get("charging_id") == r["charging_id"]
    ]
    first = min(session, key=lambda j: int(records[j]["record_sequence"] or 0))
    dropped.add(first)
    for j in session:
        if j != first:
            records[j]["fault"] = "MISSING_PARTIAL"


def _spoil(r: dict[str, str | None], fault: str, i: int, fmt: str) -> None:
    if fault == "MISSING_FIELD":
        r["served_msisdn"] = r["served_imsi"] = None
    elif fault == "BAD_NUMBER":
        if r["usage_type"] == "data":
            r["served_msisdn"] = "0000"
        else:
            r["other_party"] = "12ab"
    elif fault == "BAD_TIMESTAMP":
        r["start_time"] = "not-a-date"
    elif fault == "BAD_USAGE_TYPE":
        r["usage_type"] = "fax"
    elif fault == "FUTURE_EVENT":
        r["start_time"] = r["start_time"] + timedelta(days=3650)  # type: ignore[operator]
    elif fault == "NEGATIVE_DURATION":
        r["duration_s"] = "-5"
    elif fault == "UNKNOWN_SUBSCRIBER":
        r["served_msisdn"], r["served_imsi"] = f"33756{i % 10**6:06d}", None


def _text_times(records: list[dict[str, object]], fmt: str) -> list[dict[str, object]]:
    for r in records:
        t = r["start_time"]
        if isinstance(t, datetime):
            r["start_time"] = (
                t.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S") if fmt == "csv" else t.isoformat()
            )
    return records


def write_cdrs(frame: pl.DataFrame, directory: Path, fmt: str, *, stem: str = "cdrs") -> Path:
    """Write the records (without the `fault` column) as one file of the given format."""
    directory.mkdir(parents=True, exist_ok=True)
    records = frame.drop("fault", strict=False)
    if fmt == "csv":
        path = directory / f"{stem}.csv"
        records.write_csv(path)
    elif fmt == "jsonl":
        path = directory / f"{stem}.jsonl"
        records.write_ndjson(path)
    elif fmt == "ber":
        path = directory / f"{stem}.ber"
        _write_ber(records, path)
    else:
        raise ValueError(f"unknown format {fmt!r} (csv, jsonl, ber)")
    return path


def _write_ber(records: pl.DataFrame, path: Path) -> None:
    from telbill.mediation.ber import encode_record, write_ber_file

    encoded = []
    for row in records.iter_rows(named=True):
        typed = dict(row)
        typed["start_time"] = datetime.fromisoformat(row["start_time"])
        encoded.append(encode_record(typed))
    write_ber_file(path, encoded)
