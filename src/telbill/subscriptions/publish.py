"""Outbox events of subscriptions: one snapshot shape for every event, so consumers parse one thing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.events import append_event
from telbill.subscriptions import repository
from telbill.subscriptions.model import Subscription


def snapshot(session: Session, sub: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": sub.id,
        "account_id": sub.account_id,
        "offer_code": sub.offer_code,
        "offer_version": sub.offer_version,
        "quantity": sub.quantity,
        "state": sub.state,
        "phase": sub.phase,
        "parent_id": sub.parent_id,
        "service_ids": [
            {"type": i.type, "value": i.value} for i in repository.open_identifiers(session, sub.id)
        ],
    }


def publish(
    session: Session,
    clock: Clock,
    sub: Subscription,
    event_type: str,
    *,
    effective_at: datetime,
    from_state: str | None = None,
    **extra: Any,
) -> None:
    payload = snapshot(session, sub) | {"from_state": from_state, "effective_at": effective_at} | extra
    append_event(
        session,
        clock,
        event_type=event_type,
        aggregate_type="subscription",
        aggregate_id=sub.id,
        payload=payload,
    )
