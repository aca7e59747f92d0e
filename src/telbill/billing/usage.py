"""The usage port and the pricing of usage in arrears (pure, apart from the Protocol).

`UsageSource.aggregates(account_ids, start, end)` returns rated usage summed per account,
subscription, charge and period (`InMemoryUsage` is the fake). For each closed billing period
and usage charge:

- tariff-based charges (`tariff:`): the rated amounts are summed (integer micros) and rounded once;
- model-priced charges (`pricing:`): the allowance is taken off the **period's total** first —
  prorated by the live share of the period (a subscription live half the period gets half its
  allowance), pooled across the invoice when `shared: family` — and what is left is priced with
  the catalog model (tiers apply to that total), rounded once.

Quantities are compared in base units (seconds, events, bytes), so a 20 GB allowance meets MB usage.
Minimum commitments bill the shortfall of a closed period (`true_up`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from telbill.billing.charges import (
    BillingPeriod,
    Context,
    ProposedItem,
    _share,
    item_key,
    pieces,
    version_billed,
)
from telbill.billing.events import Segment, SubscriptionFacts
from telbill.billing.proration import ProrationBasis
from telbill.catalog.charges import Allowance, MinimumCommitment, UsageCharge
from telbill.catalog.offers import OfferVersion
from telbill.catalog.pricing import price_of
from telbill.catalog.units import Unit, base_units
from telbill.core.money import Money


@dataclass(frozen=True, slots=True)
class UsageAggregate:
    """Rated usage of one subscription and charge in one period (or a finer slice of it)."""

    account_id: int
    subscription_id: int
    charge_code: str
    usage_type: str
    period_start: datetime
    quantity: Decimal  # in `unit`
    unit: str
    amount_micros: int = 0  # rated amount, for tariff-based charges
    events: int = 0
    destination: str = ""


class UsageSource(Protocol):
    def aggregates(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[UsageAggregate]:
        """Aggregates of these accounts whose `period_start` is in `[start, end)`."""
        ...


class InMemoryUsage:
    """A fake usage source for tests, previews and benchmarks (indexed by account)."""

    def __init__(self, aggregates: Sequence[UsageAggregate] = ()) -> None:
        self.by_account: dict[int, list[UsageAggregate]] = {}
        for aggregate in aggregates:
            self.add(aggregate)

    @property
    def rows(self) -> list[UsageAggregate]:
        return [a for rows in self.by_account.values() for a in rows]

    def add(self, aggregate: UsageAggregate) -> None:
        self.by_account.setdefault(aggregate.account_id, []).append(aggregate)

    def aggregates(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[UsageAggregate]:
        return [
            a for acc in account_ids for a in self.by_account.get(acc, ()) if start <= a.period_start < end
        ]


@dataclass(slots=True)
class Demand:
    """One usage charge of one subscription in one closed period, before allowances."""

    subscription: SubscriptionFacts
    period: BillingPeriod
    offer_code: str
    version: OfferVersion
    charge: UsageCharge
    used_base: Decimal  # base units
    micros: int
    share: Fraction  # live share of the period, for the allowance
    free_base: Decimal = Decimal(0)


def _base(quantity: Decimal, unit: str) -> Decimal:
    return quantity * base_units(Unit(unit))


def _live(
    ctx: Context, segments: Sequence[Segment], period: BillingPeriod
) -> tuple[Segment, Fraction] | None:
    parts = pieces(segments, period, frozen_terms=False)
    if not parts:
        return None
    offer = ctx.offers[parts[-1].segment.offer_code]
    basis = ProrationBasis(offer.proration.basis.value)
    if len(parts) == 1:
        return parts[0].segment, _share(parts[0], period, basis, ctx.account.timezone)
    share = sum((_share(p, period, basis, ctx.account.timezone) for p in parts), Fraction(0))
    return parts[-1].segment, share


def demands(
    ctx: Context,
    sub: SubscriptionFacts,
    segments: Sequence[Segment],
    usage: Sequence[UsageAggregate],
) -> list[Demand]:
    """The usage charges of every closed period of the window for one subscription."""
    out = []
    for period in ctx.window.periods[:-1]:
        live = _live(ctx, segments, period)
        if live is None:
            continue
        seg, share = live
        offer = ctx.offers[seg.offer_code]
        _, version = version_billed(offer, seg.offer_version, period)
        for charge in (c for c in version.charges if isinstance(c, UsageCharge)):
            rows = [
                u
                for u in usage
                if u.charge_code == charge.code and period.start <= u.period_start < period.end
            ]
            used = sum((_base(u.quantity, u.unit) for u in rows), Decimal(0))
            micros = sum(u.amount_micros for u in rows)
            out.append(Demand(sub, period, seg.offer_code, version, charge, used, micros, share))
    return out


def _allowance_for(version: OfferVersion, charge: UsageCharge) -> Allowance | None:
    return next((a for a in version.allowances if a.usage_type == charge.usage_type), None)


_GRANTED: dict[tuple[int, Fraction], tuple[Allowance, Decimal | None]] = {}


def _granted(allowance: Allowance, share: Fraction) -> Decimal | None:
    """Base units granted for the live share of the period; None means unlimited. Remembered per
    (allowance, share), held with the allowance it was computed from: most subscriptions of a run
    get the same allowance for a whole period."""
    key = (id(allowance), share)
    hit = _GRANTED.get(key)
    if hit is not None and hit[0] is allowance:
        return hit[1]
    if allowance.unlimited or allowance.quantity is None or allowance.unit is None:
        granted = None
    else:
        whole = Fraction(_base(Decimal(allowance.quantity), allowance.unit.value)) * share
        granted = Decimal(whole.numerator) / Decimal(whole.denominator)
    if len(_GRANTED) > 65536:
        _GRANTED.clear()
    _GRANTED[key] = (allowance, granted)
    return granted


def apply_allowances(all_demands: Sequence[Demand]) -> None:
    """Set each demand's free quantity: its own allowance, or the family pool (subscription order)."""
    pools: dict[tuple[datetime, str, str], Decimal] = {}
    pooled: list[tuple[Demand, tuple[datetime, str, str]]] = []
    for d in all_demands:
        allowance = _allowance_for(d.version, d.charge)
        if allowance is None or d.charge.tariff is not None:
            continue
        granted = _granted(allowance, d.share)
        if granted is None:
            d.free_base = d.used_base
        elif allowance.shared.value == "family":
            key = (d.period.start, d.charge.usage_type.value, allowance.code)
            pools[key] = pools.get(key, Decimal(0)) + granted
            pooled.append((d, key))
        else:
            d.free_base = min(d.used_base, granted)
    for d, key in sorted(pooled, key=lambda p: p[0].subscription.id):
        d.free_base = min(d.used_base, pools[key])
        pools[key] -= d.free_base


