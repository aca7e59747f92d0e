"""The bill run's usage port over `rated_usage`: one row per account, subscription, charge, usage
type, destination and billing period, periods cut on the account's own calendar."""

from __future__ import annotations

from decimal import Decimal

from telbill import rating
from telbill.rating.service import rate_pending
from telbill.rating.usage_source import RatedUsageSource

from .world import add_usage, utc, world


def test_grouping_at_a_period_boundary_in_the_account_timezone(session):
    """Account in Europe/Paris, BCD 1. 31 March 21:59 UTC is 23:59 in Paris (March); 22:00 UTC is
    midnight, 1 April (April). Two national calls of 60 s in March, one in April; a UK call in April."""
    w = world(session)
    acc = w.account(currency="EUR", timezone="Europe/Paris", bill_cycle_day=1)
    sub = w.order(acc, "plan-a", at=utc(2026, 3, 1))
    add_usage(session, sub, utc(2026, 3, 31, 21, 59))
    add_usage(session, sub, utc(2026, 3, 31, 21, 59, 30))
    add_usage(session, sub, utc(2026, 3, 31, 22))
    add_usage(session, sub, utc(2026, 3, 31, 22, 30), to="447700900123", seconds=61)
    rate_pending(session, w.clock)
    rows = RatedUsageSource(session).aggregates([acc], utc(2026, 2, 1), utc(2026, 6, 1))
    got = sorted(
        (r.period_start, r.charge_code, r.destination, r.quantity, r.unit, r.amount_micros, r.events)
        for r in rows
    )
    assert got == [
        (utc(2026, 2, 28, 23), "voice-national", "national.all", Decimal(120), "seconds", 0, 2),
        (
            utc(2026, 3, 31, 22),
            "voice-intl",
            "international.uk",
            Decimal(61),
            "seconds",
            0,
            1,
        ),  # in allowance
        (utc(2026, 3, 31, 22), "voice-national", "national.all", Decimal(60), "seconds", 0, 1),
    ]
    only_march = RatedUsageSource(session).aggregates([acc], utc(2026, 2, 1), utc(2026, 3, 31, 22))
    assert [r.events for r in only_march] == [2]
    assert rating.usage_aggregates(session, [acc], utc(2026, 2, 1), utc(2026, 6, 1)) == rows


def test_failed_and_included_usage_is_not_billed(session):
    w = world(session)
    acc = w.account(currency="EUR")
    sub = w.order(acc, "plan-b", at=utc(2026, 3, 1))
    add_usage(session, sub, utc(2026, 3, 2))  # national: Plan B's unlimited allowance
    add_usage(session, sub, utc(2026, 3, 2), usage_type="data", volume=10)  # Plan B sells no data
    report = rate_pending(session, w.clock)
    assert (report.rated, report.failed) == (1, 1)
    assert RatedUsageSource(session).aggregates([acc], utc(2026, 1, 1), utc(2027, 1, 1)) == []
