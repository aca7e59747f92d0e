"""The invoice generator: everything an invoice's accounts owe for its window, minus what was
billed (pure). The bill run and the preview both call `propose`; only the bill run saves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from telbill.billing.charges import (
    AccountBilling,
    Context,
    PendingChargeFacts,
    ProposedItem,
    Window,
    pending_charge_items,
    subscription_items,
    window_for,
)
from telbill.billing.events import ChangeFacts, Segment, SubscriptionFacts, timeline
from telbill.billing.reconcile import BilledItem, reconcile
from telbill.billing.usage import UsageAggregate, minimum_items, usage_items
from telbill.catalog.offers import Offer

DEFAULT_LOOKBACK = 12  # periods before the invoice's own that a run may re-examine (backdated changes)
SHORT_LOOKBACK = 3  # what it re-examines when nothing changed further back


class AdjustmentSource(Protocol):
    """Re-rating adjustments (a port): items keyed `ad|...` for periods already billed."""

    def adjustments(
        self, account_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[ProposedItem]: ...


class NoAdjustments:
    def adjustments(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[ProposedItem]:
        return []


@dataclass(frozen=True)
class InvoiceInputs:
    """Everything loaded for one payer's invoice (the payer and the children it pays for)."""

    payer: AccountBilling
    subscriptions: Sequence[tuple[SubscriptionFacts, Sequence[ChangeFacts]]]
    pending: Sequence[PendingChargeFacts] = ()
    usage: Sequence[UsageAggregate] = ()
    billed: Sequence[BilledItem] = ()
    credited: Mapping[str, Decimal] = field(default_factory=dict)  # key → given back by manual credit notes
    adjustments: Sequence[ProposedItem] = ()
    children: Mapping[int, str] = field(default_factory=dict)  # account id → number, shown on lines


@dataclass(frozen=True)
class Proposal:
    window: Window
    items: tuple[ProposedItem, ...]  # what to bill now, after reconciliation
    expected: tuple[ProposedItem, ...]  # everything owed for the window, before it
    used: tuple[UsageAggregate, ...]  # usage of the closed periods, for the usage summary


def _timelines(inputs: InvoiceInputs) -> list[tuple[SubscriptionFacts, tuple[Segment, ...]]]:
    return [(sub, timeline(sub, changes)) for sub, changes in inputs.subscriptions]


def expected_items(
    inputs: InvoiceInputs, offers: Mapping[str, Offer], window: Window
) -> tuple[list[ProposedItem], list[UsageAggregate]]:
    """Everything the window's periods should carry, before looking at what was billed."""
    ctx = Context(inputs.payer, offers, window)
    lines = _timelines(inputs)
    items: list[ProposedItem] = []
    for sub, segs in lines:
        items.extend(subscription_items(ctx, sub, segs))
    by_sub: dict[int, list[UsageAggregate]] = {}
    for u in inputs.usage:
        by_sub.setdefault(u.subscription_id, []).append(u)
    used, demands = usage_items(ctx, lines, by_sub)
    items.extend(used)
    items.extend(minimum_items(ctx, demands, items))
    items.extend(pending_charge_items(inputs.pending, window))
    items.extend(inputs.adjustments)
    closed_end = window.current.start
    usage = [u for u in inputs.usage if window.start <= u.period_start < closed_end]
    return items, usage


def _instants(inputs: InvoiceInputs) -> list[datetime]:
    """Every instant at which what the invoice's accounts owe may change."""
    out: list[datetime] = [r.start for r in inputs.payer.regimes if r.start is not None]
    for sub, changes in inputs.subscriptions:
        out += [t for t in (sub.start_at, sub.trial_end, sub.end_at) if t is not None]
        out += [c.effective_at for c in changes]
    out += [c.effective_at for c in inputs.pending]
    return out


def lookback_for(inputs: InvoiceInputs, at: datetime, lookback: int = DEFAULT_LOOKBACK) -> int:
    """The periods to re-examine: `lookback` when something changed between its window's start and
    the short window's (a backdated change, cancellation or start), else `SHORT_LOOKBACK`. Periods
    in which nothing changed were billed as proposed, so re-examining them only costs time."""
    if lookback <= SHORT_LOOKBACK:
        return lookback
    short = window_for(inputs.payer, at, SHORT_LOOKBACK).start
    full = window_for(inputs.payer, at, lookback).start
    return lookback if any(full <= t < short for t in _instants(inputs)) else SHORT_LOOKBACK


def propose(
    inputs: InvoiceInputs, offers: Mapping[str, Offer], at: datetime, lookback: int = DEFAULT_LOOKBACK
) -> Proposal:
    """The items of the invoice for the period containing `at`, looking back `lookback_for` periods."""
    window = window_for(inputs.payer, at, lookback_for(inputs, at, lookback))
    expected, usage = expected_items(inputs, offers, window)
    items = reconcile(expected, inputs.billed, window.start, inputs.credited)
    return Proposal(window, tuple(items), tuple(expected), tuple(usage))
