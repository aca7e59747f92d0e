"""Build usage batches from short rows and rate them with both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from telbill.rating.allowances import Bucket
from telbill.rating.engine import RatingResult, rate
from telbill.rating.reference import rate_reference
from telbill.rating.schema import conform
from telbill.rating.tariff import CompiledRating


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    """Rows as {id, type, to, at (ISO; UTC unless it has an offset), dur, bytes, account, ...}."""
    out = []
    for i, r in enumerate(rows):
        at = datetime.fromisoformat(r["at"])
        out.append(
            {
                "record_id": r.get("id", f"r{i}"),
                "usage_type": r.get("type", "voice"),
                "other_party": r.get("to", "33123456789"),
                "start_time": (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC),
                "duration_s": r.get("dur", 0),
                "volume_up": 0,
                "volume_down": r.get("bytes", 0),
                "roaming": r.get("roaming", False),
                "visited_mcc": r.get("mcc", ""),
                "visited_mnc": r.get("mnc", ""),
                "account_id": r.get("account", "a1"),
                "timezone": r.get("tz", ""),
            }
        )
    frame = pl.DataFrame(out)
    return frame.with_columns(pl.col("start_time").dt.convert_time_zone("UTC").dt.cast_time_unit("us"))


def rate_both(
    rating: CompiledRating, tariff: str, batch: pl.DataFrame, balances: tuple[Bucket, ...] = ()
) -> RatingResult:
    """The engine's result, after checking the naive reference agrees on every rated record."""
    result = rate(rating.tariff(tariff), batch, balances)
    rated, rejects, deltas = rate_reference(rating.tariff(tariff), conform(batch).to_dicts(), balances)
    columns = [c for c in result.rated.columns]
    expected = pl.DataFrame(rated, schema=result.rated.schema) if rated else result.rated.clear()
    assert (
        result.rated.sort("record_id").select(columns).to_dicts()
        == expected.sort("record_id").select(columns).to_dicts()
    )
    assert sorted(result.rejects["record_id"].to_list()) == sorted(r["record_id"] for r in rejects)
    assert dict(result.balance_deltas.iter_rows()) == deltas
    return result


def amounts(result: RatingResult) -> dict[str, int]:
    return dict(result.rated.select("record_id", "amount_micros").iter_rows())


def one(rating: CompiledRating, tariff: str = "golden", **row: Any) -> dict[str, Any]:
    result = rate_both(rating, tariff, usage({"id": "x", **row}))
    assert result.rated.height == 1, result.rejects.to_dicts()
    return result.rated.row(0, named=True)
