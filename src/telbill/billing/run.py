"""The bill run: plan the (payer, period) items due at an instant, then bill them in batches.

- `plan_run` records a `bill_runs` row and one `bill_run_items` row per payer account whose
  period containing `at` is due (a period starting on or after its first subscription, never
  planned before). The unique (account, period start) makes planning idempotent.
- `process_batch` claims up to `batch_size` pending items (SKIP LOCKED on PostgreSQL), loads
  their inputs with a handful of queries, computes every invoice in pure code, writes them and
  marks the items done — all in the caller's transaction. A crash rolls everything back: the
  items are pending again and no invoice number was consumed.
- `bill_run` does both in one transaction (the scheduler's job and tests); the CLI commits the
  plan, then each batch, from several workers.

Invoices are drafts keyed by (payer, period) in the invoice store (`draft_key`), so even a
replay that got past the claim would find the invoice it wrote.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from telbill.billing import repository
from telbill.billing.assemble import Assembled, AssembleRequest, CreditHandling, assemble
from telbill.billing.charges import AccountBilling, BillingPeriod, CycleRegime, period_at_instant
from telbill.billing.generator import DEFAULT_LOOKBACK, propose
from telbill.billing.golive import go_live_at
from telbill.billing.loading import (
    BatchSources,
    LoadedInvoice,
    children_map,
    default_usage_source,
    load_batch,
)
from telbill.billing.model import BillRun
from telbill.billing.periods import BillingCycle, period_index
from telbill.billing.taxes import EuVatEngine, Seller, TaxEngine
from telbill.billing.writing import BulkWriter, InvoiceWriter, Written, without_rates
from telbill.core.clock import Clock, ensure_utc, zone
from telbill.core.errors import TelbillError
from telbill.core.settings import Seller as SellerSettings
from telbill.invoicing.content import Party
from telbill.invoicing.schemas import FinalisePolicy

_TICK = timedelta(microseconds=1)
PLAN_CHUNK = 10_000  # accounts per committed planning step (`plan_items` with a checkpoint)


@dataclass(frozen=True)
class BillRunOptions:
    """How a run bills. `auto_finalise` False leaves drafts for review."""

    seller: SellerSettings = field(default_factory=SellerSettings)
    batch_size: int = 1000
    auto_finalise: bool = True
    finalise_policy: FinalisePolicy = field(default_factory=FinalisePolicy)
    credit_handling: CreditHandling = CreditHandling.INVOICE_LINE
    lookback: int = DEFAULT_LOOKBACK
    engine: TaxEngine = field(default_factory=EuVatEngine)
    trigger: str = "cli"


@dataclass
class BatchResult:
    claimed: int = 0
    invoices: int = 0
    credit_notes: int = 0
    drafts: int = 0
    empty: int = 0
    failed: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("claimed", "invoices", "credit_notes", "drafts", "empty", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, amount in other.totals.items():
            self.totals[code] = self.totals.get(code, Decimal(0)) + amount
        self.errors += other.errors


# planning ----------------------------------------------------------------------------------------


def _first_due(account: AccountBilling, earliest: datetime) -> datetime:
    """The first period start on or after the account's first subscription started (or its go-live,
    when later: a period straddling the go-live is billed from it at the next boundary, like a
    subscription started that day)."""
    period = period_at_instant(account, earliest)
    return period.start if period.start == earliest else period.end


def _accounts(
    session: Session, ids: Sequence[int] | None = None
) -> list[tuple[AccountBilling, datetime | None]]:
    """Payers' calendars, each with its go-live instant (None: billed from its subscriptions' start)."""
    changes: dict[int, list] = {}  # type: ignore[type-arg]
    for c in repository.cycle_changes(session, ids):
        changes.setdefault(c.billing_account_id, []).append(c)
    out = []
    for row in repository.payer_rows(session, ids):
        cycle = BillingCycle(row.cycle_unit, row.cycle_count, row.bill_cycle_day, row.cycle_anchor)
        regimes: tuple[CycleRegime, ...] = (CycleRegime(None, cycle),)
        if row.id in changes:
            from telbill.billing.loading import regimes_of

            regimes = regimes_of(cycle, changes[row.id])
        account = AccountBilling(row.id, "", row.currency, row.timezone, regimes)
        out.append((account, go_live_at(row.billing_start, row.timezone)))
    return out


def _earliest(session: Session, ids: Sequence[int] | None = None) -> dict[int, datetime]:
    """Earliest subscription start per payer, children included."""
    kids_of = children_map(session)
    wanted = None if ids is None else {a for p in ids for a in (p, *kids_of.get(p, []))}
    starts = repository.earliest_starts(session, wanted)
    for payer, kids in kids_of.items():
        times = [starts[k] for k in (payer, *kids) if k in starts]
        if times:
            starts[payer] = min(times)
    return starts


def has_been_billed(session: Session, account_id: int) -> bool:
    """True once a bill run planned a period for the account or for the payer whose invoice carries
    it (the accounts context asks before moving a go-live date)."""
    from telbill.accounts import payer_of

    return repository.has_items(session, {account_id, payer_of(session, account_id).id})


def next_due(session: Session, ids: Sequence[int] | None = None) -> list[tuple[AccountBilling, datetime]]:
    """Each payer's next period start to bill (whatever the time now); `ids` limits the payers."""
    earliest, planned = _earliest(session, ids), repository.planned_periods(session, ids)
    out = []
    for account, go_live in _accounts(session, ids):
        if account.account_id not in earliest:
            continue
        due = _first_due(account, max(earliest[account.account_id], go_live or earliest[account.account_id]))
        last = planned.get(account.account_id)
        if last is not None and last >= due:
            due = period_at_instant(account, last).end
        out.append((account, due))
    return out


