"""`telbill rate explain ID` over the database: how one stored usage record was classified and priced.

Classification (scope, billing period, offer version, charge) is recomputed from the same facts the
rating run used; tariff charges show the engine's own step-by-step trace (`rating.explain`), then
what allowances took and the amount stored.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from telbill.core.errors import NotFound
from telbill.rating import repository as repo
from telbill.rating.classify import classify
from telbill.rating.explain import explain
from telbill.rating.model import RatedUsage
from telbill.rating.schema import conform
from telbill.rating.service import RatingContext


def _micros(value: int | None, currency: str | None) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 1_000_000}.{abs(value) % 1_000_000:06d} {currency or ''}".strip()


def find(session: Session, ident: str) -> tuple[int, RatedUsage | None]:
    """`ID` is a usage record id; `r:ID` a rated usage id (any generation)."""
    if ident.startswith("r:"):
        row = repo.rated_row(session, int(ident[2:]))
        if row is None:
            raise NotFound(f"no rated usage {ident[2:]}")
        return row.usage_record_id, row
    if not ident.isdigit():
        raise NotFound(f"{ident!r} is neither a usage record id nor r:<rated usage id>")
    return int(ident), repo.current_of_record(session, int(ident))


def explain_stored(session: Session, ident: str) -> list[str]:
    record_id, stored = find(session, ident)
    usage = repo.usage_record(session, record_id)
    if usage.is_empty():
        raise NotFound(f"no usage record {record_id}")
    ctx = RatingContext(session)
    facts = ctx.facts(session, usage["account_id"].to_list())
    frame, _ = classify(usage, facts)
    row = frame.row(0, named=True)
    steps = [
        f"usage record {record_id} ({row['record_id']}): {row['usage_type']} of account {row['account_id']}, "
        f"subscription {row['subscription_id']}, at {row['start_time'].isoformat()}",
        _where(row),
        f"billing period from {_at(row['billing_period_start'])} (cycle period from {_at(row['_basis'])})",
    ]
    if row["_reason"] is not None:
        steps.append(f"not rated: {row['_reason']}")
    else:
        steps.append(
            f"offer {row['offer_code']} v{row['offer_version']} of subscription "
            f"{row['charge_subscription_id']}: charge {row['charge_code']} ({row['pricing']})"
        )
        steps += _pricing(ctx, row)
    return steps + _stored(stored)


def _at(value: Any) -> str:
    return value.isoformat() if value is not None else "-"


def _where(row: dict[str, Any]) -> str:
    dest = row["destination"] or "no number"
    if row["roaming"]:
        network = f"{row['visited_mcc']}-{row['visited_mnc']}"
        return f"roaming in {network}: zone {row['roaming_zone']} → scope {row['scope']}"
    return f"to {row['other_party'] or '-'}: destination set {dest} → scope {row['scope']}"


def _pricing(ctx: RatingContext, row: dict[str, Any]) -> list[str]:
    if row["pricing"] == "included":
        return [f"covered by allowance {row['charge_code']}: nothing to bill"]
    if row["pricing"] == "model":
        return ["quantity kept in base units; the bill run prices the period's total after allowances"]
    if ctx.rating is None:
        return ["no rating section loaded"]
    tariff = ctx.rating.tariff(row["tariff_code"])
    record = conform(pl.DataFrame([row]).select(pl.exclude("^_.*$"))).row(0, named=True)
    tz = ctx.accounts[row["account_id"]].timezone
    record["timezone"] = "" if tz in {v.timezone for v in tariff.versions} else tz
    return [f"tariff {tariff.code}:", *(f"  {s}" for s in explain(tariff, record))]


def _stored(stored: RatedUsage | None) -> list[str]:
    if stored is None:
        return ["stored: not rated yet"]
    head = f"stored (rated usage {stored.id}, generation {stored.generation}, run {stored.rating_run_id}): "
    if stored.status == "failed":
        return [
            head + f"failed, {stored.reason}" + (f" ({stored.reason_detail})" if stored.reason_detail else "")
        ]
    lines = [head + f"{stored.pricing}, quantity {stored.quantity_base}"]
    if stored.pricing == "tariff":
        lines.append(
            f"  charged {stored.charged_quantity}, free {stored.free_quantity or 0} from buckets "
            f"{stored.bucket_ids or '-'}; bands {stored.bands or '-'}, slots {stored.slots or '-'}; "
            f"tariff {stored.tariff_code} v{stored.tariff_version}"
        )
    lines.append(
        f"  amount {_micros(stored.amount_micros, stored.currency)}"
        + (f", invoiced on {stored.invoice_id}" if stored.invoice_id else "")
    )
    return lines
