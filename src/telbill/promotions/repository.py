"""Every SQL statement of the promotions context.

Account facts (country, segment, earlier subscriptions) and bundle subscriptions are read here
too, read-only, in one query per batch of accounts; the other contexts' services work one
account at a time, which the bill run cannot afford.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import Session

from telbill.accounts import BillingAccount, Customer
from telbill.catalog.model import CatalogOffer
from telbill.db.filters import in_values as _in
from telbill.promotions.model import (
    AccountDiscountRow,
    CouponRow,
    DiscountApplicationRow,
    PromoCodeRow,
    RedemptionRow,
)
from telbill.subscriptions.model import Subscription

CHUNK = 500  # bound on the IN lists


def _chunks(ids: Collection[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


# --- coupons and promo codes ---------------------------------------------------------------------


def coupon_by_key(session: Session, key: str, *, for_update: bool = False) -> CouponRow | None:
    stmt = select(CouponRow).where(CouponRow.code_key == key)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def coupon_by_id(session: Session, coupon_id: int, *, for_update: bool = False) -> CouponRow | None:
    stmt = select(CouponRow).where(CouponRow.id == coupon_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def coupons_by_id(session: Session, ids: Collection[int]) -> dict[int, CouponRow]:
    found: dict[int, CouponRow] = {}
    for chunk in _chunks(ids):
        found.update(
            (c.id, c) for c in session.scalars(select(CouponRow).where(_in(session, CouponRow.id, chunk)))
        )
    return found


def list_coupons(session: Session, *, status: str | None = None) -> Sequence[CouponRow]:
    stmt = select(CouponRow).order_by(CouponRow.code_key)
    if status is not None:
        stmt = stmt.where(CouponRow.status == status)
    return session.scalars(stmt).all()


def promo_by_key(session: Session, key: str, *, for_update: bool = False) -> PromoCodeRow | None:
    stmt = select(PromoCodeRow).where(PromoCodeRow.code_key == key)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def promos_of(session: Session, coupon_id: int) -> Sequence[PromoCodeRow]:
    stmt = select(PromoCodeRow).where(PromoCodeRow.coupon_id == coupon_id).order_by(PromoCodeRow.code_key)
    return session.scalars(stmt).all()


def promo_codes_by_id(session: Session, ids: Collection[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        stmt = select(PromoCodeRow.id, PromoCodeRow.code).where(_in(session, PromoCodeRow.id, chunk))
        found.update((i, c) for i, c in session.execute(stmt))
    return found


# --- redemptions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """Redemptions so far, revoked ones included (a revoked redemption still used its slot)."""

    total: int
    for_account: int
    for_promo: int


def redemption_counts(session: Session, coupon_id: int, account_id: int, promo_code_id: int | None) -> Counts:
    """Counted as the highest sequence number taken (equal to the row count, and what the keys check)."""

    def top(*where: object) -> int:
        return session.scalar(select(func.count()).select_from(RedemptionRow).where(*where)) or 0

    return Counts(
        top(RedemptionRow.coupon_id == coupon_id),
        top(RedemptionRow.coupon_id == coupon_id, RedemptionRow.account_id == account_id),
        0 if promo_code_id is None else top(RedemptionRow.promo_code_id == promo_code_id),
    )


def redemption(session: Session, redemption_id: int, *, for_update: bool = False) -> RedemptionRow | None:
    stmt = select(RedemptionRow).where(RedemptionRow.id == redemption_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def redemptions_by_id(
    session: Session, ids: Collection[int], *, for_update: bool = False
) -> dict[int, RedemptionRow]:
    found: dict[int, RedemptionRow] = {}
    for chunk in _chunks(ids):
        stmt = select(RedemptionRow).where(_in(session, RedemptionRow.id, chunk)).order_by(RedemptionRow.id)
        if for_update:
            stmt = stmt.with_for_update()
        found.update((r.id, r) for r in session.scalars(stmt))
    return found


def redemptions_of(session: Session, account_id: int) -> Sequence[RedemptionRow]:
    stmt = (
        select(RedemptionRow)
        .where(RedemptionRow.account_id == account_id)
        .order_by(RedemptionRow.redeemed_at, RedemptionRow.id)
    )
    return session.scalars(stmt).all()


def active_redemptions(
    session: Session, account_ids: Collection[int], before: datetime
) -> Sequence[RedemptionRow]:
    """Redemptions still running (neither exhausted nor revoked) made before `before`."""
    rows: list[RedemptionRow] = []
    for chunk in _chunks(account_ids):
        stmt = (
            select(RedemptionRow)
            .where(
                _in(session, RedemptionRow.account_id, chunk),
                RedemptionRow.status == "active",
                RedemptionRow.redeemed_at < before,
            )
            .order_by(RedemptionRow.id)
        )
        rows.extend(session.scalars(stmt))
    return rows


def redemptions_between(
    session: Session, coupon_ids: Collection[int], start: datetime | None, end: datetime | None
) -> Sequence[RedemptionRow]:
    stmt = select(RedemptionRow).where(RedemptionRow.coupon_id.in_(list(coupon_ids)))
    if start is not None:
        stmt = stmt.where(RedemptionRow.redeemed_at >= start)
    if end is not None:
        stmt = stmt.where(RedemptionRow.redeemed_at < end)
    return session.scalars(stmt.order_by(RedemptionRow.redeemed_at, RedemptionRow.id)).all()


def redeemer_ids(session: Session) -> set[int]:
    """Every account that ever redeemed a coupon."""
    return set(session.scalars(select(RedemptionRow.account_id).distinct()))


# --- applications --------------------------------------------------------------------------------


def recorded_discount_ids(session: Session, invoice_id: int) -> set[str]:
    stmt = select(DiscountApplicationRow.discount_id).where(DiscountApplicationRow.invoice_id == invoice_id)
    return set(session.scalars(stmt))


def add_all(session: Session, rows: Sequence[object]) -> None:
    session.add_all(rows)
    session.flush()


def applications_of(session: Session, redemption_ids: Collection[int]) -> Sequence[DiscountApplicationRow]:
    rows: list[DiscountApplicationRow] = []
    for chunk in _chunks(redemption_ids):
        stmt = (
            select(DiscountApplicationRow)
            .where(_in(session, DiscountApplicationRow.redemption_id, chunk))
            .order_by(DiscountApplicationRow.id)
        )
        rows.extend(session.scalars(stmt))
    return rows


# --- account discounts ---------------------------------------------------------------------------


def account_discounts_overlapping(
    session: Session, account_ids: Collection[int], start: datetime, end: datetime
) -> Sequence[AccountDiscountRow]:
    rows: list[AccountDiscountRow] = []
    for chunk in _chunks(account_ids):
        stmt = (
            select(AccountDiscountRow)
            .where(
                _in(session, AccountDiscountRow.account_id, chunk),
                AccountDiscountRow.valid_from < end,
                or_(AccountDiscountRow.valid_to.is_(None), AccountDiscountRow.valid_to > start),
            )
            .order_by(AccountDiscountRow.id)
        )
        rows.extend(session.scalars(stmt))
    return rows


def account_discounts_of(session: Session, account_id: int) -> Sequence[AccountDiscountRow]:
    stmt = (
        select(AccountDiscountRow)
        .where(AccountDiscountRow.account_id == account_id)
        .order_by(AccountDiscountRow.valid_from, AccountDiscountRow.id)
    )
    return session.scalars(stmt).all()


# --- facts read from accounts and subscriptions (read-only) ------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRow:
    account_id: int
    currency: str
    country: str
    segment: str | None
    created_at: datetime


def account_rows(session: Session, account_ids: Collection[int] | None = None) -> dict[int, AccountRow]:
    stmt = select(
        BillingAccount.id,
        BillingAccount.currency,
        Customer.country,
        Customer.segment,
        BillingAccount.created_at,
    ).join(Customer, Customer.id == BillingAccount.customer_id)
    if account_ids is None:
        return {r[0]: AccountRow(*r) for r in session.execute(stmt)}
    found: dict[int, AccountRow] = {}
    for chunk in _chunks(account_ids):
        found.update(
            (r[0], AccountRow(*r))
            for r in session.execute(stmt.where(_in(session, BillingAccount.id, chunk)))
        )
    return found


def account_for_update(session: Session, account_id: int) -> BillingAccount | None:
    return session.scalars(
        select(BillingAccount).where(BillingAccount.id == account_id).with_for_update()
    ).one_or_none()


def customer_subscribed_before(session: Session, account_id: int, instant: datetime) -> bool:
    """Whether the account's customer (through any of its accounts) had a subscription before `instant`."""
    customer = select(BillingAccount.customer_id).where(BillingAccount.id == account_id).scalar_subquery()
    accounts = select(BillingAccount.id).where(BillingAccount.customer_id == customer)
    stmt = select(Subscription.id).where(
        Subscription.account_id.in_(accounts), Subscription.start_at < instant
    )
    return session.scalars(stmt.limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class SubscriptionSpan:
    subscription_id: int
    account_id: int
    parent_id: int | None
    offer_code: str
    offer_version: int
    start_at: datetime
    end_at: datetime | None  # when it stopped (end or cancellation), None: still running


def subscription_spans(
    session: Session, account_ids: Collection[int] | None = None, offer_codes: Collection[str] | None = None
) -> list[SubscriptionSpan]:
    """Subscriptions (not pending) of the accounts, of the given offers only when `offer_codes` is given."""
    stmt = select(
        Subscription.id,
        Subscription.account_id,
        Subscription.parent_id,
        Subscription.offer_code,
        Subscription.offer_version,
        Subscription.start_at,
        func.coalesce(Subscription.end_at, Subscription.cancelled_at),
        Subscription.state,
    ).order_by(Subscription.id)
    if offer_codes is not None:
        stmt = stmt.where(Subscription.offer_code.in_(sorted(offer_codes)))
    chunks: list[list[int] | None] = [None] if account_ids is None else list(_chunks(account_ids))
    spans = []
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(_in(session, Subscription.account_id, chunk))
        for sid, acc, parent, offer, version, start, end, state in session.execute(query):
            if state == "pending":
                continue
            spans.append(SubscriptionSpan(sid, acc, parent, offer, version, start, end))
    return spans


# --- revenue from the invoice store (read-only) ----------------------------------------------------


def has_invoice_store(session: Session) -> bool:
    """Whether the invoices table exists in this database (the report then shows revenue)."""
    try:
        import telbill.invoicing.model  # noqa: F401
    except ModuleNotFoundError:
        return False
    return inspect(session.connection()).has_table("invoices")


def issued_invoice_totals(
    session: Session, account_ids: Collection[int]
) -> list[tuple[int, datetime, str, Decimal]]:
    """(account, finalised at, currency, net after allowances; negative for credit notes)."""
    from telbill.invoicing.model import Invoice

    found = []
    for chunk in _chunks(account_ids):
        stmt = select(
            Invoice.account_id,
            Invoice.finalised_at,
            Invoice.currency,
            Invoice.line_total,
            Invoice.allowance_total,
            Invoice.document_type,
        ).where(_in(session, Invoice.account_id, chunk), Invoice.finalised_at.is_not(None))
        for account_id, at, cur, lines, allowances, doc in session.execute(stmt):
            net = lines - allowances  # Decimals: subtracted here, not in SQL (SQLite stores them as text)
            found.append((account_id, at, cur, -net if doc == "381" else net))
    return found


def bundle_offer_codes(session: Session) -> set[str]:
    """Codes of the catalog's bundle offers (a handful of rows)."""
    return set(session.scalars(select(CatalogOffer.code).where(CatalogOffer.kind == "bundle")))