def due_at(
    session: Session, at: datetime, ids: Sequence[int] | None = None
) -> list[tuple[AccountBilling, BillingPeriod]]:
    """Payers whose period containing `at` is due and not planned yet (account by account)."""
    at = ensure_utc(at)
    out = []
    for account, due in next_due(session, ids):
        period = period_at_instant(account, at)
        if due <= period.start:
            out.append((account, period))
    return out


def plan_run(session: Session, clock: Clock, at: datetime, trigger: str = "cli") -> tuple[int, int]:
    """(run id, items planned), in the caller's transaction. Resumes: a run still open keeps its
    pending items."""
    run = open_run(session, clock, at, trigger)
    return run.id, plan_items(session, run)


def open_run(session: Session, clock: Clock, at: datetime, trigger: str = "cli") -> BillRun:
    """A new `bill_runs` row, nothing planned yet."""
    run = BillRun(target_at=ensure_utc(at), state="running", trigger=trigger, started_at=clock.now())
    return repository.add_run(session, run)


def plan_items(
    session: Session, run: BillRun, checkpoint: Callable[[int], None] | None = None, chunk: int = PLAN_CHUNK
) -> int:
    """Plan the run's items; the count planned.

    Payers with a plain calendar (no cycle history, no consolidated children) are planned with
    one INSERT … SELECT per distinct calendar, whose period containing `at` is computed once:
    due when a subscription started by the period's start and nothing is planned from it on
    (the first period start on or after the earliest subscription is at or before the period's
    start exactly when that subscription started at or before it). The few others go account by
    account (`due_at`).

    With a `checkpoint` (which commits), payers go by ranges of `chunk` account ids and the
    checkpoint follows each range with the count it planned: workers bill the first ranges while
    the next are planned (`billing.parallel`). A plan cut short is finished by the next run, as
    planning skips what any run planned."""
    at, run_id = ensure_utc(run.target_at), run.id
    calendars = []
    for calendar in repository.simple_calendars(session):
        tz, unit, count, day, anchor = calendar
        regimes = (CycleRegime(None, BillingCycle(unit, count, day, anchor)),)
        calendars.append((calendar, period_at_instant(AccountBilling(0, "", "", tz, regimes), at)))
    ranges = repository.payer_id_ranges(session, chunk) if checkpoint else [None]
    planned = 0
    for ids in ranges:
        n = sum(repository.plan_calendar(session, run_id, c, p.start, p.end, ids) for c, p in calendars)
        planned += n
        if checkpoint is not None:
            checkpoint(n)
    others = repository.complex_payer_ids(session)
    due = due_at(session, at, others) if others else []
    rows = [
        {
            "run_id": run_id,
            "account_id": a.account_id,
            "period_start": p.start,
            "period_end": p.end,
            "state": "pending",
        }
        for a, p in due
    ]
    repository.insert_items(session, rows)
    planned += len(rows)
    repository.get_run(session, run_id).planned = planned  # type: ignore[union-attr]
    session.flush()
    if checkpoint is not None:
        checkpoint(len(rows))
    return planned


