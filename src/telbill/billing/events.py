"""Subscription state and history → a flat list of billing events, then service segments.

The charge computation never reads subscription rows or change rows: it sees only these
events (Kill Bill's "junction"). Each event carries the whole billable state after it (status,
offer, version, quantity), so a segment between two events is priced on its own.

History is rebuilt from the change rows: applied ones are the past, pending ones (scheduled
changes) are projected, cancelled ones never happened. A plan change records the offer it
left (`from_offer`, `from_version`), a quantity change the quantity it left, so the state at
the start is known even after the row was overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from telbill.core.records import quick_init


class Status(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


LIVE = frozenset({Status.TRIAL, Status.ACTIVE})  # the statuses that are charged


@quick_init
@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """What the bill run needs of a subscription row (plain data, loaded in bulk)."""

    id: int
    account_id: int
    offer_code: str
    offer_version: int
    quantity: int
    state: str
    start_at: datetime
    trial_end: datetime | None = None
    end_at: datetime | None = None
    parent_id: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class ChangeFacts:
    """One row of `subscription_changes`."""

    kind: str
    effective_at: datetime
    status: str = "applied"
    payload: Mapping[str, Any] = field(default_factory=dict)
    id: int = 0


@quick_init
@dataclass(frozen=True, slots=True)
class BillingEvent:
    """The subscription's billable state from `at` on."""

    subscription_id: int
    at: datetime
    kind: str
    status: Status
    offer_code: str
    offer_version: int
    quantity: int


@quick_init
@dataclass(frozen=True, slots=True)
class Segment:
    """`[start, end)` with one billable state; `end` None means still open."""

    subscription_id: int
    start: datetime
    end: datetime | None
    status: Status
    offer_code: str
    offer_version: int
    quantity: int


def _initial_terms(sub: SubscriptionFacts, changes: Sequence[ChangeFacts]) -> tuple[str, int, int]:
    """Offer, version and quantity at the start: read from the first change that left them."""
    offer, version, quantity = sub.offer_code, sub.offer_version, sub.quantity
    plans = [c for c in changes if c.kind == "plan_change" and "from_offer" in c.payload]
    if plans:
        offer, version = str(plans[0].payload["from_offer"]), int(plans[0].payload["from_version"])
    quantities = [c for c in changes if c.kind == "quantity_change" and "from_quantity" in c.payload]
    if quantities:
        quantity = int(quantities[0].payload["from_quantity"])
    return offer, version, quantity


def _live_changes(changes: Sequence[ChangeFacts]) -> list[ChangeFacts]:
    kept = [c for c in changes if c.status in ("applied", "pending")]
    return sorted(kept, key=lambda c: (c.effective_at, c.id))


def _with_trial_end(sub: SubscriptionFacts, changes: list[ChangeFacts]) -> list[ChangeFacts]:
    """A trial ends at `trial_end` even before the scheduler has recorded it (a preview ahead)."""
    if sub.trial_end is None or any(c.kind == "trial_end" for c in changes):
        return changes
    projected = ChangeFacts("trial_end", sub.trial_end, "pending", {}, id=-1)
    return sorted([*changes, projected], key=lambda c: (c.effective_at, c.id))


def _next(event: BillingEvent, change: ChangeFacts, sub: SubscriptionFacts) -> BillingEvent | None:
    """The event a change makes, or None when it changes nothing billable."""
    kind, payload = change.kind, change.payload
    status, offer, version, quantity = event.status, event.offer_code, event.offer_version, event.quantity
    if kind == "activate":
        trial = sub.trial_end is not None and sub.trial_end > change.effective_at
        status = Status.TRIAL if trial else Status.ACTIVE
    elif kind == "trial_end" and status is Status.TRIAL:
        status = Status.ACTIVE
    elif kind == "suspend":
        status = Status.SUSPENDED
    elif kind == "resume" and status is Status.SUSPENDED:
        status = Status.ACTIVE
    elif kind == "cancel":
        status = Status.ENDED
    elif kind == "plan_change":
        offer, version = str(payload["to_offer"]), int(payload["to_version"])
    elif kind == "quantity_change":
        quantity = int(payload["to_quantity"])
    else:
        return None
    return BillingEvent(event.subscription_id, change.effective_at, kind, status, offer, version, quantity)


def billing_events(sub: SubscriptionFacts, changes: Sequence[ChangeFacts]) -> tuple[BillingEvent, ...]:
    """The subscription's billing events in time order; nothing after it ends."""
    live = _with_trial_end(sub, _live_changes(changes))
    offer, version, quantity = _initial_terms(sub, live)
    if not any(c.kind == "activate" for c in live) and sub.state != "pending":
        live.insert(0, ChangeFacts("activate", sub.start_at, "applied", {}, id=-2))
    state = BillingEvent(sub.id, sub.start_at, "created", Status.ENDED, offer, version, quantity)
    events: list[BillingEvent] = []
    started = False
    for change in live:
        if started and state.status is Status.ENDED:
            break
        if not started and change.kind != "activate":
            if change.kind in ("plan_change", "quantity_change"):
                state = _next(state, change, sub) or state  # changed before it started
            continue
        nxt = _next(state, change, sub)
        if nxt is not None:
            started = True
            state = nxt
            events.append(nxt)
    return tuple(events)


def segments(events: Sequence[BillingEvent]) -> tuple[Segment, ...]:
    """Consecutive `[start, end)` pieces between events; ended time has no segment."""
    out: list[Segment] = []
    for i, event in enumerate(events):
        if event.status is Status.ENDED:
            break
        end = events[i + 1].at if i + 1 < len(events) else None
        if end is not None and end <= event.at:
            continue  # two events at the same instant: the later one wins
        out.append(
            Segment(
                event.subscription_id,
                event.at,
                end,
                event.status,
                event.offer_code,
                event.offer_version,
                event.quantity,
            )
        )
    return tuple(out)


def timeline(sub: SubscriptionFacts, changes: Sequence[ChangeFacts]) -> tuple[Segment, ...]:
    """Segments of one subscription straight from its facts."""
    return segments(billing_events(sub, changes))
