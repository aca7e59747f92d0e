"""Small readable fixtures: a service-id directory and records written as text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from telbill.core.clock import TestClock
from telbill.mediation.schema import INTERVAL_SCHEMA

from ..api.conftest import api_env, client  # noqa: F401  (the HTTP edge's fixtures, for test_api)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLAN_CHANGE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HEADER = (
    "record_id,usage_type,served_msisdn,served_imsi,other_party,start_time,duration_s,"
    "volume_up,volume_down,charging_id,record_sequence,cause_for_closing,partial"
)


def directory(*rows: tuple[str, str, datetime, datetime | None, int, int]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=INTERVAL_SCHEMA, orient="row")


@pytest.fixture
def intervals() -> pl.DataFrame:
    """Alice changes plan at PLAN_CHANGE (subscription 1 -> 2); Bob is known by IMSI only."""
    return directory(
        ("msisdn", "33612345678", T0, PLAN_CHANGE, 1, 100),
        ("msisdn", "33612345678", PLAN_CHANGE, None, 2, 100),
        ("imsi", "208011234567890", T0, None, 3, 200),
    )


@pytest.fixture
def clock() -> TestClock:
    return TestClock(datetime(2026, 2, 1, tzinfo=UTC))


def write(path: Path, *lines: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path
