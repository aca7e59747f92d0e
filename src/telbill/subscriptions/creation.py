"""Creating a subscription: the row, its identifiers, its `created` event, and its activation
(applied now when it starts now or in the past, pending when it starts in the future)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.subscriptions import changes, repository
from telbill.subscriptions.model import Subscription
from telbill.subscriptions.ports import AccountView
from telbill.subscriptions.publish import publish
from telbill.subscriptions.service import insert_identifier
from telbill.subscriptions.terms import OfferTerms


def create_subscription(
    session: Session,
    clock: Clock,
    *,
    account: AccountView,
    terms: OfferTerms,
    start_at: datetime,
    quantity: int = 1,
    service_ids: Sequence[tuple[str, str]] = (),
    parent_id: int | None = None,
    order_id: int | None = None,
) -> Subscription:
    """Callers validate first (offer, currency, identifiers free); this only writes."""
    now = clock.now()
    sub = repository.add(
        session,
        Subscription(
            account_id=account.id,
            order_id=order_id,
            parent_id=parent_id,
            offer_code=terms.code,
            offer_version=terms.version,
            quantity=quantity,
            state="pending",
            start_at=start_at,
            created_at=now,
            updated_at=now,
        ),
    )
    for identifier_type, value in service_ids:
        insert_identifier(session, sub.id, identifier_type, value, start_at)
    publish(session, clock, sub, "Subscription.created", effective_at=start_at, order_id=order_id)
    changes.record(session, clock, sub, "activate", start_at, {})
    return sub
