"""Billing events + the account's cycle + catalog terms → proposed invoice items (pure).

The generator proposes, for every billing period of a window ending with the invoice's period,
everything the account *should* have been billed for it: recurring charges (in advance for the
current period and the earlier ones, in arrears for closed periods), trial prices, one-time
charges at the start, pending one-time charges (early termination). `reconcile` subtracts what
was billed already, so re-running proposes nothing new and a change in a past period becomes a
repair item. Every item carries a `key` — its business identity — that reconciliation groups on.

A piece of a period is priced `prorate(price × quantity, share)`, rounded once; the share is
exact (`proration.fraction_over`), 1 for a full period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from telbill.billing.events import LIVE, Segment, Status, SubscriptionFacts
from telbill.billing.occurrences import divides
from telbill.billing.periods import BillingCycle, Period, period_containing
from telbill.billing.proration import Interval, ProrationBasis, fraction_over, prorate
from telbill.catalog.charges import OneTimeCharge, OneTimeKind, RecurringCharge, TrialPhase
from telbill.catalog.offers import Offer, OfferVersion
from telbill.catalog.versions import version_for_cycle
from telbill.core.clock import zone
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money
from telbill.core.records import quick_init

_TICK = timedelta(microseconds=1)
_WHOLE = Fraction(1)  # immutable: one instance for every full period


@dataclass(frozen=True, slots=True)
class CycleRegime:
    """A bill cycle in force from `start` (None: since always) until the next regime."""

    start: datetime | None
    cycle: BillingCycle


@dataclass(frozen=True, slots=True)
class AccountBilling:
    """One account invoiced on the payer's invoice: its calendar and cycle history."""

    account_id: int
    number: str
    currency: str
    timezone: str
    regimes: tuple[CycleRegime, ...]

    def regime_at(self, instant: datetime) -> tuple[BillingCycle, datetime | None, datetime | None]:
        """The cycle in force at `instant`, with the bounds of its regime."""
        chosen, start, end = self.regimes[0].cycle, None, None
        for i, regime in enumerate(self.regimes):
            if regime.start is None or regime.start <= instant:
                chosen, start = regime.cycle, regime.start
                end = self.regimes[i + 1].start if i + 1 < len(self.regimes) else None
        return chosen, start, end


@quick_init
@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A billing period, clipped at a cycle change; `basis` is the whole cycle period it prorates on."""

    start: datetime
    end: datetime
    basis: Period

    @property
    def span(self) -> Period:
        return Period(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Window:
    """The periods an invoice looks at: the invoice's own period last."""

    periods: tuple[BillingPeriod, ...]

    @property
    def current(self) -> BillingPeriod:
        return self.periods[-1]

    @property
    def start(self) -> datetime:
        return self.periods[0].start


@quick_init
@dataclass(frozen=True, slots=True)
class ProposedItem:
    """An invoice item before it is a line: signed, rounded amount; `key` is its business identity."""

    key: str
    account_id: int
    subscription_id: int | None
    offer_code: str
    charge_code: str
    kind: str  # recurring | usage | one_time | minimum | proration | adjustment
    description: str
    service_start: datetime
    service_end: datetime
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_class: str = "telecom_service"
    unit_code: str = "C62"


def period_at_instant(account: AccountBilling, instant: datetime) -> BillingPeriod:
    """The billing period containing `instant`, clipped to the bounds of its cycle regime
    (cached per calendar: accounts with the same timezone and cycle history share it)."""
    return _period(account.timezone, account.regimes, instant)


@lru_cache(maxsize=65536)
def _period(tz: str, regimes: tuple[CycleRegime, ...], instant: datetime) -> BillingPeriod:
    account = AccountBilling(0, "", "", tz, regimes)
    cycle, regime_start, regime_end = account.regime_at(instant)
    whole = period_containing(cycle, zone(account.timezone), instant)
    start = max(whole.start, regime_start) if regime_start else whole.start
    end = min(whole.end, regime_end) if regime_end else whole.end
    return BillingPeriod(start, end, whole)


