"""Which version applies: new subscriptions, and existing ones at each cycle start, at the boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from telbill.catalog import Offer, version_for_cycle, version_for_new_subscription
from telbill.core.errors import NotFound, ValidationFailed

SECOND = timedelta(seconds=1)
V1 = datetime(2026, 1, 1, tzinfo=UTC)
V2 = datetime(2026, 3, 1, tzinfo=UTC)
V3 = datetime(2026, 6, 1, tzinfo=UTC)


def offer(price_update: dict) -> Offer:
    versions = [
        {"effective_from": when, "charges": [{"type": "recurring", "code": "fee", "price": {"EUR": price}}]}
        for when, price in ((V1, "10"), (V2, "12"), (V3, "15"))
    ]
    return Offer.model_validate(
        {
            "code": "plan",
            "name": "Plan",
            "kind": "plan",
            "products": ["mobile"],
            "price_update": price_update,
            "versions": versions,
        }
    )


NOTICE_30 = offer({"policy": "notice", "notice_days": 30})
NOTICE_0 = offer({"policy": "notice", "notice_days": 0})
GRANDFATHERED = offer({"policy": "grandfathered"})


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (V1, 1),
        (V2 - SECOND, 1),
        (V2, 2),
        (V2 + SECOND, 2),
        (V3 - SECOND, 2),
        (V3, 3),
        (V3 + timedelta(days=999), 3),
    ],
)
def test_new_subscription_gets_the_version_in_effect(at, expected):
    assert version_for_new_subscription(NOTICE_30, at) == expected


def test_before_the_first_version_the_offer_is_not_available():
    with pytest.raises(NotFound, match="not available before 2026-01-01"):
        version_for_new_subscription(NOTICE_30, V1 - SECOND)


@pytest.mark.parametrize(
    ("cycle_start", "expected", "why"),
    [
        (V2, 1, "v2 is in effect but the 30 days of notice have not run"),
        (V2 + timedelta(days=30) - SECOND, 1, "one second before the notice ends"),
        (V2 + timedelta(days=30), 2, "first cycle start on effective_from + notice"),
        (V2 + timedelta(days=30) + SECOND, 2, "after the notice"),
        (V3 + timedelta(days=30) - SECOND, 2, "v3 notice not over yet"),
        (V3 + timedelta(days=30), 3, "jumps straight to the latest version whose notice is over"),
    ],
)
def test_notice_policy_moves_existing_subscriptions_after_the_notice(cycle_start, expected, why):
    assert version_for_cycle(NOTICE_30, 1, cycle_start) == expected, why


def test_zero_notice_applies_at_the_first_cycle_on_or_after_effective_from():
    assert version_for_cycle(NOTICE_0, 1, V2 - SECOND) == 1
    assert version_for_cycle(NOTICE_0, 1, V2) == 2


def test_a_subscription_never_moves_back_to_an_older_version():
    assert version_for_cycle(NOTICE_30, 2, V1) == 2
    assert version_for_cycle(NOTICE_30, 3, V2 + timedelta(days=30)) == 3


def test_grandfathered_subscriptions_keep_their_version():
    far = V3 + timedelta(days=3650)
    assert [version_for_cycle(GRANDFATHERED, n, far) for n in (1, 2, 3)] == [1, 2, 3]
    assert version_for_new_subscription(GRANDFATHERED, far) == 3


def test_instants_compare_in_utc_whatever_their_offset():
    paris_summer = timezone(timedelta(hours=2))
    local_midnight = datetime(2026, 3, 31, 0, 0, tzinfo=paris_summer)  # 2026-03-30 22:00 UTC
    assert version_for_cycle(NOTICE_30, 1, local_midnight) == 1
    assert version_for_cycle(NOTICE_30, 1, datetime(2026, 3, 31, 2, 0, tzinfo=paris_summer)) == 2


def test_unknown_version_and_naive_instants_are_refused():
    with pytest.raises(NotFound, match="has no version 4"):
        version_for_cycle(NOTICE_30, 4, V3)
    with pytest.raises(ValidationFailed, match="no timezone"):
        version_for_new_subscription(NOTICE_30, datetime(2026, 5, 1))