def resume_runs(session: Session) -> list[int]:
    """Open runs, with their failed or stale items made pending again."""
    ids = repository.open_run_ids(session)
    for run_id in ids:
        repository.reset_failed(session, run_id)
    return ids


# billing a batch -----------------------------------------------------------------------------------


_SELLERS: dict[int, tuple[BillRunOptions, Seller, Party]] = {}


def _seller(options: BillRunOptions) -> tuple[Seller, Party]:
    """The seller for the tax engine and as the invoice shows it, built once per options."""
    hit = _SELLERS.get(id(options))
    if hit is None or hit[0] is not options:
        if len(_SELLERS) > 64:
            _SELLERS.clear()
        from telbill.invoicing.service import seller_party

        seller = options.seller
        hit = _SELLERS[id(options)] = (
            options,
            Seller(seller.country, seller.vat_number or None),
            seller_party(seller),
        )
    return hit[1], hit[2]


def _cycle_number(account: AccountBilling, period: BillingPeriod) -> int:
    cycle, _, _ = account.regime_at(period.start)
    return period_index(cycle, zone(account.timezone), period.basis.start) + 1


def compute(
    loaded: LoadedInvoice,
    offers: dict,
    at: datetime,
    options: BillRunOptions,
    discounts: Sequence = (),  # type: ignore[type-arg]
    child_discounts: Mapping[int, Sequence] | None = None,  # type: ignore[type-arg]
) -> Assembled | None:
    """The invoice of one payer (pure): None when it owes nothing new."""
    proposal = propose(loaded.inputs, offers, at, options.lookback, loaded.window)
    if not proposal.items:
        return None
    seller, party = _seller(options)
    request = AssembleRequest(
        items=proposal.items,
        window=proposal.window,
        facts=loaded.facts,
        seller=seller,
        seller_party=party,
        engine=options.engine,
        discounts=discounts,
        cycle_number=_cycle_number(loaded.inputs.payer, proposal.window.current),
        used=[u for u in proposal.used if u.period_start >= proposal.window.periods[-2].start]
        if len(proposal.window.periods) > 1
        else [],
        children=loaded.inputs.children,
        credit_handling=options.credit_handling,
        child_discounts={c: child_discounts[c] for c in loaded.inputs.children if child_discounts.get(c)}
        if child_discounts
        else {},
    )
    return assemble(request)


def discounts_for(
    session: Session, loaded: Sequence[LoadedInvoice], at: datetime, lookback: int
) -> dict[int, list]:  # type: ignore[type-arg]
    """Active discounts per payer and per consolidated child (with the payer's cycle number, since
    the child is billed on its calendar), asked once per distinct invoice period."""
    try:
        from telbill.promotions import active_discounts
    except ImportError:  # pragma: no cover
        return {}
    groups: dict[tuple[datetime, datetime], dict[int, int]] = {}
    for item in loaded:
        current = period_at_instant(item.inputs.payer, at)
        cycle = _cycle_number(item.inputs.payer, current)
        group = groups.setdefault((current.start, current.end), {})
        for account in (item.inputs.payer.account_id, *item.inputs.children):
            group[account] = cycle
    out: dict[int, list] = {}  # type: ignore[type-arg]
    for (start, end), cycles in groups.items():
        out.update(active_discounts(session, list(cycles), start, end, cycle_numbers=cycles))
    return out


