"""Redemption rules: each refusal reason, limits in total, per account and per promo code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from telbill.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from telbill.events.model import OutboxEvent
from telbill.promotions import (
    CouponCreate,
    RedemptionLimitReached,
    RedemptionRefused,
    add_promo_code,
    archive_coupon,
    get_coupon,
    parse,
    redeem,
    redemptions_of,
    revoke_redemption,
)
from tests.promotions.conftest import T0


def events(session, event_type):
    return session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == event_type)).all()


def refusals_of(session, clock, account, code):
    with pytest.raises((RedemptionRefused, RedemptionLimitReached)) as caught:
        redeem(session, clock, account.id, code)
    return set(caught.value.refusals)


def test_redeem_by_code_in_any_case_records_it_and_appends_an_event(session, clock, account, coupon):
    coupon("Welcome3", duration="cycles", cycles=3, scope="product", targets=["mobile-20gb"])
    redemption = redeem(session, clock, account.id, "  welcome3 ")
    assert (redemption.coupon_code, redemption.status, redemption.cycles_applied) == ("Welcome3", "active", 0)
    assert redemption.redeemed_at == T0 and redemption.currency == "EUR" and redemption.first_cycle is None
    assert redemptions_of(session, account.id) == [redemption]
    [event] = events(session, "Coupon.redeemed")
    assert event.aggregate_id == "WELCOME3" and event.payload["account_id"] == account.id
    assert len(events(session, "Coupon.created")) == 1


def test_codes_are_unique_whatever_the_case_across_coupons_and_promo_codes(session, clock, coupon):
    coupon("SPRING")
    with pytest.raises(Conflict, match="already used"):
        coupon("spring")
    add_promo_code(session, clock, "SPRING", "TV-SPRING")
    with pytest.raises(Conflict):
        coupon("tv-spring")
    with pytest.raises(Conflict):
        add_promo_code(session, clock, "spring", "Spring")


def test_not_yet_valid_and_expired_with_an_exclusive_end(session, clock, account, coupon):
    coupon("LATER", valid_from=T0 + timedelta(days=1))
    coupon("OVER", valid_until=T0)  # valid_until is exclusive
    coupon("NOW", valid_from=T0, valid_until=T0 + timedelta(seconds=1))
    assert refusals_of(session, clock, account, "LATER") == {"not_yet_valid"}
    assert refusals_of(session, clock, account, "OVER") == {"expired"}
    assert redeem(session, clock, account.id, "NOW").status == "active"


def test_new_customers_only_refuses_a_customer_who_subscribed_before(
    session, clock, make_account, subscribe, coupon
):
    coupon("NEWBIE", new_customers_only=True)
    fresh, known = make_account(), make_account()
    subscribe(known)
    clock.advance(timedelta(days=3))
    assert redeem(session, clock, fresh.id, "NEWBIE").account_id == fresh.id
    assert refusals_of(session, clock, known, "NEWBIE") == {"not_a_new_customer"}
    from telbill.accounts import get_customer

    sibling = make_account(customer=get_customer(session, known.customer_id))
    assert refusals_of(session, clock, sibling, "NEWBIE") == {"not_a_new_customer"}  # same customer


def test_segment_and_country_rules(session, clock, make_account, coupon):
    coupon("PRO-FR", segments=["smb", "enterprise"], countries=["fr", "BE"])
    assert redeem(session, clock, make_account("BE", "smb").id, "PRO-FR").status == "active"
    assert refusals_of(session, clock, make_account("FR", "consumer"), "PRO-FR") == {"segment_not_eligible"}
    assert refusals_of(session, clock, make_account("DE", "smb"), "PRO-FR") == {"country_not_eligible"}


def test_every_reason_is_listed_at_once(session, clock, make_account, subscribe, coupon):
    coupon("ALLBAD", new_customers_only=True, segments=["smb"], countries=["BE"], valid_until=T0)
    account = make_account("FR", "consumer")
    subscribe(account)
    clock.advance(timedelta(hours=1))
    with pytest.raises(RedemptionRefused) as caught:
        redeem(session, clock, account.id, "ALLBAD")
    assert caught.value.refusals == (
        "expired",
        "not_a_new_customer",
        "segment_not_eligible",
        "country_not_eligible",
    )
    assert isinstance(caught.value, ValidationFailed) and "country_not_eligible" in str(caught.value)


def test_max_redemptions_in_total_is_a_conflict(session, clock, make_account, coupon):
    coupon("TWO", max_redemptions=2)
    first, second, third = make_account(), make_account(), make_account()
    redeem(session, clock, first.id, "TWO")
    redeem(session, clock, second.id, "TWO")
    with pytest.raises(RedemptionLimitReached) as caught:
        redeem(session, clock, third.id, "TWO")
    assert caught.value.refusals == ("max_redemptions_reached",) and isinstance(caught.value, Conflict)


def test_max_per_account(session, clock, account, coupon):
    coupon("ONCE")  # max_per_account defaults to 1
    coupon("THRICE", max_per_account=3)
    redeem(session, clock, account.id, "ONCE")
    assert refusals_of(session, clock, account, "ONCE") == {"max_per_account_reached"}
    for _ in range(3):
        redeem(session, clock, account.id, "THRICE")
    assert refusals_of(session, clock, account, "THRICE") == {"max_per_account_reached"}


def test_a_revoked_redemption_still_counts_and_cannot_be_revoked_twice(session, clock, account, coupon):
    coupon("GONE")
    redemption = redeem(session, clock, account.id, "GONE")
    revoked = revoke_redemption(session, clock, redemption.id, "ordered by mistake")
    assert (revoked.status, revoked.revoke_reason) == ("revoked", "ordered by mistake")
    assert len(events(session, "Coupon.redemptionRevoked")) == 1
    assert refusals_of(session, clock, account, "GONE") == {"max_per_account_reached"}
    with pytest.raises(IllegalTransition):
        revoke_redemption(session, clock, redemption.id, "again")
    with pytest.raises(ValidationFailed):
        revoke_redemption(session, clock, redemption.id, "  ")


def test_promo_codes_share_a_coupon_each_with_its_own_limit(session, clock, make_account, coupon):
    coupon("RADIO", max_redemptions=3, max_per_account=None)
    add_promo_code(session, clock, "RADIO", "RADIO-NOVA", max_uses=1)
    add_promo_code(session, clock, "RADIO", "RADIO-FIP")
    a, b = make_account(), make_account()
    used = redeem(session, clock, a.id, "radio-nova")
    assert (used.coupon_code, used.promo_code) == ("RADIO", "RADIO-NOVA")
    assert refusals_of(session, clock, b, "RADIO-NOVA") == {"promo_code_used_up"}
    redeem(session, clock, b.id, "RADIO-FIP")
    redeem(session, clock, b.id, "RADIO")
    assert refusals_of(session, clock, a, "RADIO-FIP") == {"max_redemptions_reached"}  # coupon total: 3


def test_archived_coupons_are_refused_and_kept(session, clock, account, coupon):
    coupon("OLD")
    archive_coupon(session, clock, "old")
    assert get_coupon(session, "OLD").status == "archived"
    assert refusals_of(session, clock, account, "OLD") == {"coupon_archived"}
    with pytest.raises(IllegalTransition):
        archive_coupon(session, clock, "OLD")
    with pytest.raises(IllegalTransition):
        add_promo_code(session, clock, "OLD", "OLD-PROMO")


def test_an_amount_coupon_needs_the_accounts_currency(session, clock, make_account, coupon):
    coupon("FIVE", amounts={"EUR": "5.00"})
    assert refusals_of(session, clock, make_account("GB", currency="GBP"), "FIVE") == {
        "not_offered_in_currency"
    }
    assert redeem(session, clock, make_account().id, "FIVE").currency == "EUR"


def test_unknown_codes_and_accounts(session, clock, account, coupon):
    with pytest.raises(NotFound):
        redeem(session, clock, account.id, "NOPE")
    coupon("REAL")
    with pytest.raises(NotFound):
        redeem(session, clock, 999_999, "REAL")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"code": "x"}, "not a valid code"),
        ({"percent": "120"}, "percentage must be in (0, 100]"),
        ({"percent": 12.5}, "not as a float"),
        ({"duration": "cycles"}, "number of cycles"),
        ({"scope": "product"}, "need targets"),
        ({"kind": "amount", "percent": None, "amounts": {"EUR": "5.001"}}, "minor unit"),
        ({"kind": "amount", "percent": None, "amounts": {"XXQ": "5"}}, "unknown currency"),
        ({"kind": "amount"}, "gives `amounts`"),
        ({"valid_from": T0, "valid_until": T0}, "after valid_from"),
        ({"segments": ["vip"]}, "unknown segment"),
        ({"countries": ["France"]}, "alpha-2"),
        ({"max_redemptions": 0}, "max_redemptions"),
    ],
)
def test_bad_coupon_specs_name_the_problem(fields, expected):
    data = {"code": "GOOD", "name": "Good", "kind": "percentage", "percent": "10", **fields}
    with pytest.raises(ValidationFailed) as caught:
        parse(CouponCreate, **data)
    assert expected in str(caught.value)
