"""Promotion effectiveness: what each coupon brought, computed over plain rows.

Per coupon, for the redemptions made in the report window:

- redemptions over time, per week (ISO, from Monday) or calendar month, in UTC;
- discount granted: the sum of what its redemptions took off invoices, per currency;
- revenue of the redeeming accounts: their invoiced net totals after discounts (credit notes
  count negative), issued from their redemption on, per currency — when an invoice source is given;
- retention: the share of redeeming accounts that still hold a running subscription
  `retention_days` after redeeming, against comparable accounts that never redeemed a coupon.
  Comparable means the same segment, country and creation week/month as a redeeming account;
  such an account is measured from the first redemption in its group (or from its own creation
  if later). Only accounts whose measuring day has passed (`as_of`) are counted.

`coupon_effectiveness(data, ...)` is pure; `load_effectiveness_data(session, ...)` reads the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

from telbill.core.clock import ensure_utc
from telbill.core.errors import ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Granularity = Literal["week", "month"]
SHARE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class RedemptionFact:
    coupon_code: str
    account_id: int
    redeemed_at: datetime
    redemption_id: int = 0


@dataclass(frozen=True, slots=True)
class ApplicationFact:
    redemption_id: int
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class AccountFact:
    account_id: int
    segment: str | None
    country: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionFact:
    account_id: int
    start_at: datetime
    end_at: datetime | None  # None: still running


@dataclass(frozen=True, slots=True)
class InvoiceFact:
    account_id: int
    issued_at: datetime
    currency: str
    net_after_discounts: Decimal  # negative for a credit note


@dataclass(frozen=True, slots=True)
class EffectivenessData:
    coupons: Mapping[str, str]  # code → name
    redemptions: Sequence[RedemptionFact]
    applications: Sequence[ApplicationFact]
    accounts: Sequence[AccountFact]
    subscriptions: Sequence[SubscriptionFact]
    invoices: Sequence[InvoiceFact] | None = None  # None: no invoice source
    ever_redeemed: frozenset[int] = frozenset()  # every account that redeemed any coupon, any time


@dataclass(frozen=True, slots=True)
class Retention:
    retained: int = 0
    measured: int = 0

    @property
    def share(self) -> Decimal | None:
        return None if not self.measured else (Decimal(self.retained) / self.measured).quantize(SHARE)


@dataclass(frozen=True, slots=True)
class CouponEffectiveness:
    code: str
    name: str
    redemptions: int
    accounts: int
    over_time: tuple[tuple[date, int], ...]
    discount_granted: Mapping[str, Decimal]
    revenue: Mapping[str, Decimal] | None
    retention: Retention
    comparable: Retention
    details: Mapping[str, object] = field(default_factory=dict)


def bucket_of(instant: datetime, granularity: Granularity) -> date:
    day = ensure_utc(instant).date()
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def running_at(spans: Iterable[SubscriptionFact], instant: datetime) -> bool:
    return any(s.start_at <= instant and (s.end_at is None or instant < s.end_at) for s in spans)


def coupon_effectiveness(
    data: EffectivenessData,
    *,
    as_of: datetime,
    granularity: Granularity = "month",
    retention_days: int = 90,
) -> list[CouponEffectiveness]:
    """One row per coupon of `data.coupons`, in code order (see the module docstring)."""
    if granularity not in ("week", "month"):
        raise ValidationFailed(f"granularity is week or month, not {granularity!r}")
    if retention_days < 1:
        raise ValidationFailed("retention is measured at least one day after redemption")
    as_of = ensure_utc(as_of)
    spans: dict[int, list[SubscriptionFact]] = defaultdict(list)
    for s in data.subscriptions:
        spans[s.account_id].append(s)
    by_coupon: dict[str, list[RedemptionFact]] = defaultdict(list)
    for r in data.redemptions:
        by_coupon[r.coupon_code].append(r)
    context = _Context(data, spans, as_of, granularity, timedelta(days=retention_days))
    return [context.row(code, name, by_coupon.get(code, [])) for code, name in sorted(data.coupons.items())]


@dataclass
class _Context:
    data: EffectivenessData
    spans: Mapping[int, list[SubscriptionFact]]
    as_of: datetime
    granularity: Granularity
    after: timedelta

    def row(self, code: str, name: str, redemptions: list[RedemptionFact]) -> CouponEffectiveness:
        first = _first_redemption_per_account(redemptions)
        counts: dict[date, int] = defaultdict(int)
        for r in redemptions:
            counts[bucket_of(r.redeemed_at, self.granularity)] += 1
        return CouponEffectiveness(
            code=code,
            name=name,
            redemptions=len(redemptions),
            accounts=len(first),
            over_time=tuple(sorted(counts.items())),
            discount_granted=self._granted({r.redemption_id for r in redemptions}),
            revenue=self._revenue(first),
            retention=self._retention(first.items()),
            comparable=self._retention(self._comparable(first).items()),
        )

    def _granted(self, redemption_ids: set[int]) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for a in self.data.applications:
            if a.redemption_id in redemption_ids:
                totals[a.currency] += a.amount
        return dict(sorted(totals.items()))

    def _revenue(self, first: Mapping[int, datetime]) -> dict[str, Decimal] | None:
        if self.data.invoices is None:
            return None
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for inv in self.data.invoices:
            since = first.get(inv.account_id)
            if since is not None and since <= inv.issued_at <= self.as_of:
                totals[inv.currency] += inv.net_after_discounts
        return dict(sorted(totals.items()))

    def _retention(self, references: Iterable[tuple[int, datetime]]) -> Retention:
        retained = measured = 0
        for account_id, reference in references:
            when = reference + self.after
            if when > self.as_of:
                continue
            measured += 1
            retained += running_at(self.spans.get(account_id, ()), when)
        return Retention(retained, measured)

    def _comparable(self, first: Mapping[int, datetime]) -> dict[int, datetime]:
        """Non-redeeming accounts in a redeemer's (segment, country, creation bucket), with their start."""
        accounts = {a.account_id: a for a in self.data.accounts}
        earliest: dict[tuple[str | None, str, date], datetime] = {}
        for account_id, at in first.items():
            if account_id in accounts:
                key = self._stratum(accounts[account_id])
                earliest[key] = min(at, earliest.get(key, at))
        excluded = self.data.ever_redeemed | set(first)
        return {
            a.account_id: max(earliest[self._stratum(a)], a.created_at)
            for a in self.data.accounts
            if a.account_id not in excluded and self._stratum(a) in earliest
        }

    def _stratum(self, account: AccountFact) -> tuple[str | None, str, date]:
        return account.segment, account.country, bucket_of(account.created_at, self.granularity)


