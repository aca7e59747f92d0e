"""Step-by-step computation of one record's cost, for people: the reference engine with a trace."""

from __future__ import annotations

from typing import Any

from telbill.rating.reference import MAX_DURATION_S, Timelines, finish, invalid, price_record
from telbill.rating.tariff import CompiledTariff


def explain(tariff: CompiledTariff, record: dict[str, Any]) -> list[str]:
    """The steps that price `record` alone (no allowances), ending with the amount or the reason."""
    to = record.get("other_party") or "-"
    steps = [
        f"record {record.get('record_id')}: {record.get('usage_type')} to {to} at {record.get('start_time')}"
    ]
    bad = invalid(record)
    if bad:
        return [*steps, f"rejected: invalid record ({bad})"]
    start = int(record["start_time"].timestamp())
    found = price_record(tariff, record, Timelines(start, start + MAX_DURATION_S), steps)
    if isinstance(found, str):
        return [*steps, f"rejected: {found}"]
    micros = finish(found, 0, steps)
    return [*steps, f"amount {micros} micros {found.rate.currency}"]
