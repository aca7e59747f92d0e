"""The rows the promotion-effectiveness report reads (analytics computes on them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from telbill.core.clock import ensure_utc
from telbill.promotions import repository
from telbill.promotions.service import get_coupon


@dataclass(frozen=True, slots=True)
class RedemptionLine:
    id: int
    coupon_code: str
    account_id: int
    redeemed_at: datetime


@dataclass(frozen=True, slots=True)
class ApplicationLine:
    redemption_id: int
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class EffectivenessRows:
    coupons: dict[str, str]
    redemptions: list[RedemptionLine]
    applications: list[ApplicationLine]
    accounts: list[repository.AccountRow]
    subscriptions: list[repository.SubscriptionSpan]
    ever_redeemed: set[int]


def effectiveness_rows(
    session: Session, *, code: str | None = None, start: datetime | None = None, end: datetime | None = None
) -> EffectivenessRows:
    """One coupon (or all), its redemptions in [start, end), their applications, and the accounts
    and subscriptions retention compares (every account: comparable ones are chosen from them)."""
    coupons = [get_coupon(session, code)] if code else list(repository.list_coupons(session))
    by_id = {c.id: c for c in coupons}
    rows = repository.redemptions_between(
        session, list(by_id), start and ensure_utc(start), end and ensure_utc(end)
    )
    redemptions = [RedemptionLine(r.id, by_id[r.coupon_id].code, r.account_id, r.redeemed_at) for r in rows]
    applications = [
        ApplicationLine(a.redemption_id, a.amount, a.currency)
        for a in repository.applications_of(session, [r.id for r in rows])
        if a.redemption_id is not None and a.skipped is None
    ]
    return EffectivenessRows(
        coupons={c.code: c.name for c in coupons},
        redemptions=redemptions,
        applications=applications,
        accounts=list(repository.account_rows(session).values()),
        subscriptions=repository.subscription_spans(session),
        ever_redeemed=repository.redeemer_ids(session),
    )


def issued_invoice_totals(
    session: Session, account_ids: Sequence[int]
) -> list[tuple[int, datetime, str, Decimal]]:
    """Finalised invoices and credit notes of the accounts: (account, finalised at, currency, net
    after allowances, negative for a credit note)."""
    return repository.issued_invoice_totals(session, account_ids)


def has_invoice_store(session: Session) -> bool:
    return repository.has_invoice_store(session)