def _describe(quantity: Decimal, unit: str) -> str:
    return f"{quantity.normalize():f} {unit}"


def price_demand(d: Demand, currency: str) -> ProposedItem:
    """The usage item of one demand, rounded once."""
    charge = d.charge
    unit = charge.unit.value
    billable = (d.used_base - d.free_base) / base_units(charge.unit)
    if charge.tariff is not None:
        amount = Money.from_micros(d.micros, currency).rounded().amount
        billable = d.used_base / base_units(charge.unit)
    else:
        assert charge.pricing is not None
        base_amount = Decimal(d.micros) / Decimal(1_000_000)
        amount = (
            price_of(charge.pricing, currency, billable, base_amount=base_amount).money().rounded().amount
        )
    label = charge.name or charge.code
    free = d.free_base / base_units(charge.unit)
    detail = f"{_describe(billable, unit)}" + (f" after {_describe(free, unit)} included" if free else "")
    return ProposedItem(
        key=item_key("us", d.subscription.id, d.offer_code, charge.code, d.period.start),
        account_id=d.subscription.account_id,
        subscription_id=d.subscription.id,
        offer_code=d.offer_code,
        charge_code=charge.code,
        kind="usage",
        description=f"{label}: {detail}",
        service_start=d.period.start,
        service_end=d.period.end,
        quantity=billable,
        unit_price=_unit_price(amount, billable),
        amount=amount,
        unit_code=UNIT_CODES.get(unit, "C62"),
    )


def _unit_price(amount: Decimal, quantity: Decimal) -> Decimal:
    """An average price per unit for display (EN 16931 allows more decimals than the currency)."""
    if not quantity:
        return abs(amount)
    return abs(amount / quantity).quantize(Decimal("0.000001"))


UNIT_CODES = {"seconds": "SEC", "minutes": "MIN", "hours": "HUR", "MB": "4L", "GB": "E34", "KB": "2P"}


def minimum_items(
    ctx: Context, demands_: Sequence[Demand], items: Sequence[ProposedItem]
) -> list[ProposedItem]:
    """True-up of minimum commitments: the shortfall of each closed period, prorated by live share."""
    out = []
    seen: set[tuple[int, datetime]] = set()
    for d in demands_:
        if (d.subscription.id, d.period.start) in seen:
            continue
        seen.add((d.subscription.id, d.period.start))
        for commit in (c for c in d.version.charges if isinstance(c, MinimumCommitment) and c.true_up):
            out.extend(_shortfall(ctx, d, commit, items))
    return out


def _shortfall(
    ctx: Context, d: Demand, commit: MinimumCommitment, items: Sequence[ProposedItem]
) -> list[ProposedItem]:
    kinds = ("usage",) if commit.applies_to.value == "usage" else ("usage", "recurring", "proration")
    spent = sum(
        (
            i.amount
            for i in items
            if i.subscription_id == d.subscription.id
            and i.kind in kinds
            and d.period.start <= i.service_start < d.period.end
        ),
        Decimal(0),
    )
    floor = Fraction(commit.amount[ctx.account.currency]) * d.share
    owed = Money(Decimal(floor.numerator) / Decimal(floor.denominator), ctx.account.currency).rounded().amount
    if owed <= spent:
        return []
    return [
        ProposedItem(
            key=item_key("mc", d.subscription.id, d.offer_code, commit.code, d.period.start),
            account_id=d.subscription.account_id,
            subscription_id=d.subscription.id,
            offer_code=d.offer_code,
            charge_code=commit.code,
            kind="minimum",
            description=f"{commit.name or 'Minimum commitment'} {owed} — true-up of {spent} spent",
            service_start=d.period.start,
            service_end=d.period.end,
            quantity=Decimal(1),
            unit_price=owed - spent,
            amount=owed - spent,
        )
    ]


def usage_items(
    ctx: Context,
    subscriptions: Sequence[tuple[SubscriptionFacts, Sequence[Segment]]],
    usage: Mapping[int, Sequence[UsageAggregate]],
) -> tuple[list[ProposedItem], list[Demand]]:
    """Usage items of an invoice's subscriptions (allowances pooled across them)."""
    all_demands = [d for sub, segs in subscriptions for d in demands(ctx, sub, segs, usage.get(sub.id, ()))]
    apply_allowances(all_demands)
    return [price_demand(d, ctx.account.currency) for d in all_demands], all_demands
