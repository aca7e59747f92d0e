"""What the bill run asks of promotions: the discounts in force for a period, and what they did.

Cycle numbers are the bill run's: it passes the number of the cycle it bills (by default the
account's period index + 1 on the cycle in force at the period start, `cycle_number_of`). A
redemption's cycles are counted by invoice: the first invoice that records it fixes its
`first_cycle`, and each invoice computed while it was in force uses up one of its cycles
(`cycles_applied`), whether or not it found lines to discount. Until then a redemption starts
at whatever cycle is billed next, so a coupon redeemed after a period was invoiced starts on
the next invoice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from telbill.accounts import cycle_in_force, get_account
from telbill.billing.discounts import (
    ActiveDiscount,
    DiscountApplication,
    DiscountKind,
    DiscountSource,
    DiscountTerms,
    Duration,
    Scope,
    Skipped,
    Stacking,
    bundle_discount,
    from_coupon,
)
from telbill.billing.periods import period_index
from telbill.catalog import Offer, OfferKind, get_offer, version_for_cycle
from telbill.core.clock import Clock, ensure_utc
from telbill.core.errors import ValidationFailed
from telbill.events import append_event
from telbill.promotions import repository
from telbill.promotions.model import AccountDiscountRow, DiscountApplicationRow, RedemptionRow
from telbill.promotions.terms import (
    billing_coupon,
    coupon_terms,
    discount_id,
    plain,
    row_id_of,
    used_up,
)

BUNDLE_PRIORITY = 10  # a bundle's price reduction comes before coupons and personalised discounts
BUNDLE_CHARGE_KINDS = frozenset({"recurring", "proration"})  # "off the components' recurring charges"


def cycle_number_of(session: Session, account_id: int, period_start: datetime) -> int:
    """The account's cycle number (from 1) of the period starting at `period_start`."""
    cycle = cycle_in_force(session, account_id, period_start)
    return period_index(cycle, get_account(session, account_id).zone, period_start) + 1


def active_discounts(
    session: Session,
    account_ids: Collection[int],
    period_start: datetime,
    period_end: datetime,
    *,
    cycle_numbers: Mapping[int, int] | None = None,
) -> dict[int, list[ActiveDiscount]]:
    """The discounts in force for each account over [period_start, period_end): redeemed coupons still
    within their cycles, personalised discounts overlapping the period, and bundle discounts."""
    start, end = ensure_utc(period_start), ensure_utc(period_end)
    if end <= start:
        raise ValidationFailed(f"empty period [{start.isoformat()}, {end.isoformat()})")
    ids = sorted(set(account_ids))
    given = cycle_numbers or {}
    cycles = {a: given[a] if a in given else cycle_number_of(session, a, start) for a in ids}
    found: dict[int, list[ActiveDiscount]] = {a: [] for a in ids}
    for account_id, discount in _coupons(session, ids, end, cycles):
        found[account_id].append(discount)
    personal = repository.account_discounts_overlapping(session, ids, start, end)
    bundles = repository.bundle_offer_codes(session)
    spans = list(repository.subscription_spans(session, ids, bundles)) if bundles else []
    # the currencies only of accounts with a personal or bundle discount (a bill-run batch asks
    # for thousands of accounts, most with neither)
    wanted = {r.account_id for r in personal} | {s.account_id for s in spans}
    rows = repository.account_rows(session, wanted) if wanted else {}
    currencies = {a: row.currency for a, row in rows.items()}
    for row in personal:
        found[row.account_id].append(_personal(row, currencies[row.account_id], cycles[row.account_id]))
    for account_id, discount in _bundles(session, spans, start, end, currencies, cycles):
        found[account_id].append(discount)
    return found


def _coupons(
    session: Session, ids: list[int], end: datetime, cycles: Mapping[int, int]
) -> list[tuple[int, ActiveDiscount]]:
    rows = repository.active_redemptions(session, ids, end)
    coupons = repository.coupons_by_id(session, {r.coupon_id for r in rows})
    result = []
    for row in rows:
        coupon = coupons[row.coupon_id]
        terms = coupon_terms(coupon, row.currency)
        cycle = cycles[row.account_id]
        first = row.first_cycle if row.first_cycle is not None else cycle
        if used_up(terms, row.cycles_applied) or not terms.applies_in(cycle, first):
            continue
        stored = billing_coupon(coupon, terms, coupon.valid_from, coupon.valid_until)
        result.append(
            (row.account_id, from_coupon(stored, discount_id(DiscountSource.COUPON, row.id), first))
        )
    return result


def _personal(row: AccountDiscountRow, currency_code: str, cycle: int) -> ActiveDiscount:
    kind = DiscountKind(row.kind)
    terms = DiscountTerms(
        kind=kind,
        value=plain(row.value),
        currency=row.currency if kind is DiscountKind.AMOUNT else None,
        duration=Duration.FOREVER,
        scope=Scope(row.scope),
        targets=frozenset(row.targets),
        stacking=Stacking(row.stacking),
        priority=row.priority,
    )
    if terms.currency not in (None, currency_code):
        raise ValidationFailed(
            f"account discount {row.id} is in {terms.currency} "
            f"but account {row.account_id} is billed in {currency_code}"
        )
    return ActiveDiscount(
        discount_id(DiscountSource.ACCOUNT, row.id), DiscountSource.ACCOUNT, row.reason, terms, cycle
    )


