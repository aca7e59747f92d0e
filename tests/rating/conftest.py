"""A small catalog written as text, compiled once per test module."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
import yaml

from telbill.catalog.tariffs import RatingCatalog
from telbill.rating.tariff import CompiledRating, compile_rating

CATALOG = """
destination_sets:
  - {code: fr_fixed, prefixes: ["331", "332", "333", "334", "335"]}
  - {code: fr_mobile, prefixes: ["336", "337"]}
  - {code: on_net, prefixes: ["33612"]}
  - {code: premium, prefixes: ["33899"]}
  - {code: uk, prefixes: ["44"]}
zones:
  - {code: eu, networks: ["262", "214", "222-01"], like_home: true}
  - {code: world, default: true}
time_bands:
  - code: fr_week
    timezone: Europe/Paris
    holidays: {country: FR}
    rules:
      - {band: offpeak, days: [all]}
      - {band: peak, days: [weekdays], hours: ["08:00-20:00"], priority: 1}
      - {band: offpeak, days: [holiday], priority: 2}
tariffs:
  - code: voice_std
    fallback: world_voice
    versions:
      - version: 1
        effective_from: 2024-01-01
        currency: EUR
        time_bands: fr_week
        rounding: {decimals: 4, method: half_up}
        rates:
          - {destination_set: fr_mobile, band: peak, price: "0.12", increments: "60/1", connect_fee: "0.05"}
          - {destination_set: fr_mobile, band: offpeak, price: "0.06", increments: "60/1", connect_fee: "0.05"}
          - {destination_set: fr_fixed, price: "0.03", increments: "30/6"}
          - {destination_set: on_net, price: "0", increments: "1"}
          - {destination_set: premium, price: "1.50", increments: "60/60", connect_fee: "0.50",
             minimum_charge: "1.00", max_cost: "10.00"}
          - {usage_type: sms, price: "0.10", increments: "1", per: 1}
          - {usage_type: data, price: "0.01", per: 1MB, increments: "100KB/10KB"}
          - {usage_type: data, zone: world, price: "5.00", per: 1MB, increments: "1MB"}
  - code: world_voice
    versions:
      - version: 1
        effective_from: 2024-01-01
        currency: EUR
        rates:
          - {destination_set: uk, price: "0.50", increments: "60/60"}
"""


@pytest.fixture(scope="session")
def rating() -> CompiledRating:
    return compile_rating(RatingCatalog.model_validate(yaml.safe_load(CATALOG)))


def usage(*rows: dict) -> pl.DataFrame:
    """A usage batch from short dicts: id, type, to, at (ISO, UTC unless offset), dur, bytes, ..."""
    out = []
    for i, r in enumerate(rows):
        at = datetime.fromisoformat(r["at"])
        out.append(
            {
                "record_id": r.get("id", f"r{i}"),
                "usage_type": r.get("type", "voice"),
                "other_party": r.get("to", "33612345678"),
                "start_time": (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC),
                "duration_s": r.get("dur", 0),
                "volume_up": r.get("up", 0),
                "volume_down": r.get("bytes", 0),
                "roaming": r.get("roaming", False),
                "visited_mcc": r.get("mcc", ""),
                "visited_mnc": r.get("mnc", ""),
                "account_id": r.get("account", "a1"),
            }
        )
    return pl.DataFrame(out).with_columns(pl.col("start_time").dt.replace_time_zone("UTC"))