def window_for(account: AccountBilling, at: datetime, lookback: int = 3) -> Window:
    """The period containing `at` and the `lookback` periods before it (cached per calendar:
    accounts sharing a timezone and cycle history share their windows)."""
    return _window(account.timezone, account.regimes, at, lookback)


@lru_cache(maxsize=8192)
def _window(tz: str, regimes: tuple[CycleRegime, ...], at: datetime, lookback: int) -> Window:
    calendar = AccountBilling(0, "", "", tz, regimes)
    periods = [period_at_instant(calendar, at)]
    for _ in range(lookback):
        periods.insert(0, period_at_instant(calendar, periods[0].start - _TICK))
    return Window(tuple(periods))


def item_key(kind: str, subscription_id: int, offer: str, charge: str, period_start: datetime | None) -> str:
    when = _iso(period_start) if period_start else "once"
    return f"{kind}|{subscription_id}|{offer}|{charge}|{when}"


@lru_cache(maxsize=4096)
def _iso(instant: datetime) -> str:
    """Period starts are few and shared by every item of a run: format each once."""
    return instant.isoformat()


def _scale(charge_months: int | None, charge: RecurringCharge, cycle: BillingCycle) -> Fraction:
    """Price per billing period ÷ price per charge period (an annual fee on a monthly cycle: 1/12)."""
    cycle_months = cycle.count if cycle.unit == "month" else None
    if charge_months and cycle_months:
        return Fraction(cycle_months, charge_months)
    days = {"days": 1, "weeks": 7}.get(charge.period.unit.value)
    cycle_days = {"day": 1, "week": 7}.get(cycle.unit)
    if days and cycle_days:
        return Fraction(cycle.count * cycle_days, charge.period.count * days)
    raise ValidationFailed(
        f"charge {charge.code!r} is priced per {charge.period.count} {charge.period.unit.value}, "
        f"which does not divide a {cycle.count}-{cycle.unit} bill cycle"
    )


@quick_init
@dataclass(frozen=True, slots=True)
class Piece:
    """A part of one billing period with one billable state."""

    start: datetime
    end: datetime
    segment: Segment


def pieces(segments: Sequence[Segment], period: BillingPeriod, frozen_terms: bool) -> list[Piece]:
    """Live parts of the period. `frozen_terms` (change policy 'none'): the period is billed on the
    terms (offer, version, quantity) it started with — changes and a cancellation inside it move
    nothing; suspensions still do, and so does a trial's end (each piece keeps its own status)."""
    out = []
    for seg in segments:
        start = max(seg.start, period.start)
        end = min(seg.end, period.end) if seg.end else period.end
        if start < end and seg.status in LIVE:
            out.append(Piece(start, end, seg))
    if not frozen_terms or not out:
        return out
    first = out[0].segment
    frozen = [Piece(p.start, p.end, _on_terms_of(first, p.segment)) for p in out]
    last = segments[-1]
    if last.end is not None and last.end < period.end and last.status in LIVE:
        frozen[-1] = Piece(frozen[-1].start, period.end, frozen[-1].segment)  # ended inside: no credit
    return frozen


def _on_terms_of(first: Segment, seg: Segment) -> Segment:
    """`seg` (its status: trial or active) on the offer, version and quantity of `first`."""
    if seg.status is first.status:
        return first
    return replace(first, status=seg.status)


def _share(piece: Piece, period: BillingPeriod, basis: ProrationBasis, tz: str) -> Fraction:
    if piece.start == period.basis.start and piece.end == period.basis.end:
        return _WHOLE  # a full period is always the full price
    return fraction_over(Interval(piece.start, piece.end), [period.basis], basis, tz)


def _policy_frozen(offer: Offer) -> bool:
    return offer.proration.on_change.value == "none" and offer.plan_change.value == "immediate"


@dataclass(frozen=True, slots=True)
class Context:
    """What the recurring generator needs besides the subscription."""

    account: AccountBilling
    offers: Mapping[str, Offer]
    window: Window


_VERSIONS: dict[tuple[int, int, datetime], tuple[Offer, int, OfferVersion]] = {}


