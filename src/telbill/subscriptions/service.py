"""Use cases on subscriptions. They take a session and a clock, append outbox events, never commit.

Each change takes an optional effective instant `at`: omitted means now; in the past means
backdated (within `backdate_limit_days`); in the future means scheduled (applied by the
scheduler when the clock reaches it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.core.settings import Settings
from telbill.subscriptions import changes, identifiers, ports, repository
from telbill.subscriptions.model import ServiceIdentifier, Subscription, SubscriptionChange
from telbill.subscriptions.publish import publish
from telbill.subscriptions.timing import When, classify

BACKDATE_LIMIT_DAYS = Settings().backdate_limit_days
CancelWhen = Literal["now", "end_of_period"]


def get_subscription(session: Session, subscription_id: int, *, for_update: bool = False) -> Subscription:
    sub = repository.get_subscription(session, subscription_id, for_update=for_update)
    if sub is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    return sub


def list_subscriptions(session: Session, **filters: Any) -> Sequence[Subscription]:
    return repository.list_subscriptions(session, **filters)


def history(session: Session, subscription_id: int) -> Sequence[SubscriptionChange]:
    """Every change of a subscription (applied, pending, cancelled), in effective order."""
    return repository.changes_of(session, get_subscription(session, subscription_id).id)


def count_by_state(session: Session) -> dict[str, int]:
    """How many subscriptions are in each state (one GROUP BY, for summaries)."""
    return repository.count_by_state(session)


def has_subscriptions(session: Session, account_id: int) -> bool:
    """Whether an account holds any subscription (the accounts context asks before a currency change)."""
    return bool(repository.list_subscriptions(session, account_id=account_id, limit=1))


def _change(
    session: Session,
    clock: Clock,
    subscription_id: int,
    kind: str,
    at: datetime | None,
    payload: dict[str, Any],
    limit_days: int,
) -> SubscriptionChange:
    sub = get_subscription(session, subscription_id, for_update=True)
    effective, when = classify(clock.now(), at, limit_days)
    changes.check_allowed(session, sub, kind, effective, clock.now())
    if when is When.BACKDATED:
        changes.check_history(session, sub, effective)
    return changes.record(session, clock, sub, kind, effective, payload)


def activate(
    session: Session,
    clock: Clock,
    subscription_id: int,
    *,
    at: datetime | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    """Start a pending subscription (trial first when its offer has one)."""
    return _change(session, clock, subscription_id, "activate", at, {}, backdate_limit_days)


def suspend(
    session: Session,
    clock: Clock,
    subscription_id: int,
    *,
    at: datetime | None = None,
    reason: str | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    return _change(session, clock, subscription_id, "suspend", at, {"reason": reason}, backdate_limit_days)


def resume(
    session: Session,
    clock: Clock,
    subscription_id: int,
    *,
    at: datetime | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    return _change(session, clock, subscription_id, "resume", at, {}, backdate_limit_days)


def cancel(
    session: Session,
    clock: Clock,
    subscription_id: int,
    *,
    when: CancelWhen | None = None,
    at: datetime | None = None,
    reason: str | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    """Cancel now, at the end of the current billing period, or at a date (`at`).

    Without `when` or `at`, the offer's cancellation policy decides. Inside a commitment, the
    early termination fee is recorded as a pending one-time charge when the cancellation applies.
    """
    if when is not None and at is not None:
        raise ValidationFailed("give either `when` or `at`, not both")
    sub = get_subscription(session, subscription_id)
    if at is None:
        terms = ports.terms_of(session, sub.offer_code, sub.offer_version)
        timing = when or terms.cancellation
        if timing == "end_of_period" and sub.state != "pending":
            at = ports.end_of_period(session, ports.account(session, sub.account_id), clock.now())
    return _change(session, clock, subscription_id, "cancel", at, {"reason": reason}, backdate_limit_days)


def change_plan(
    session: Session,
    clock: Clock,
    subscription_id: int,
    offer_code: str,
    *,
    at: datetime | None = None,
    timing: Literal["immediate", "end_of_period"] | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    """Move to another offer: now, at the end of the period (the current offer's `plan_change`
    policy, or `timing`), or at `at`. The new offer's version is the one in effect then."""
    sub = get_subscription(session, subscription_id)
    acc = ports.account(session, sub.account_id)
    current = ports.terms_of(session, sub.offer_code, sub.offer_version)
    if at is None and (timing or current.plan_change) == "end_of_period":
        at = ports.end_of_period(session, acc, clock.now())
    effective = at or clock.now()
    target = ports.terms_at(session, offer_code, effective)
    ports.require_currency(target, acc)
    if target.code == sub.offer_code:
        raise ValidationFailed(f"subscription {sub.id} is already on offer {offer_code!r}")
    if target.kind != current.kind:
        raise ValidationFailed(f"cannot change a {current.kind} into a {target.kind} ({offer_code!r})")
    payload = {
        "from_offer": sub.offer_code,
        "from_version": sub.offer_version,
        "to_offer": target.code,
        "to_version": target.version,
        "direction": _direction(
            current.monthly_price.get(acc.currency), target.monthly_price.get(acc.currency)
        ),
    }
    return _change(session, clock, subscription_id, "plan_change", at, payload, backdate_limit_days)