def _bundles(
    session: Session,
    spans: Sequence[Any],
    start: datetime,
    end: datetime,
    currencies: Mapping[int, str],
    cycles: Mapping[int, int],
) -> list[tuple[int, ActiveDiscount]]:
    """One discount per running bundle subscription (of `spans`, those of the bundle offers)
    whose version says `{mode: discount, ...}`."""
    offers: dict[str, Offer | None] = {}
    result = []
    for span in spans:
        if (
            span.parent_id is not None
            or span.start_at >= end
            or (span.end_at is not None and span.end_at <= start)
        ):
            continue
        if span.offer_code not in offers:
            offer = get_offer(session, span.offer_code)
            offers[span.offer_code] = offer if offer.kind is OfferKind.BUNDLE else None
        offer = offers[span.offer_code]
        if offer is None:
            continue
        terms = _bundle_terms(offer, span.offer_version, start, currencies[span.account_id])
        if terms is None:
            continue
        discount = bundle_discount(
            discount_id(DiscountSource.BUNDLE, span.subscription_id),
            f"{offer.name} bundle discount",
            frozenset(offer.components),
            terms,
        )
        result.append((span.account_id, dataclasses.replace(discount, first_cycle=cycles[span.account_id])))
    return result


def _bundle_terms(offer: Offer, subscribed: int, start: datetime, currency_code: str) -> DiscountTerms | None:
    price = offer.version(version_for_cycle(offer, subscribed, start)).bundle_price
    if price is None or price.mode != "discount":
        return None
    if price.percent is not None:
        if price.percent == 0:
            return None
        kind, value, cur = DiscountKind.PERCENTAGE, Decimal(price.percent), None
    else:
        amounts = price.amount or {}
        if currency_code not in amounts or amounts[currency_code] <= 0:
            return None
        kind, value, cur = DiscountKind.AMOUNT, Decimal(amounts[currency_code]), currency_code
    return DiscountTerms(
        kind=kind,
        value=value,
        currency=cur,
        duration=Duration.FOREVER,
        scope=Scope.PRODUCT,
        targets=frozenset(offer.components),
        priority=BUNDLE_PRIORITY,
        charge_kinds=BUNDLE_CHARGE_KINDS,
    )


# --- what the bill run did -----------------------------------------------------------------------


def record_applications(
    session: Session,
    clock: Clock,
    invoice_id: int,
    account_id: int,
    applications: Sequence[DiscountApplication],
    cycle_number: int,
) -> list[DiscountApplicationRow]:
    """Store what each discount did on the invoice, once per invoice and discount (a replay writes
    nothing), and move each redemption on by one cycle, exhausting it after its last."""
    done = repository.recorded_discount_ids(session, invoice_id)
    fresh = list({a.discount_id: a for a in applications if a.discount_id not in done}.values())
    redemption_ids = {
        rid
        for a in fresh
        if a.source is DiscountSource.COUPON and (rid := row_id_of(a.source, a.discount_id))
    }
    redemptions = repository.redemptions_by_id(session, redemption_ids, for_update=True)
    done = repository.recorded_discount_ids(session, invoice_id)  # again, now that the rows are locked
    fresh = [a for a in fresh if a.discount_id not in done]
    _check_owner(redemptions.values(), account_id)
    now = clock.now()
    rows = [_application_row(a, invoice_id, account_id, cycle_number, now) for a in fresh]
    repository.add_all(session, rows)
    for a in fresh:
        row = (
            redemptions.get(row_id_of(a.source, a.discount_id) or -1)
            if a.source is DiscountSource.COUPON
            else None
        )
        if row is not None and a.skipped is not Skipped.OUTSIDE_ITS_CYCLES:
            _advance(session, clock, row, cycle_number, invoice_id)
    session.flush()
    return rows


def _check_owner(redemptions: Collection[RedemptionRow], account_id: int) -> None:
    foreign = [r.id for r in redemptions if r.account_id != account_id]
    if foreign:
        raise ValidationFailed(
            f"redemptions of another account on account {account_id}'s invoice",
            details=[f"redemption {i}" for i in foreign],
        )


def _application_row(
    a: DiscountApplication, invoice_id: int, account_id: int, cycle_number: int, now: datetime
) -> DiscountApplicationRow:
    return DiscountApplicationRow(
        invoice_id=invoice_id,
        account_id=account_id,
        discount_id=a.discount_id,
        source=a.source.value,
        redemption_id=row_id_of(a.source, a.discount_id) if a.source is DiscountSource.COUPON else None,
        account_discount_id=row_id_of(a.source, a.discount_id)
        if a.source is DiscountSource.ACCOUNT
        else None,
        cycle_number=cycle_number,
        amount=a.amount.amount,
        currency=a.amount.currency,
        line_ids=list(a.line_ids),
        skipped=a.skipped.value if a.skipped else None,
        explanation=a.explanation[:500],
        recorded_at=now,
    )


def _advance(session: Session, clock: Clock, row: RedemptionRow, cycle_number: int, invoice_id: int) -> None:
    if row.status != "active":
        return
    if row.first_cycle is None:
        row.first_cycle = cycle_number
    row.cycles_applied += 1
    coupon = repository.coupons_by_id(session, [row.coupon_id])[row.coupon_id]
    if used_up(coupon_terms(coupon, row.currency), row.cycles_applied):
        row.status = "exhausted"
        append_event(
            session,
            clock,
            event_type="Coupon.redemptionExhausted",
            aggregate_type="coupon",
            aggregate_id=coupon.code_key,
            payload={"redemption_id": row.id, "account_id": row.account_id, "last_invoice_id": invoice_id},
        )