def version_billed(offer: Offer, subscribed: int, period: BillingPeriod) -> tuple[int, OfferVersion]:
    """The version billed for the period, remembered per (offer, subscribed version, period
    start); the entry holds the offer it was computed from, as `recurring_terms` does."""
    key = (id(offer), subscribed, period.basis.start)
    hit = _VERSIONS.get(key)
    if hit is not None and hit[0] is offer:
        return hit[1], hit[2]
    number = version_for_cycle(offer, subscribed, period.basis.start)
    if len(_VERSIONS) > 65536:
        _VERSIONS.clear()
    _VERSIONS[key] = (offer, number, offer.version(number))
    return number, _VERSIONS[key][2]


def _recurring_for(
    ctx: Context, sub: SubscriptionFacts, piece: Piece, period: BillingPeriod, closed: bool
) -> list[ProposedItem]:
    seg, account = piece.segment, ctx.account
    offer = ctx.offers[seg.offer_code]
    number, version = version_billed(offer, seg.offer_version, period)
    basis = ProrationBasis(offer.proration.basis.value)
    share = _share(piece, period, basis, account.timezone)
    cycle, _, _ = account.regime_at(period.start)
    items = []
    if seg.status is Status.TRIAL:
        trial = next((p for p in version.phases if isinstance(p, TrialPhase)), None)
        if trial is None or trial.price is None:
            return []
        price = Decimal(trial.price[account.currency])
        return [_item(ctx, sub, piece, period, "trial", f"{offer.name} — trial", price, share, number)]
    for code, label, price, in_advance, limit in recurring_terms(
        offer, number, version, account.currency, cycle
    ):
        if not in_advance and not closed:
            continue
        if limit is not None and period_number(account, sub.start_at, period, limit) > limit:
            continue  # instalments paid: the charge ended after `max_periods` periods
        items.append(_item(ctx, sub, piece, period, code, label, price, share, number))
    return items


def period_number(account: AccountBilling, started: datetime, period: BillingPeriod, limit: int) -> int:
    """1 for the period containing `started` (partial or not), 2 for the next, … counted on the
    account's calendar; any number above `limit` is returned as `limit + 1`."""
    n, current = 1, period_at_instant(account, started)
    while current.start < period.start and n <= limit:
        current, n = period_at_instant(account, current.end), n + 1
    return n


Terms = tuple[tuple[str, str, Decimal, bool, int | None], ...]
_TERMS: dict[tuple[int, int, str, BillingCycle], tuple[Offer, Terms]] = {}


def recurring_terms(
    offer: Offer, number: int, version: OfferVersion, currency: str, cycle: BillingCycle
) -> Terms:
    """(code, label, price per billing period, in advance, max periods) of each recurring charge,
    computed once per offer version, currency and cycle (the cache holds the offer it was built
    from, so a reloaded catalog is never answered from an older one)."""
    key = (id(offer), number, currency, cycle)
    hit = _TERMS.get(key)
    if hit is not None and hit[0] is offer:
        return hit[1]
    terms = []
    for charge in version.recurring_charges():
        if not divides(charge.period, cycle):
            continue  # billed per occurrence (`occurrence_charges.py`)
        per_period = Fraction(charge.price[currency]) * _scale(charge.period.in_months(), charge, cycle)
        price = Decimal(per_period.numerator) / Decimal(per_period.denominator)
        label = f"{offer.name} — {charge.name or charge.code}"
        terms.append((charge.code, label, price, charge.timing.value == "in_advance", charge.max_periods))
    if len(_TERMS) > 4096:
        _TERMS.clear()
    _TERMS[key] = (offer, tuple(terms))
    return tuple(terms)