def _direction(before: Any, after: Any) -> str:
    if before is None or after is None or before == after:
        return "lateral"
    return "upgrade" if after > before else "downgrade"


def change_quantity(
    session: Session,
    clock: Clock,
    subscription_id: int,
    quantity: int,
    *,
    at: datetime | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> SubscriptionChange:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValidationFailed(f"quantity must be a whole number of at least 1, got {quantity!r}")
    sub = get_subscription(session, subscription_id)
    if quantity == sub.quantity:
        raise ValidationFailed(f"subscription {sub.id} already has quantity {quantity}")
    payload = {"from_quantity": sub.quantity, "to_quantity": quantity}
    return _change(session, clock, subscription_id, "quantity_change", at, payload, backdate_limit_days)


def assign_service_id(
    session: Session,
    clock: Clock,
    subscription_id: int,
    identifier_type: str,
    value: str,
    *,
    at: datetime | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> ServiceIdentifier:
    """Give a subscription an identifier from `at` on; refused while another subscription holds it."""
    sub = get_subscription(session, subscription_id)
    if sub.state == "cancelled":
        raise Conflict(f"subscription {sub.id} is cancelled")
    effective, _ = classify(clock.now(), at, backdate_limit_days)
    effective = max(effective, sub.start_at)
    value = identifiers.normalise(identifier_type, value)
    check_free(session, [(identifier_type, value)], effective)
    row = insert_identifier(session, sub.id, identifier_type, value, effective)
    publish(
        session,
        clock,
        sub,
        "Subscription.serviceIdAssigned",
        effective_at=effective,
        service_id={"type": identifier_type, "value": value},
    )
    return row


def release_service_id(
    session: Session,
    clock: Clock,
    subscription_id: int,
    identifier_type: str,
    value: str,
    *,
    at: datetime | None = None,
    backdate_limit_days: int = BACKDATE_LIMIT_DAYS,
) -> ServiceIdentifier:
    sub = get_subscription(session, subscription_id)
    value = identifiers.normalise(identifier_type, value)
    effective, _ = classify(clock.now(), at, backdate_limit_days)
    row = next(
        (
            r
            for r in repository.open_identifiers(session, sub.id)
            if (r.type, r.value) == (identifier_type, value)
        ),
        None,
    )
    if row is None:
        raise NotFound(f"subscription {sub.id} does not hold {identifier_type} {value}")
    row.valid_to = max(effective, row.valid_from)
    session.flush()
    publish(
        session,
        clock,
        sub,
        "Subscription.serviceIdReleased",
        effective_at=row.valid_to,
        service_id={"type": identifier_type, "value": value},
    )
    return row


def check_free(session: Session, pairs: Sequence[tuple[str, str]], at: datetime) -> None:
    """Conflict naming each identifier another subscription holds at or after `at`."""
    taken = repository.holders_of(session, pairs, at)
    if taken:
        raise Conflict(
            "service identifier already in use",
            details=[f"{r.type} {r.value} is held by subscription {r.subscription_id}" for r in taken],
        )


def insert_identifier(
    session: Session, subscription_id: int, identifier_type: str, value: str, at: datetime
) -> ServiceIdentifier:
    """Insert inside a savepoint, so that losing a race to the unique index is a Conflict, not a crash."""
    row = ServiceIdentifier(subscription_id=subscription_id, type=identifier_type, value=value, valid_from=at)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"{identifier_type} {value} is already held by another subscription") from None
    return row
