"""The invoice generator: everything an invoice's accounts owe for its window, minus what was
billed (pure). The bill run and the preview both call `propose`; only the bill run saves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from telbill.billing.charges import (
    AccountBilling,
    Context,
    PendingChargeFacts,
    ProposedItem,
    Window,
    one_time_items,
    pending_charge_items,
    recurring_items,
    window_for,
)
from telbill.billing.events import ChangeFacts, Segment, SubscriptionFacts, timeline
from telbill.billing.golive import clip
from telbill.billing.occurrence_charges import occurrence_items
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
    go_live: Mapping[int, datetime] = field(default_factory=dict)  # account id → billed from (golive.py)


@dataclass(frozen=True)
class Proposal:
    window: Window
    items: tuple[ProposedItem, ...]  # what to bill now, after reconciliation
    expected: tuple[ProposedItem, ...]  # everything owed for the window, before it
    used: tuple[UsageAggregate, ...]  # usage of the closed periods, for the usage summary


def _timelines(inputs: InvoiceInputs) -> list[tuple[SubscriptionFacts, tuple[Segment, ...]]]:
    """Each subscription's segments, from its account's go-live on."""
    go_live = inputs.go_live
    return [
        (sub, clip(timeline(sub, changes), go_live.get(sub.account_id)))
        for sub, changes in inputs.subscriptions
    ]


def subscription_items(
    ctx: Context, sub: SubscriptionFacts, segments: Sequence[Segment]
) -> list[ProposedItem]:
    """Every non-usage item one subscription proposes for the window."""
    if not segments:
        return []
    return (
        recurring_items(ctx, sub, segments)
        + occurrence_items(ctx, sub, segments)
        + one_time_items(ctx, sub, segments)
    )


def _before_go_live(item: ProposedItem, sub: SubscriptionFacts, go_live: datetime | None) -> bool:
    """A one-time charge of a subscription started before the go-live: the old system's."""
    return go_live is not None and item.key.startswith("ot|") and sub.start_at < go_live


def expected_items(
    inputs: InvoiceInputs, offers: Mapping[str, Offer], window: Window
) -> tuple[list[ProposedItem], list[UsageAggregate]]:
    """Everything the window's periods should carry, before looking at what was billed."""
    ctx = Context(inputs.payer, offers, window)
    lines = _timelines(inputs)
    items: list[ProposedItem] = []
    for sub, segs in lines:
        go_live = inputs.go_live.get(sub.account_id)
        proposed = subscription_items(ctx, sub, segs)
        items.extend(
            proposed if go_live is None else (i for i in proposed if not _before_go_live(i, sub, go_live))
        )
    by_sub: dict[int, list[UsageAggregate]] = {}
    for u in inputs.usage:
        by_sub.setdefault(u.subscription_id, []).append(u)
    used, demands = usage_items(ctx, lines, by_sub)
    items.extend(used)
    items.extend(minimum_items(ctx, demands, items))
    items.extend(pending_charge_items(_after_go_live(inputs.pending, inputs.go_live), window))
    items.extend(_after_go_live(inputs.adjustments, inputs.go_live))
    closed_end = window.current.start
    usage = [u for u in inputs.usage if window.start <= u.period_start < closed_end]
    return items, usage


_Dated = TypeVar("_Dated", PendingChargeFacts, ProposedItem)


def _after_go_live(facts: Sequence[_Dated], go_live: Mapping[int, datetime]) -> list[_Dated]:
    """Pending charges effective, and re-rating adjustments ending, after their account's go-live
    (earlier ones are the old system's)."""

    def kept(x: _Dated, at: datetime) -> bool:
        return x.effective_at >= at if isinstance(x, PendingChargeFacts) else x.service_end > at

    return [x for x in facts if x.account_id not in go_live or kept(x, go_live[x.account_id])]


def _instants(inputs: InvoiceInputs) -> list[datetime]:
    """Every instant at which what the invoice's accounts owe may change."""
    out: list[datetime] = [r.start for r in inputs.payer.regimes if r.start is not None]
    out += list(inputs.go_live.values())
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
    inputs: InvoiceInputs,
    offers: Mapping[str, Offer],
    at: datetime,
    lookback: int = DEFAULT_LOOKBACK,
    window: Window | None = None,
) -> Proposal:
    """The items of the invoice for the period containing `at`, looking back `lookback_for` periods
    (`window`: that window, when the caller computed it from the same inputs already)."""
    if window is None:
        window = window_for(inputs.payer, at, lookback_for(inputs, at, lookback))
    expected, usage = expected_items(inputs, offers, window)
    items = reconcile(expected, inputs.billed, window.start, inputs.credited)
    return Proposal(window, tuple(items), tuple(expected), tuple(usage))