def _item(
    ctx: Context,
    sub: SubscriptionFacts,
    piece: Piece,
    period: BillingPeriod,
    code: str,
    label: str,
    unit_price: Decimal,
    share: Fraction,
    version: int,
) -> ProposedItem:
    seg, currency = piece.segment, ctx.account.currency
    amount = _prorated(unit_price, seg.quantity, currency, share)
    kind = "recurring" if share == 1 else "proration"
    if share != 1:
        label = f"{label} (prorated {share.numerator}/{share.denominator})"
    return ProposedItem(
        key=item_key("rc", sub.id, seg.offer_code, code, period.start),
        account_id=sub.account_id,
        subscription_id=sub.id,
        offer_code=seg.offer_code,
        charge_code=code,
        kind=kind,
        description=f"{label} v{version}" if version > 1 else label,
        service_start=piece.start,
        service_end=piece.end,
        quantity=Decimal(seg.quantity),
        unit_price=unit_price,
        amount=amount,
    )


_PRORATED: dict[tuple[str, int, str, int, int], Decimal] = {}


def _prorated(unit_price: Decimal, quantity: int, currency: str, share: Fraction) -> Decimal:
    """`prorate(unit_price × quantity, share)`, remembered: the same fee and share recur on most
    invoices of a run. Keyed by the price's exact text, so the result keeps its exponent too."""
    key = (str(unit_price), quantity, currency, share.numerator, share.denominator)
    amount = _PRORATED.get(key)
    if amount is None:
        if len(_PRORATED) > 65536:
            _PRORATED.clear()
        amount = _PRORATED[key] = prorate(Money(unit_price * quantity, currency), share).amount
    return amount


def recurring_items(ctx: Context, sub: SubscriptionFacts, segments: Sequence[Segment]) -> list[ProposedItem]:
    """Recurring (and trial) items of every period of the window."""
    items: list[ProposedItem] = []
    current = ctx.window.current
    for period in ctx.window.periods:
        closed = period.end <= current.start
        first = next((s for s in segments if s.end is None or s.end > period.start), None)
        if first is None or first.start >= period.end:
            continue
        frozen = _policy_frozen(ctx.offers[first.offer_code])
        for piece in pieces(segments, period, frozen):
            items.extend(_recurring_for(ctx, sub, piece, period, closed))
    return items


def one_time_items(ctx: Context, sub: SubscriptionFacts, segments: Sequence[Segment]) -> list[ProposedItem]:
    """Activation and device charges of the version sold, when the subscription started in the window."""
    if not segments or not ctx.window.start <= segments[0].start < ctx.window.current.end:
        return []
    seg = segments[0]
    offer = ctx.offers[seg.offer_code]
    version = offer.version(seg.offer_version)
    items = []
    for charge in version.charges:
        if not isinstance(charge, OneTimeCharge) or charge.kind is OneTimeKind.EARLY_TERMINATION:
            continue
        price = Decimal(charge.price[ctx.account.currency])
        amount = Money(price * seg.quantity, ctx.account.currency).rounded().amount
        items.append(
            ProposedItem(
                key=item_key("ot", sub.id, seg.offer_code, charge.code, None),
                account_id=sub.account_id,
                subscription_id=sub.id,
                offer_code=seg.offer_code,
                charge_code=charge.code,
                kind="one_time",
                description=f"{offer.name} — {charge.name or charge.code}",
                service_start=seg.start,
                service_end=seg.start,
                quantity=Decimal(seg.quantity),
                unit_price=price,
                amount=amount,
                tax_class="device" if charge.kind is OneTimeKind.DEVICE else "telecom_service",
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class PendingChargeFacts:
    """A one-time charge owed (early termination fee) from `subscription_pending_charges`."""

    id: int
    subscription_id: int
    account_id: int
    code: str
    description: str
    amount: Decimal
    currency: str
    effective_at: datetime


def pending_charge_items(charges: Sequence[PendingChargeFacts], window: Window) -> list[ProposedItem]:
    """Pending charges effective before the invoice period ends."""
    return [
        ProposedItem(
            key=f"pc|{c.id}",
            account_id=c.account_id,
            subscription_id=c.subscription_id,
            offer_code="",
            charge_code=c.code,
            kind="one_time",
            description=c.description,
            service_start=c.effective_at,
            service_end=c.effective_at,
            quantity=Decimal(1),
            unit_price=c.amount,
            amount=c.amount,
        )
        for c in charges
        if c.effective_at < window.current.end
    ]
