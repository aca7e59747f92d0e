"""Many subscriptions at once (synthetic data, migrations): Core executemany, still with outbox events.

Returns `(ids, rejects)`: a spec that fails validation is a reject with its reason, the rest load.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import TelbillError
from telbill.events.service import append_events
from telbill.subscriptions import identifiers, repository
from telbill.subscriptions.model import ServiceIdentifier, Subscription, SubscriptionChange
from telbill.subscriptions.ports import TermsCache, require_currency
from telbill.subscriptions.schemas import SubscriptionSpec
from telbill.subscriptions.terms import OfferTerms, phases_from

Reject = tuple[int, str]


def bulk_create_subscriptions(
    session: Session, clock: Clock, specs: Sequence[SubscriptionSpec]
) -> tuple[list[int], list[Reject]]:
    """Create the valid specs (`ids` in the order given); `rejects` are (index in specs, reason)."""
    now = clock.now()
    rows, ids_of, rejects = _validate(session, TermsCache(session), specs, now)
    if not rows:
        return [], rejects
    stmt = insert(Subscription).returning(Subscription.id, sort_by_parameter_order=True)
    new_ids = list(session.scalars(stmt, rows))
    _insert_children(session, now, rows, new_ids, ids_of)
    _append_events(session, clock, rows, new_ids, ids_of)
    return new_ids, rejects


def _validate(
    session: Session, cache: TermsCache, specs: Sequence[SubscriptionSpec], now: datetime
) -> tuple[list[dict[str, Any]], list[list[tuple[str, str]]], list[Reject]]:
    good: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    rejects: list[Reject] = []
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        try:
            account = cache.account(spec.account_id)
            terms = cache.terms_at(spec.offer_code, spec.start_at)
            require_currency(terms, account)
            pairs = [(s.type, identifiers.normalise(s.type, s.value)) for s in spec.service_ids]
        except TelbillError as exc:
            rejects.append((index, exc.message))
            continue
        clash = [p for p in pairs if p in seen]
        if clash:
            rejects.append((index, f"{clash[0][0]} {clash[0][1]} is already in this batch"))
            continue
        seen.update(pairs)
        good.append((index, _row(spec, terms, account.tz, now), pairs))
    if seen and good:
        earliest = min(row["start_at"] for _, row, _ in good)
        held = {
            (r.type, r.value): r.subscription_id
            for r in repository.holders_of(session, sorted(seen), earliest)
        }
        for index, _, pairs in good:
            for pair in pairs:
                if pair in held:
                    rejects.append((index, f"{pair[0]} {pair[1]} is held by subscription {held[pair]}"))
        good = [g for g in good if not any(p in held for p in g[2])]
    rejects.sort()
    return [row for _, row, _ in good], [pairs for _, _, pairs in good], rejects


def _row(spec: SubscriptionSpec, terms: OfferTerms, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The row of one subscription: live from its start, or pending when it starts in the future."""
    row: dict[str, Any] = {
        "account_id": spec.account_id,
        "offer_code": terms.code,
        "offer_version": terms.version,
        "quantity": spec.quantity,
        "start_at": spec.start_at,
        "created_at": now,
        "updated_at": now,
    }
    if spec.start_at > now:
        return row | {
            "state": "pending",
            "phase": None,
            "trial_end": None,
            "commitment_end": None,
            "activated_at": None,
        }
    phases = phases_from(terms, spec.start_at, tz)
    return row | {
        "state": "trial" if phases.trial_end else "active",
        "phase": phases.first_phase,
        "trial_end": phases.trial_end,
        "commitment_end": phases.commitment_end,
        "activated_at": spec.start_at,
    }


def _insert_children(
    session: Session,
    now: datetime,
    rows: list[dict[str, Any]],
    new_ids: list[int],
    ids_of: list[list[tuple[str, str]]],
) -> None:
    """Identifiers and the applied (or pending, for a future start) activation of each subscription."""
    identifier_rows, change_rows = [], []
    for row, sub_id, pairs in zip(rows, new_ids, ids_of, strict=True):
        pending = row["state"] == "pending"
        identifier_rows += [
            {
                "subscription_id": sub_id,
                "type": t,
                "value": v,
                "valid_from": row["start_at"],
                "valid_to": None,
            }
            for t, v in pairs
        ]
        change_rows.append(
            {
                "subscription_id": sub_id,
                "kind": "activate",
                "payload": {},
                "effective_at": row["start_at"],
                "status": "pending" if pending else "applied",
                "requested_at": now,
                "applied_at": None if pending else now,
                "note": "bulk load",
            }
        )
    repository.insert_many(session, ServiceIdentifier, identifier_rows)
    repository.insert_many(session, SubscriptionChange, change_rows)


def _append_events(
    session: Session,
    clock: Clock,
    rows: list[dict[str, Any]],
    new_ids: list[int],
    ids_of: list[list[tuple[str, str]]],
) -> None:
    events = []
    for row, sub_id, pairs in zip(rows, new_ids, ids_of, strict=True):
        payload = {
            "subscription_id": sub_id,
            "account_id": row["account_id"],
            "offer_code": row["offer_code"],
            "offer_version": row["offer_version"],
            "quantity": row["quantity"],
            "state": row["state"],
            "phase": row["phase"],
            "parent_id": None,
            "effective_at": row["start_at"],
            "service_ids": [{"type": t, "value": v} for t, v in pairs],
        }
        common = {"aggregate_type": "subscription", "aggregate_id": sub_id}
        events.append(
            {
                **common,
                "event_type": "Subscription.created",
                "payload": payload | {"state": "pending", "from_state": None},
            }
        )
        if row["state"] != "pending":
            events.append(
                {
                    **common,
                    "event_type": "Subscription.activated",
                    "payload": payload | {"from_state": "pending", "trial_end": row["trial_end"]},
                }
            )
    append_events(session, clock, events)
