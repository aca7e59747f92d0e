"""Promotion effectiveness on a small hand-made dataset, every number worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from telbill.analytics import (
    AccountFact,
    ApplicationFact,
    EffectivenessData,
    InvoiceFact,
    RedemptionFact,
    Retention,
    SubscriptionFact,
    coupon_effectiveness,
)
from telbill.core.errors import ValidationFailed


def at(month, day):
    return datetime(2026, month, day, 12, tzinfo=UTC)


AS_OF = at(3, 15)
ACCOUNTS = [
    AccountFact(1, "consumer", "FR", at(1, 5)),  # redeems WELCOME on 10 Jan, still subscribed
    AccountFact(2, "consumer", "FR", at(1, 20)),  # redeems on 3 Feb, leaves on 1 Mar
    AccountFact(3, "smb", "BE", at(1, 7)),  # redeems on 20 Feb: day 30 is after AS_OF, not measured
    AccountFact(4, "consumer", "FR", at(1, 25)),  # comparable, measured from its creation (25 Jan): retained
    AccountFact(5, "consumer", "FR", at(1, 28)),  # redeemed another coupon: not comparable
    AccountFact(6, "consumer", "FR", at(2, 10)),  # created in February: not comparable
    AccountFact(7, "smb", "BE", at(1, 15)),  # comparable to 3, measured from 20 Feb: not measured yet
    AccountFact(8, "consumer", "DE", at(1, 9)),  # another country
    AccountFact(9, "consumer", "FR", at(1, 3)),  # comparable, measured from 10 Jan: gone by 9 Feb
    AccountFact(10, "consumer", "FR", at(1, 12)),  # comparable, measured from 12 Jan: retained
]
SUBSCRIPTIONS = [
    SubscriptionFact(1, at(1, 10), None),
    SubscriptionFact(2, at(2, 3), at(3, 1)),
    SubscriptionFact(3, at(2, 20), None),
    SubscriptionFact(4, at(1, 25), None),
    SubscriptionFact(9, at(1, 3), at(1, 20)),
    SubscriptionFact(10, at(1, 12), None),
]
DATA = EffectivenessData(
    coupons={"WELCOME": "Welcome offer", "SPRING": "Spring sale"},
    redemptions=[
        RedemptionFact("WELCOME", 1, at(1, 10), 1),
        RedemptionFact("WELCOME", 2, at(2, 3), 2),
        RedemptionFact("WELCOME", 3, at(2, 20), 3),
    ],
    applications=[
        ApplicationFact(1, Decimal("4.00"), "EUR"),
        ApplicationFact(1, Decimal("4.00"), "EUR"),
        ApplicationFact(2, Decimal("4.00"), "EUR"),
        ApplicationFact(3, Decimal("10.00"), "EUR"),
        ApplicationFact(99, Decimal("7.00"), "EUR"),  # another coupon's redemption
    ],
    accounts=ACCOUNTS,
    subscriptions=SUBSCRIPTIONS,
    invoices=[
        InvoiceFact(1, at(1, 1), "EUR", Decimal("20.00")),  # before the redemption
        InvoiceFact(1, at(2, 1), "EUR", Decimal("16.00")),
        InvoiceFact(1, at(3, 1), "EUR", Decimal("16.00")),
        InvoiceFact(1, at(4, 1), "EUR", Decimal("16.00")),  # after AS_OF
        InvoiceFact(2, at(3, 1), "EUR", Decimal("16.00")),
        InvoiceFact(2, at(3, 2), "EUR", Decimal("-8.00")),  # a credit note
        InvoiceFact(4, at(2, 1), "EUR", Decimal("20.00")),  # not a redeeming account
    ],
    ever_redeemed=frozenset({1, 2, 3, 5}),
)


def test_the_welcome_coupon_by_month():
    spring, welcome = coupon_effectiveness(DATA, as_of=AS_OF, retention_days=30)
    assert (welcome.code, welcome.name, welcome.redemptions, welcome.accounts) == (
        "WELCOME",
        "Welcome offer",
        3,
        3,
    )
    assert welcome.over_time == ((date(2026, 1, 1), 1), (date(2026, 2, 1), 2))
    assert welcome.discount_granted == {"EUR": Decimal("22.00")}
    assert welcome.revenue == {"EUR": Decimal("40.00")}  # 16 + 16 + 16 - 8
    # measured: 1 (retained on 9 Feb) and 2 (gone on 5 Mar); 3 is measured on 22 Mar, after AS_OF
    assert welcome.retention == Retention(retained=1, measured=2)
    assert welcome.retention.share == Decimal("0.5000")
    # comparable: 4 (from 25 Jan, retained), 9 (from 10 Jan, gone), 10 (from 12 Jan, retained); 7 not yet
    assert welcome.comparable == Retention(retained=2, measured=3)
    assert welcome.comparable.share == Decimal("0.6667")
    assert (spring.redemptions, spring.discount_granted, spring.revenue) == (0, {}, {})
    assert spring.retention.share is None and spring.comparable == Retention()


def test_by_week_and_with_a_longer_retention():
    _, welcome = coupon_effectiveness(DATA, as_of=AS_OF, granularity="week", retention_days=60)
    # Saturday 10 Jan → week of Monday 5 Jan; Tuesday 3 Feb → 2 Feb; Friday 20 Feb → 16 Feb
    assert welcome.over_time == ((date(2026, 1, 5), 1), (date(2026, 2, 2), 1), (date(2026, 2, 16), 1))
    # day 60 has passed only for account 1 (11 Mar), still subscribed
    assert welcome.retention == Retention(retained=1, measured=1)
    # creation weeks: 1 → 5 Jan, 2 and 4 → 19 Jan (25 Jan is a Sunday), 9 → 29 Dec, 10 and 7 → 12 Jan,
    # 3 → 5 Jan: only 4 is comparable (to 2), measured from 3 Feb, whose day 60 (4 Apr) is after AS_OF
    assert welcome.comparable == Retention(retained=0, measured=0)


def test_without_an_invoice_source_revenue_is_unknown():
    data = EffectivenessData(DATA.coupons, DATA.redemptions, DATA.applications, ACCOUNTS, SUBSCRIPTIONS)
    assert all(row.revenue is None for row in coupon_effectiveness(data, as_of=AS_OF))


def test_bad_parameters():
    with pytest.raises(ValidationFailed):
        coupon_effectiveness(DATA, as_of=AS_OF, granularity="day")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        coupon_effectiveness(DATA, as_of=AS_OF, retention_days=0)
