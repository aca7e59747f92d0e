"""Load everything a batch of payers' invoices needs, with a handful of queries, as plain facts.

The result feeds the pure generator (`generator.propose`) and assembler; nothing here computes
an amount. Cycle history comes from the accounts' recorded cycle changes (the same rows
`accounts.cycle_in_force` reads), turned into regimes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy.orm import Session

from telbill.accounts import BillingAccountCycleChange
from telbill.billing import repository
from telbill.billing.assemble import BuyerFacts, buyer_kind
from telbill.billing.charges import AccountBilling, CycleRegime, PendingChargeFacts, Window, window_for
from telbill.billing.events import ChangeFacts, SubscriptionFacts
from telbill.billing.generator import AdjustmentSource, InvoiceInputs, NoAdjustments, lookback_for
from telbill.billing.golive import go_live_at, later
from telbill.billing.manual_credits import BilledLine, ManualNote, NoteLine, RateKey, credited_by_key
from telbill.billing.periods import BillingCycle
from telbill.billing.reconcile import BilledItem
from telbill.billing.taxes import Buyer, Exemption
from telbill.billing.usage import UsageAggregate, UsageSource
from telbill.catalog import Offer, get_offer
from telbill.core.money import currency
from telbill.invoicing.content import Party


class OfferCache:
    """Catalog offers by code, loaded once per run."""

    def __init__(self) -> None:
        self._offers: dict[str, Offer] = {}

    def load(self, session: Session, codes: Collection[str]) -> dict[str, Offer]:
        for code in codes:
            if code not in self._offers:
                self._offers[code] = get_offer(session, code)
        return self._offers


class NoUsage:
    """The usage source when rated usage is not persisted: no usage."""

    def aggregates(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[UsageAggregate]:
        return []


def default_usage_source(session: Session) -> UsageSource:
    """Rated usage from the rating context (`RatedUsageSource`, which also yields re-rating
    adjustments), else none."""
    try:
        from telbill import rating

        return rating.RatedUsageSource(session)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):  # pragma: no cover
        return NoUsage()


def regimes_of(
    current: BillingCycle, changes: Sequence[BillingAccountCycleChange]
) -> tuple[CycleRegime, ...]:
    """The account's cycle history: the cycle before the first change, then each change's new cycle
    (`current`, the account's configured cycle, when it never changed)."""
    if not changes:
        return (CycleRegime(None, current),)
    first = changes[0]
    out = [
        CycleRegime(
            None,
            _cycle(
                first.old_cycle_unit, first.old_cycle_count, first.old_bill_cycle_day, first.old_cycle_anchor
            ),
        )
    ]
    for c in changes:
        out.append(
            CycleRegime(
                c.effective_at,
                _cycle(c.new_cycle_unit, c.new_cycle_count, c.new_bill_cycle_day, c.new_cycle_anchor),
            )
        )
    return tuple(out)


def _cycle(unit: str, count: int, day: int, anchor: date) -> BillingCycle:
    return BillingCycle(unit, count, day, anchor)  # type: ignore[arg-type]


def account_billing(row: Any, changes: Sequence[BillingAccountCycleChange]) -> AccountBilling:
    """The calendar of an account row (`repository.accounts_and_customers`)."""
    cycle = _cycle(row.cycle_unit, row.cycle_count, row.bill_cycle_day, row.cycle_anchor)
    return AccountBilling(row.id, row.number, row.currency, row.timezone, regimes_of(cycle, changes))


def buyer_facts(row: Any, on: date) -> BuyerFacts:
    """The buyer of an account row with its customer's columns (`repository.accounts_and_customers`)."""
    address = "\n".join(x for x in (row.customer_address_line1, row.customer_address_line2) if x)
    exempt = row.tax_exempt and (row.tax_exempt_until is None or on <= row.tax_exempt_until)
    exemption = Exemption(row.tax_exemption_reason or "Exempt") if exempt else None
    party = Party(
        name=row.customer_legal_name or row.customer_name,
        address=address,
        city=row.customer_city or "",
        postcode=row.customer_postcode or "",
        country=row.customer_country,
        vat_number=row.customer_vat_number,
        registration_id=row.customer_registration_number,
    )
    kind = buyer_kind(row.customer_kind)
    buyer = Buyer(row.customer_country, row.customer_vat_number, kind, exemption)
    return BuyerFacts(
        row.id, row.number, party, buyer, row.language, row.currency, row.timezone, row.payment_terms_days,
    )  # fmt: skip


@dataclass
class LoadedInvoice:
    """One payer's invoice inputs and who it is addressed to."""

    inputs: InvoiceInputs
    facts: BuyerFacts
    pending_ids: list[int] = field(default_factory=list)
    window: Window | None = None  # the invoice's window, as `propose` would compute it


def children_map(session: Session) -> dict[int, list[int]]:
    """Payer → every account invoiced on its invoice (transitively)."""
    parent_of = dict(repository.consolidated_edges(session))
    out: dict[int, list[int]] = {}
    for child in parent_of:
        payer = child
        while payer in parent_of:
            payer = parent_of[payer]
        out.setdefault(payer, []).append(child)
    return out


def _group(rows: Sequence[Any], attr: str) -> dict[int, list[Any]]:
    """Rows by one attribute; result rows by position (a Row's attribute access looks the name
    up at each call)."""
    out: dict[int, list[Any]] = {}
    if not rows:
        return out
    names = getattr(rows[0], "_fields", None)
    key = itemgetter(names.index(attr)) if names is not None else attrgetter(attr)
    for row in rows:
        out.setdefault(key(row), []).append(row)
    return out


def _sub_facts(s: Any) -> SubscriptionFacts:
    """A `repository.subscriptions_of` row: its columns are the facts' fields, in order."""
    return SubscriptionFacts(*s)


def _billed(rows: Sequence[Any], account_of_sub: Mapping[int, int], payer: int) -> list[BilledItem]:
    out = []
    for r in rows:
        sign = -1 if r.document_type == "381" else 1
        start = datetime.combine(r.period_start or date(1970, 1, 1), time(), tzinfo=UTC)
        out.append(
            BilledItem(
                r.source_ref, Decimal(r.net_amount) * sign, account_of_sub.get(r.subscription_id, payer),
                r.subscription_id, r.description, start, start,
            )
        )  # fmt: skip
    return out


@dataclass
class BatchSources:
    usage: UsageSource
    adjustments: AdjustmentSource = field(default_factory=NoAdjustments)
    offers: OfferCache = field(default_factory=OfferCache)

    def __post_init__(self) -> None:
        """A usage source that also knows re-rating adjustments provides them unless told otherwise."""
        if isinstance(self.adjustments, NoAdjustments) and hasattr(self.usage, "adjustments"):
            self.adjustments = self.usage  # type: ignore[assignment]


def load_batch(
    session: Session, payer_ids: Sequence[int], at: datetime, sources: BatchSources, lookback: int
) -> tuple[list[LoadedInvoice], dict[str, Offer]]:
    """Inputs of every payer's invoice for the period containing `at`."""
    kids = children_map(session)
    wanted = {p: [p, *kids.get(p, [])] for p in payer_ids}
    all_ids = {a for ids in wanted.values() for a in ids}
    rows = {r.id: r for r in repository.accounts_and_customers(session, all_ids)}
    changes = _group(repository.cycle_changes(session, payer_ids), "billing_account_id")
    subs = repository.subscriptions_of(session, all_ids)
    sub_changes = _group(repository.changes_of(session, [s.id for s in subs]), "subscription_id")
    subs_by_account = _group(subs, "account_id")
    pending = _group(repository.pending_charges(session, all_ids), "account_id")
    offers = sources.offers.load(session, {s.offer_code for s in subs} | _changed_offers(sub_changes))
    billing = {p: account_billing(rows[p], changes.get(p, [])) for p in payer_ids}
    partial = {}
    for p in payer_ids:
        own_subs = [s for a in wanted[p] for s in subs_by_account.get(a, [])]
        partial[p] = InvoiceInputs(
            payer=billing[p],
            subscriptions=[
                (_sub_facts(s), [_change(c) for c in sub_changes.get(s.id, [])]) for s in own_subs
            ],
            pending=[_pending(c) for a in wanted[p] for c in pending.get(a, [])],
            go_live=go_live_of(rows, p, wanted[p]),
        )
    windows = {p: window_for(billing[p], at, lookback_for(partial[p], at, lookback)) for p in payer_ids}
    start = min((w.start for w in windows.values()), default=at)
    end = max((w.current.end for w in windows.values()), default=at)
    usage = _group(sources.usage.aggregates(sorted(all_ids), start, end), "account_id")
    adjustments = _group(sources.adjustments.adjustments(sorted(all_ids), start, end), "account_id")
    billed = _billed_since(session, windows)
    credited = _credited_since(session, windows)
    account_of_sub = {s.id: s.account_id for s in subs}
    out = []
    for p in payer_ids:
        ids = wanted[p]
        inputs = replace(
            partial[p],
            usage=[u for a in ids for u in usage.get(a, [])],
            billed=_billed(billed.get(p, []), account_of_sub, p),
            credited=credited.get(p, {}),
            adjustments=[x for a in ids for x in adjustments.get(a, [])],
            children={a: rows[a].number for a in ids if a != p},
        )
        facts = buyer_facts(rows[p], windows[p].current.start.date())
        out.append(LoadedInvoice(inputs, facts, [c.id for c in inputs.pending], windows[p]))
    return out, offers


def go_live_of(rows: Mapping[int, Any], payer: int, accounts: Sequence[int]) -> dict[int, datetime]:
    """Each account's go-live instant on the payer's invoice: the later of its own and the payer's."""
    own = {a: go_live_at(rows[a].billing_start, rows[a].timezone) for a in accounts}
    out = {a: later(own[a], own[payer]) for a in accounts}
    return {a: t for a, t in out.items() if t is not None}


def _billed_since(session: Session, windows: Mapping[int, Window]) -> dict[int, list[Any]]:
    """Billed lines of each payer's window: one query per distinct window start (a long lookback
    for a few payers does not make the whole batch read a year of lines)."""
    by_start: dict[date, list[int]] = {}
    for p, w in windows.items():
        by_start.setdefault(w.start.date() - timedelta(days=1), []).append(p)
    rows: list[Any] = []
    for since, payers in by_start.items():
        rows += repository.billed_lines(session, payers, since)
    return _group(rows, "payer_account_id")


def _credited_since(session: Session, windows: Mapping[int, Window]) -> dict[int, dict[str, Decimal]]:
    """Per payer and key, what manual credit notes gave back of its window's bill-run invoices."""
    by_start: dict[date, list[int]] = {}
    for p, w in windows.items():
        by_start.setdefault(w.start.date() - timedelta(days=1), []).append(p)
    out: dict[int, dict[str, Decimal]] = {}
    for since, payers in by_start.items():
        notes, lines, subtotals = repository.manually_credited(session, payers, since)
        for payer, keys in credited_per_payer(notes, lines, subtotals).items():
            merged = out.setdefault(payer, {})
            for key, amount in keys.items():
                merged[key] = merged.get(key, Decimal(0)) + amount
    return out


def credited_per_payer(
    notes: Sequence[Any], lines: Sequence[Any], subtotals: Sequence[Any]
) -> dict[int, dict[str, Decimal]]:
    """`repository.manually_credited` rows → per payer and key, the net given back."""
    lines_of = _group(lines, "invoice_id")
    base_of: dict[int, dict[RateKey, Decimal]] = {}
    for t in subtotals:
        base = base_of.setdefault(t.invoice_id, {})
        key = (t.category, Decimal(t.rate))
        base[key] = base.get(key, Decimal(0)) + Decimal(t.taxable_amount)
    out: dict[int, dict[str, Decimal]] = {}
    for invoice_id, rows in _group(notes, "preceding_invoice_id").items():
        by_note = _group(sorted(rows, key=lambda r: r.note_id), "note_id")
        manual = [
            ManualNote(
                tuple(
                    NoteLine(r.credited_line_id, Decimal(r.net_amount), _rate(r), _share(r))
                    for r in note_rows
                ),
                base_of.get(note_id, {}),
            )
            for note_id, note_rows in by_note.items()
        ]
        billed = [
            BilledLine(r.id, r.source_ref, Decimal(r.net_amount), _rate(r), _share(r))
            for r in lines_of.get(invoice_id, [])
        ]
        first = rows[0]
        keys = credited_by_key(billed, base_of.get(invoice_id, {}), manual, currency(first.currency).quantum)
        merged = out.setdefault(first.payer_account_id, {})
        for key, amount in keys.items():
            merged[key] = merged.get(key, Decimal(0)) + amount
    return out


def _rate(row: Any) -> RateKey:
    return (row.tax_category, Decimal(row.tax_rate))


def _share(row: Any) -> Decimal:
    """A line's share of its document's allowances (none recorded before shares were: 0)."""
    return Decimal(row.allowance_share) if row.allowance_share is not None else Decimal(0)


def _changed_offers(changes: Mapping[int, Sequence[Any]]) -> set[str]:
    codes = set()
    for rows in changes.values():
        for c in rows:
            for key in ("from_offer", "to_offer"):
                if c.payload.get(key):
                    codes.add(str(c.payload[key]))
    return codes


def _change(c: Any) -> ChangeFacts:
    """A `repository.changes_of` row (`CHANGE_COLUMNS`); the payload is the row's own freshly
    decoded dict: no copy needed."""
    id_, _, kind, effective_at, status, payload = c
    return ChangeFacts(kind, effective_at, status, payload if payload is not None else {}, id_)


def _pending(c: Any) -> PendingChargeFacts:
    return PendingChargeFacts(
        c.id,
        c.subscription_id,
        c.account_id,
        c.code,
        c.description,
        Decimal(c.amount),
        c.currency,
        c.effective_at,
    )
