"""A batch may name the tariff's own timezone for some records and others for the rest."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from telbill.catalog import parse_catalog_file
from telbill.rating import compile_rating, rate, rate_reference

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_records_in_the_tariffs_own_timezone_and_in_others_rate_like_the_reference():
    doc = parse_catalog_file(EXAMPLES / "catalog.yaml")
    tariff = compile_rating(doc.rating, base_dir=EXAMPLES).tariff("voice-national")
    own = tariff.versions[0].timezone
    zones = [own, "Europe/Paris", own, "America/New_York"]
    records = [
        {
            "record_id": f"r{i}",
            "usage_type": "voice",
            "start_time": datetime(2026, 3, 2, 7 + 4 * i, 55, tzinfo=UTC),
            "other_party": "33612345678",
            "duration_s": 600,
            "volume_up": 0,
            "volume_down": 0,
            "roaming": False,
            "visited_mcc": "",
            "visited_mnc": "",
            "account_id": str(i),
            "timezone": tz,
        }
        for i, tz in enumerate(zones)
    ]
    result = rate(tariff, pl.DataFrame(records))
    expected, rejects, _ = rate_reference(tariff, records)
    assert rejects == [] and result.rejects.height == 0
    got = dict(zip(result.rated["record_id"], result.rated["amount_micros"], strict=True))
    assert got == {r["record_id"]: r["amount_micros"] for r in expected}