def _first_redemption_per_account(redemptions: Iterable[RedemptionFact]) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    for r in redemptions:
        first[r.account_id] = min(r.redeemed_at, first.get(r.account_id, r.redeemed_at))
    return first


# --- loading -------------------------------------------------------------------------------------


class InvoiceSource(Protocol):
    """Where revenue comes from: the invoice store, or a fake in tests."""

    def invoices_of(self, session: Session, account_ids: Sequence[int]) -> Sequence[InvoiceFact]: ...


class InvoiceStoreRevenue:
    """Revenue read from the invoice store (finalised invoices; credit notes count negative)."""

    def invoices_of(self, session: Session, account_ids: Sequence[int]) -> list[InvoiceFact]:
        from telbill.promotions import issued_invoice_totals

        return [InvoiceFact(*row) for row in issued_invoice_totals(session, account_ids)]


def load_effectiveness_data(
    session: Session,
    *,
    code: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    invoices: InvoiceSource | None = None,
) -> EffectivenessData:
    """The rows the report needs: one coupon (`code`) or all, redemptions made in [start, end)."""
    from telbill.promotions import effectiveness_rows

    rows = effectiveness_rows(session, code=code, start=start, end=end)
    redeemers = sorted({r.account_id for r in rows.redemptions})
    return EffectivenessData(
        coupons=rows.coupons,
        redemptions=[
            RedemptionFact(r.coupon_code, r.account_id, r.redeemed_at, r.id) for r in rows.redemptions
        ],
        applications=[ApplicationFact(a.redemption_id, a.amount, a.currency) for a in rows.applications],
        accounts=[AccountFact(a.account_id, a.segment, a.country, a.created_at) for a in rows.accounts],
        subscriptions=[SubscriptionFact(s.account_id, s.start_at, s.end_at) for s in rows.subscriptions],
        invoices=None if invoices is None else list(invoices.invoices_of(session, redeemers)),
        ever_redeemed=frozenset(rows.ever_redeemed),
    )