def process_batch(
    session: Session,
    clock: Clock,
    run_ids: Sequence[int],
    options: BillRunOptions,
    sources: BatchSources | None = None,
    writer: InvoiceWriter | None = None,
    worker: str = "w0",
    limit: int | None = None,
) -> BatchResult:
    """Claim (up to `limit`, default the options' batch size), compute, write and mark one
    batch; the caller commits."""
    with _collector_paused():
        return _process_batch(session, clock, run_ids, options, sources, writer, worker, limit)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one batch: a batch allocates hundreds of thousands of
    short-lived containers (rows, items, lines), which set off collections that walk the whole
    heap again and again (~14 % of a batch's CPU). Reference counting still frees them; cycles
    left behind are collected once the collector is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _process_batch(session, clock, run_ids, options, sources, writer, worker, limit) -> BatchResult:  # type: ignore[no-untyped-def]
    items = repository.claim(session, run_ids, limit or options.batch_size)
    result = BatchResult(claimed=len(items))
    if not items:
        return result
    sources = sources or BatchSources(default_usage_source(session))
    writer = writer or BulkWriter()
    by_period: dict[datetime, list] = {}  # type: ignore[type-arg]
    for it in items:
        by_period.setdefault(it.period_start, []).append(it)
    marks = []
    for start, group in by_period.items():
        marks += _bill_group(session, clock, group, start, options, sources, writer, worker, result)
    repository.mark_items(session, marks)
    return result


def _bill_group(session, clock, group, start, options, sources, writer, worker, result):  # type: ignore[no-untyped-def]
    at = start
    loaded, offers = load_batch(session, [it.account_id for it in group], at, sources, options.lookback)
    discounts = discounts_for(session, loaded, at, options.lookback)
    computed: list[tuple[LoadedInvoice, Assembled]] = []
    marks = []
    by_account = {it.account_id: it for it in group}
    for entry in loaded:
        payer = entry.inputs.payer.account_id
        try:
            invoice = compute(entry, offers, at, options, discounts.get(payer, ()), discounts)
        except TelbillError as exc:
            result.failed += 1
            result.errors.append(f"account {payer}: {exc}")
            marks.append(_mark(by_account[payer].id, "failed", worker, clock, error=str(exc)[:500]))
            continue
        if invoice is None:
            result.empty += 1
            marks.append(_mark(by_account[payer].id, "done", worker, clock))
            continue
        computed.append((entry, invoice))
    computed, refused = without_rates(session, clock, computed, options)
    for entry, error in refused:  # no exchange rate for the VAT in the accounting currency
        payer = entry.inputs.payer.account_id
        result.failed += 1
        result.errors.append(f"account {payer}: {error}")
        marks.append(_mark(by_account[payer].id, "failed", worker, clock, error=error[:500]))
    written = writer.write(session, clock, computed, options)
    for entry, invoice in computed:
        payer = entry.inputs.payer.account_id
        w: Written = written[payer]
        _count(result, invoice, w)
        marks.append(_mark(by_account[payer].id, "done", worker, clock, invoice_id=w.invoice_id))
    repository.mark_charges_billed(session, [i for e, _ in computed for i in e.pending_ids])
    return marks


def _count(result: BatchResult, invoice: Assembled, w: Written) -> None:
    if w.state == "draft":
        result.drafts += 1
    elif invoice.content.document_type.value == "381":
        result.credit_notes += 1
    else:
        result.invoices += 1
    code = invoice.content.currency
    result.totals[code] = result.totals.get(code, Decimal(0)) + invoice.content.totals.grand_total


def _mark(item_id: int, state: str, worker: str, clock: Clock, **extra: object) -> dict[str, object]:
    return {"id": item_id, "state": state, "worker": worker, "finished_at": clock.now(), **extra}


def finish_run(session: Session, clock: Clock, run_id: int) -> None:
    run = repository.get_run(session, run_id)
    if run is not None and repository.pending_left(session, run_id) == 0:
        run.state, run.finished_at = "done", clock.now()
        session.flush()


def bill_run(
    session: Session,
    clock: Clock,
    at: datetime | None = None,
    options: BillRunOptions | None = None,
    sources: BatchSources | None = None,
) -> BatchResult:
    """Plan and bill everything due at `at` (default now) in the caller's transaction."""
    options = options or BillRunOptions()
    at = ensure_utc(at or clock.now())
    run_id, _ = plan_run(session, clock, at, options.trigger)
    total = BatchResult()
    started = time.perf_counter()
    while True:
        batch = process_batch(session, clock, [run_id], options, sources)
        if not batch.claimed:
            break
        total.add(batch)
    finish_run(session, clock, run_id)
    del started
    return total
