"""The subscription state machine: which moves are legal, and the event each move publishes.

    pending ──► trial ──► active ◄──► suspended
       │          │         │            │
       └──────────┴─────────┴────────────┴──► cancelled (final)

A pending subscription (one that starts in the future) may be cancelled before it starts.
"""

from __future__ import annotations

from enum import StrEnum

from telbill.core.errors import IllegalTransition


class State(StrEnum):
    PENDING = "pending"
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


ALLOWED: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.TRIAL, State.ACTIVE, State.CANCELLED}),
    State.TRIAL: frozenset({State.ACTIVE, State.CANCELLED}),
    State.ACTIVE: frozenset({State.SUSPENDED, State.CANCELLED}),
    State.SUSPENDED: frozenset({State.ACTIVE, State.CANCELLED}),
    State.CANCELLED: frozenset(),
}

# States in which the service is live (changes of plan or quantity make sense).
LIVE = frozenset({State.TRIAL, State.ACTIVE, State.SUSPENDED})


def can_move(current: State | str, target: State | str) -> bool:
    return State(target) in ALLOWED[State(current)]


def check_move(current: State | str, target: State | str) -> State:
    """The target state, or IllegalTransition naming both ends."""
    current, target = State(current), State(target)
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none (final state)"
        raise IllegalTransition(
            f"a subscription cannot go from {current} to {target}",
            details=[f"from {current} it can go to: {allowed}"],
        )
    return target


def event_for(current: State | str, target: State | str) -> str:
    """The outbox event type announcing a legal move."""
    current, target = State(current), State(target)
    if target is State.CANCELLED:
        return "Subscription.cancelled"
    if target is State.SUSPENDED:
        return "Subscription.suspended"
    if current is State.SUSPENDED:
        return "Subscription.resumed"
    return "Subscription.activated"
