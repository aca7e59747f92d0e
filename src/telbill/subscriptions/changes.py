"""Recording and applying subscription changes: every change is a row, applied now or when due.

A change effective now or in the past is applied at once (status `applied`); one in the future
is stored `pending` and applied by the scheduler when the clock reaches it. Applied rows are
the history billing prorates on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import IllegalTransition, TelbillError, ValidationFailed
from telbill.subscriptions import ports, repository
from telbill.subscriptions.lifecycle import ALLOWED, LIVE, State, check_move, event_for
from telbill.subscriptions.model import PendingCharge, Subscription, SubscriptionChange
from telbill.subscriptions.publish import publish
from telbill.subscriptions.terms import early_termination_fee, phase_after_trial, phases_from

# The state a change of each kind moves to (None: the state does not change).
TARGET: dict[str, State | None] = {
    "activate": State.ACTIVE,
    "suspend": State.SUSPENDED,
    "resume": State.ACTIVE,
    "cancel": State.CANCELLED,
    "plan_change": None,
    "quantity_change": None,
    "trial_end": State.ACTIVE,
    "contract_end": None,
}
# Kinds of which a subscription has at most one pending: a new request replaces the old one.
REPLACEABLE = {"plan_change", "quantity_change", "cancel"}


def projected_state(session: Session, sub: Subscription, at: datetime) -> State:
    """The state at `at` once the pending changes before it apply (for checking a scheduled change)."""
    state = State(sub.state)
    for change in repository.changes_of(session, sub.id, "pending"):
        target = TARGET.get(change.kind)
        if change.effective_at <= at and target is not None and target in _reachable(state):
            state = target
    return state


def _reachable(state: State) -> frozenset[State]:
    return ALLOWED[state]


def check_allowed(session: Session, sub: Subscription, kind: str, at: datetime, now: datetime) -> None:
    """Refuse a change that the state machine, at its effective instant, does not allow."""
    state = projected_state(session, sub, at) if at > now else State(sub.state)
    target = TARGET[kind]
    if target is not None:
        check_move(state, target)
    elif state not in LIVE:
        raise IllegalTransition(f"a {state} subscription cannot take a {kind.replace('_', ' ')}")


def check_history(session: Session, sub: Subscription, at: datetime) -> None:
    """A backdated change cannot go before the start or before a change already applied."""
    if at < sub.start_at:
        raise ValidationFailed(
            f"{at.isoformat()} is before subscription {sub.id} starts ({sub.start_at.isoformat()})"
        )
    last = repository.last_applied_change(session, sub.id)
    if last is not None and at < last.effective_at:
        raise ValidationFailed(
            f"{at.isoformat()} is before the last applied change of subscription {sub.id}",
            details=[f"{last.kind} at {last.effective_at.isoformat()}: history cannot be rewritten"],
        )


def record(
    session: Session, clock: Clock, sub: Subscription, kind: str, at: datetime, payload: dict[str, Any]
) -> SubscriptionChange:
    """Store a change; apply it now if it is due, else leave it pending for the scheduler."""
    now = clock.now()
    if kind in REPLACEABLE:
        for old in repository.changes_of(session, sub.id, "pending"):
            if old.kind == kind:
                old.status, old.note = "cancelled", "replaced by a newer request"
    change = repository.add(
        session,
        SubscriptionChange(
            subscription_id=sub.id,
            kind=kind,
            payload=payload,
            effective_at=at,
            status="pending",
            requested_at=now,
        ),
    )
    if at <= now:
        apply(session, clock, change)
    return change


def apply(session: Session, clock: Clock, change: SubscriptionChange) -> None:
    """Apply a pending change (raises if it is no longer legal; the caller decides what that means)."""
    sub = repository.get_subscription(session, change.subscription_id)
    assert sub is not None
    APPLIERS[change.kind](session, clock, sub, change)
    change.status, change.applied_at = "applied", clock.now()
    sub.updated_at = clock.now()
    session.flush()


def apply_due(session: Session, clock: Clock, change_id: int) -> None:
    """Scheduler entry: apply if still pending; a change no longer legal is cancelled with the reason."""
    change = repository.get_change(session, change_id)
    if change is None or change.status != "pending":
        return
    try:
        with session.begin_nested():
            apply(session, clock, change)
    except TelbillError as exc:
        change.status, change.note = "cancelled", f"not applicable when due: {exc.message}"[:200]
        session.flush()


def _move(
    session: Session, clock: Clock, sub: Subscription, target: State, at: datetime, **extra: Any
) -> None:
    current = State(sub.state)
    check_move(current, target)
    sub.state = target.value
    publish(
        session, clock, sub, event_for(current, target), effective_at=at, from_state=current.value, **extra
    )


def _activate(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    terms = ports.terms_of(session, sub.offer_code, sub.offer_version)
    acc = ports.account(session, sub.account_id)
    phases = phases_from(terms, change.effective_at, acc.tz)
    sub.phase, sub.trial_end, sub.commitment_end = phases.first_phase, phases.trial_end, phases.commitment_end
    sub.activated_at = change.effective_at
    target = State.TRIAL if phases.trial_end else State.ACTIVE
    _move(session, clock, sub, target, change.effective_at, trial_end=phases.trial_end)


def _suspend(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    sub.suspended_at = change.effective_at
    _move(session, clock, sub, State.SUSPENDED, change.effective_at, reason=change.payload.get("reason"))


def _resume(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    _move(session, clock, sub, State.ACTIVE, change.effective_at)
    sub.suspended_at = None


def _trial_end(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    terms = ports.terms_of(session, sub.offer_code, sub.offer_version)
    sub.phase = phase_after_trial(terms)
    _move(session, clock, sub, State.ACTIVE, change.effective_at, reason="trial ended")


def _contract_end(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    if sub.phase != "fixed_term":
        raise IllegalTransition(f"subscription {sub.id} is not in a fixed term (phase {sub.phase})")
    sub.phase = "evergreen"
    publish(session, clock, sub, "Subscription.contractEnded", effective_at=change.effective_at)


def _cancel(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    at, reason = change.effective_at, change.payload.get("reason")
    check_move(sub.state, State.CANCELLED)
    _charge_early_termination(session, clock, sub, at)
    sub.cancelled_at, sub.end_at, sub.cancel_reason = at, at, reason
    _move(session, clock, sub, State.CANCELLED, at, reason=reason)
    repository.close_identifiers(session, sub.id, max(at, sub.start_at))
    for other in repository.changes_of(session, sub.id, "pending"):
        if other.id != change.id:
            other.status, other.note = "cancelled", "subscription cancelled"
    for child in repository.children_of(session, sub.id):
        if child.state != State.CANCELLED:
            record(session, clock, child, "cancel", max(at, child.start_at), {"reason": "parent cancelled"})


def _charge_early_termination(session: Session, clock: Clock, sub: Subscription, at: datetime) -> None:
    if sub.commitment_end is None or at >= sub.commitment_end:
        return
    terms = ports.terms_of(session, sub.offer_code, sub.offer_version)
    acc = ports.account(session, sub.account_id)
    fee = early_termination_fee(terms, acc.currency, sub.quantity, at, sub.commitment_end, acc.tz)
    if fee is None:
        return
    repository.add(
        session,
        PendingCharge(
            subscription_id=sub.id,
            account_id=sub.account_id,
            kind="early_termination",
            code=f"{sub.offer_code}.early_termination",
            description=f"Early termination of {terms.name or sub.offer_code} (commitment to "
            f"{sub.commitment_end.date().isoformat()})",
            amount=fee.amount,
            currency=fee.currency,
            effective_at=at,
            status="pending",
            created_at=clock.now(),
        ),
    )


def _plan_change(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    if sub.state not in LIVE:
        raise IllegalTransition(f"a {sub.state} subscription cannot change plan")
    before = {"offer_code": sub.offer_code, "offer_version": sub.offer_version}
    sub.offer_code, sub.offer_version = change.payload["to_offer"], change.payload["to_version"]
    publish(
        session,
        clock,
        sub,
        "Subscription.planChanged",
        effective_at=change.effective_at,
        from_offer=before,
        direction=change.payload.get("direction"),
    )


def _quantity_change(session: Session, clock: Clock, sub: Subscription, change: SubscriptionChange) -> None:
    if sub.state not in LIVE:
        raise IllegalTransition(f"a {sub.state} subscription cannot change quantity")
    before, sub.quantity = sub.quantity, int(change.payload["to_quantity"])
    publish(
        session,
        clock,
        sub,
        "Subscription.quantityChanged",
        effective_at=change.effective_at,
        from_quantity=before,
    )


Applier = Callable[[Session, Clock, Subscription, SubscriptionChange], None]
APPLIERS: dict[str, Applier] = {
    "activate": _activate,
    "suspend": _suspend,
    "resume": _resume,
    "cancel": _cancel,
    "plan_change": _plan_change,
    "quantity_change": _quantity_change,
    "trial_end": _trial_end,
    "contract_end": _contract_end,
}
