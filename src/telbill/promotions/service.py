"""Use cases on coupons, promo codes, redemptions and personalised discounts.

They take a session and a clock, append outbox events, and never commit. A redemption locks
its coupon row (`SELECT … FOR UPDATE`) before counting, so two transactions racing for the last
redemption are serialised; the unique sequence numbers on `coupon_redemptions` back that up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from telbill.accounts import get_account
from telbill.billing.discounts import (
    AccountFacts,
    RedemptionCounts,
    Refusal,
    check_redemption,
)
from telbill.core.clock import Clock
from telbill.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from telbill.events import append_event
from telbill.promotions import repository
from telbill.promotions.model import AccountDiscountRow, CouponRow, PromoCodeRow, RedemptionRow
from telbill.promotions.schemas import (
    AccountDiscountCreate,
    CouponCreate,
    PromoCodeCreate,
    Redemption,
    code_key,
    parse,
)
from telbill.promotions.terms import billing_coupon, coupon_terms, offered_in

LIMIT_REFUSALS = {Refusal.MAX_REDEMPTIONS_REACHED, Refusal.MAX_PER_ACCOUNT_REACHED, "promo_code_used_up"}


class RedemptionRefused(ValidationFailed):
    """The account may not redeem the code; `refusals` lists every reason as a stable value."""

    code = "redemption_refused"

    def __init__(self, message: str, refusals: Sequence[str]) -> None:
        super().__init__(message, details=list(refusals))
        self.refusals = tuple(refusals)


class RedemptionLimitReached(Conflict):
    """Refused only because a limit is reached (total, per account or per promo code)."""

    code = "redemption_limit_reached"

    def __init__(self, message: str, refusals: Sequence[str]) -> None:
        super().__init__(message, details=list(refusals))
        self.refusals = tuple(refusals)


def _event(
    session: Session, clock: Clock, event_type: str, aggregate_id: object, payload: dict[str, Any]
) -> None:
    aggregate = "account_discount" if event_type.startswith("AccountDiscount") else "coupon"
    append_event(
        session,
        clock,
        event_type=event_type,
        aggregate_type=aggregate,
        aggregate_id=aggregate_id,
        payload=payload,
    )


# --- coupons -------------------------------------------------------------------------------------


def _code_is_free(session: Session, code: str) -> None:
    """Coupon and promo codes share one namespace, so a code redeems exactly one thing."""
    key = code_key(code)
    if repository.coupon_by_key(session, key) or repository.promo_by_key(session, key):
        raise Conflict(f"code {code} is already used by a coupon or a promo code")


def create_coupon(session: Session, clock: Clock, spec: CouponCreate) -> CouponRow:
    _code_is_free(session, spec.code)
    row = CouponRow(
        code=spec.code,
        code_key=code_key(spec.code),
        name=spec.name,
        kind=spec.kind.value,
        percent=spec.percent,
        amounts={cur: str(amount) for cur, amount in sorted(spec.amounts.items())},
        duration=spec.duration.value,
        cycles=spec.cycles,
        scope=spec.scope.value,
        targets=sorted(spec.targets),
        new_customers_only=spec.new_customers_only,
        segments=None if spec.segments is None else sorted(spec.segments),
        countries=None if spec.countries is None else sorted(spec.countries),
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        max_redemptions=spec.max_redemptions,
        max_per_account=spec.max_per_account,
        stacking=spec.stacking.value,
        priority=spec.priority,
        status="active",
        created_at=clock.now(),
    )
    repository.add(session, row)
    _event(session, clock, "Coupon.created", row.code_key, {"code": row.code, **spec.model_dump(mode="json")})
    return row


def get_coupon(session: Session, code: str, *, for_update: bool = False) -> CouponRow:
    row = repository.coupon_by_key(session, code_key(code), for_update=for_update)
    if row is None:
        raise NotFound(f"no coupon with code {code}")
    return row


def list_coupons(session: Session, *, status: str | None = None) -> Sequence[CouponRow]:
    return repository.list_coupons(session, status=status)


def promo_codes_of(session: Session, coupon_code: str) -> Sequence[PromoCodeRow]:
    return repository.promos_of(session, get_coupon(session, coupon_code).id)


def archive_coupon(session: Session, clock: Clock, code: str) -> CouponRow:
    """No new redemptions; those made already run their course."""
    row = get_coupon(session, code, for_update=True)
    if row.status == "archived":
        raise IllegalTransition(f"coupon {row.code} is already archived")
    row.status, row.archived_at = "archived", clock.now()
    session.flush()
    _event(session, clock, "Coupon.archived", row.code_key, {"code": row.code})
    return row


def add_promo_code(
    session: Session, clock: Clock, coupon_code: str, code: str, *, max_uses: int | None = None
) -> PromoCodeRow:
    """A public code for the coupon, with its own limit on uses (the coupon's limits still apply)."""
    spec = parse(PromoCodeCreate, coupon_code=coupon_code, code=code, max_uses=max_uses)
    coupon = get_coupon(session, spec.coupon_code)
    if coupon.status != "active":
        raise IllegalTransition(f"coupon {coupon.code} is archived")
    _code_is_free(session, spec.code)
    row = PromoCodeRow(
        coupon_id=coupon.id,
        code=spec.code,
        code_key=code_key(spec.code),
        max_uses=spec.max_uses,
        status="active",
        created_at=clock.now(),
    )
    repository.add(session, row)
    _event(
        session,
        clock,
        "Coupon.promoCodeAdded",
        coupon.code_key,
        {"promo_code": row.code, "max_uses": max_uses},
    )
    return row


# --- redemptions ---------------------------------------------------------------------------------


def _resolve(session: Session, code: str) -> tuple[CouponRow, PromoCodeRow | None]:
    """The coupon behind a promo code or coupon code, its row locked for the count."""
    key = code_key(code)
    promo = repository.promo_by_key(session, key)
    coupon = (
        repository.coupon_by_id(session, promo.coupon_id, for_update=True)
        if promo is not None
        else repository.coupon_by_key(session, key, for_update=True)
    )
    if coupon is None:
        raise NotFound(f"no coupon or promo code {code}")
    return coupon, promo


def _refusals(
    session: Session, clock: Clock, coupon: CouponRow, promo: PromoCodeRow | None, account_id: int
) -> tuple[list[str], repository.Counts, str]:
    account = get_account(session, account_id)
    facts_row = repository.account_rows(session, [account_id])[account_id]
    now = clock.now()
    facts = AccountFacts(
        has_prior_subscription=repository.customer_subscribed_before(session, account_id, now),
        country=facts_row.country,
        segment=facts_row.segment,
    )
    counts = repository.redemption_counts(session, coupon.id, account_id, promo.id if promo else None)
    offered = offered_in(coupon, account.currency)
    terms = coupon_terms(coupon, account.currency if offered else next(iter(coupon.amounts)))
    check = check_redemption(
        billing_coupon(coupon, terms, coupon.valid_from, coupon.valid_until),
        facts,
        RedemptionCounts(total=counts.total, for_account=counts.for_account),
        now,
    )
    refusals: list[str] = [str(r) for r in check.refusals]
    if coupon.status != "active":
        refusals.insert(0, "coupon_archived")
    if promo is not None and promo.status != "active":
        refusals.insert(0, "promo_code_archived")
    if promo is not None and promo.max_uses is not None and counts.for_promo >= promo.max_uses:
        refusals.append("promo_code_used_up")
    if not offered:
        refusals.append("not_offered_in_currency")
    return refusals, counts, account.currency


def redeem(session: Session, clock: Clock, account_id: int, code: str) -> Redemption:
    """Redeem a coupon or promo code for an account, or raise with every reason it may not."""
    coupon, promo = _resolve(session, code)
    refusals, counts, account_currency = _refusals(session, clock, coupon, promo, account_id)
    if refusals:
        message = f"account {account_id} may not redeem {code}"
        if set(refusals) <= LIMIT_REFUSALS:
            raise RedemptionLimitReached(message, refusals)
        raise RedemptionRefused(message, refusals)
    row = RedemptionRow(
        coupon_id=coupon.id,
        account_id=account_id,
        promo_code_id=promo.id if promo else None,
        currency=account_currency,
        redeemed_at=clock.now(),
        status="active",
        cycles_applied=0,
        coupon_seq=counts.total + 1,
        account_seq=counts.for_account + 1,
        promo_seq=counts.for_promo + 1 if promo else None,
    )
    repository.add(session, row)
    redemption = _read(row, coupon.code, promo.code if promo else None)
    _event(session, clock, "Coupon.redeemed", coupon.code_key, redemption.model_dump(mode="json"))
    return redemption


def _read(row: RedemptionRow, coupon_code: str, promo_code: str | None) -> Redemption:
    return Redemption(
        id=row.id,
        coupon_code=coupon_code,
        account_id=row.account_id,
        promo_code=promo_code,
        currency=row.currency,
        redeemed_at=row.redeemed_at,
        first_cycle=row.first_cycle,
        cycles_applied=row.cycles_applied,
        status=row.status,  # type: ignore[arg-type]
        revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
    )


def _reads(session: Session, rows: Sequence[RedemptionRow]) -> list[Redemption]:
    coupons = repository.coupons_by_id(session, {r.coupon_id for r in rows})
    promos = repository.promo_codes_by_id(session, {r.promo_code_id for r in rows if r.promo_code_id})
    return [
        _read(r, coupons[r.coupon_id].code, promos.get(r.promo_code_id) if r.promo_code_id else None)
        for r in rows
    ]


def redemptions_of(session: Session, account_id: int) -> list[Redemption]:
    return _reads(session, repository.redemptions_of(session, account_id))


def get_redemption(session: Session, redemption_id: int) -> Redemption:
    row = repository.redemption(session, redemption_id)
    if row is None:
        raise NotFound(f"redemption {redemption_id} does not exist")
    return _reads(session, [row])[0]


def revoke_redemption(session: Session, clock: Clock, redemption_id: int, reason: str) -> Redemption:
    """Stop a running redemption; it still counts towards the coupon's limits."""
    if not reason.strip():
        raise ValidationFailed("give a reason for revoking the redemption")
    row = repository.redemption(session, redemption_id, for_update=True)
    if row is None:
        raise NotFound(f"redemption {redemption_id} does not exist")
    if row.status != "active":
        raise IllegalTransition(
            f"redemption {redemption_id} is {row.status}; only an active one can be revoked"
        )
    row.status, row.revoked_at, row.revoke_reason = "revoked", clock.now(), reason.strip()[:300]
    session.flush()
    redemption = _reads(session, [row])[0]
    _event(
        session,
        clock,
        "Coupon.redemptionRevoked",
        code_key(redemption.coupon_code),
        redemption.model_dump(mode="json"),
    )
    return redemption


# --- personalised discounts ----------------------------------------------------------------------


def grant_account_discount(session: Session, clock: Clock, spec: AccountDiscountCreate) -> AccountDiscountRow:
    """A discount for one account, in its currency, over [valid_from, valid_to)."""
    account = get_account(session, spec.account_id)
    terms = spec.terms_in(account.currency)  # ValidationFailed lists what is wrong
    row = AccountDiscountRow(
        account_id=account.id,
        kind=terms.kind.value,
        value=terms.value,
        currency=terms.currency,
        scope=terms.scope.value,
        targets=sorted(terms.targets),
        stacking=terms.stacking.value,
        priority=terms.priority,
        valid_from=spec.valid_from,
        valid_to=spec.valid_to,
        reason=spec.reason,
        created_by=spec.created_by,
        created_at=clock.now(),
    )
    repository.add(session, row)
    payload = {**spec.model_dump(mode="json"), "currency": terms.currency}
    _event(session, clock, "AccountDiscount.granted", row.id, payload)
    return row


def account_discounts_of(session: Session, account_id: int) -> Sequence[AccountDiscountRow]:
    return repository.account_discounts_of(session, account_id)
