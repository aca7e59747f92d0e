"""Which offer version applies: to a new subscription, and to an existing one at each cycle start.

Versions are numbered from 1 in the order published; `effective_from` increases with the number.
"""

from __future__ import annotations

from datetime import datetime

from telbill.catalog.offers import GrandfatheredPolicy, NoticePolicy, Offer
from telbill.core.clock import ensure_utc
from telbill.core.errors import NotFound


def version_for_new_subscription(offer: Offer, at: datetime) -> int:
    """The latest version whose effective_from is at or before `at`."""
    at = ensure_utc(at)
    number = 0
    for i, version in enumerate(offer.versions, start=1):
        if version.effective_from <= at:
            number = i
    if number == 0:
        first = offer.versions[0].effective_from.isoformat()
        raise NotFound(f"offer {offer.code!r} is not available before {first} (asked for {at.isoformat()})")
    return number


def version_for_cycle(offer: Offer, subscribed_version: int, cycle_start: datetime) -> int:
    """The version an existing subscription is billed at for the cycle starting at `cycle_start`.

    grandfathered: always the subscribed version. notice: the latest later version with
    effective_from + notice_days <= cycle_start, so it starts at the first cycle on/after that instant;
    a subscription never moves back to an older version.
    """
    offer.version(subscribed_version)  # NotFound for a version the offer does not have
    cycle_start = ensure_utc(cycle_start)
    policy = offer.price_update
    if isinstance(policy, GrandfatheredPolicy):
        return subscribed_version
    assert isinstance(policy, NoticePolicy)
    number = subscribed_version
    for i in range(subscribed_version + 1, len(offer.versions) + 1):
        if offer.version(i).effective_from + policy.notice <= cycle_start:
            number = i
    return number
