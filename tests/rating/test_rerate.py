"""Re-rating after a tariff correction: usage not invoiced is replaced (next generation), usage
invoiced stays as billed and leaves an adjustment for the next invoice; twice is once."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from telbill.catalog import load_catalog, parse_catalog_text
from telbill.rating import repository as repo
from telbill.rating.model import AllowanceBalance, RatedUsage, RatingAdjustment
from telbill.rating.rerate import rerate
from telbill.rating.service import rate_pending
from telbill.rating.usage_source import rerating_adjustments

from .world import CATALOG, add_usage, utc, world

UK = "447700900123"


def correct_price(session, clock, price: str) -> None:
    """Load the same catalog with the UK rate of `calls-eur` at `price` (a new rating section)."""
    load_catalog(session, clock, parse_catalog_text(CATALOG.replace('price: "0.60"', f'price: "{price}"')))


def state(session) -> tuple:
    """Everything re-rating may change: current rated rows, balances, adjustments."""
    rows = session.execute(
        select(RatedUsage.usage_record_id, RatedUsage.generation, RatedUsage.status, RatedUsage.amount_micros)
        .where(RatedUsage.superseded_by.is_(None))
        .order_by(RatedUsage.usage_record_id)
    ).all()
    balances = session.execute(
        select(AllowanceBalance.bucket_id, AllowanceBalance.opening, AllowanceBalance.remaining).order_by(
            AllowanceBalance.bucket_id
        )
    ).all()
    adjustments = session.execute(
        select(
            RatingAdjustment.charge_code, RatingAdjustment.amount_micros, RatingAdjustment.status
        ).order_by(RatingAdjustment.id)
    ).all()
    return [tuple(r) for r in rows], [tuple(b) for b in balances], [tuple(a) for a in adjustments]


def test_replaced_when_not_invoiced_adjusted_when_invoiced_and_twice_is_once(session):
    """UK calls at 0.60/min, 2 free international minutes a month (whole minutes).
    February: 150 s → 3 min, 2 free, 1 paid = 0.60 — invoiced. March: 150 s → 0.60, then 30 s → 0.60.
    The UK rate is corrected to 0.50. Re-rating February and March: March's two calls get a second
    generation at 0.50 each; February's stays at 0.60 as billed and a −0.10 adjustment waits for
    the next invoice. Running it again changes nothing."""
    w = world(session, utc(2026, 3, 20))
    acc = w.account(currency="EUR")
    sub = w.order(acc, "plan-a", at=utc(2026, 2, 1))
    feb = add_usage(session, sub, utc(2026, 2, 10, 9), to=UK, seconds=150)
    march = [
        add_usage(session, sub, utc(2026, 3, 2, 9), to=UK, seconds=150),
        add_usage(session, sub, utc(2026, 3, 2, 10), to=UK, seconds=30),
    ]
    rate_pending(session, w.clock)
    assert repo.mark_invoiced(session, 999, sub.id, "voice-intl", utc(2026, 2, 1)) == 1
    correct_price(session, w.clock, "0.50")

    first = rerate(session, w.clock, utc(2026, 2, 1), utc(2026, 4, 1))
    assert (first.records_in, first.replaced, first.unchanged, first.invoiced) == (3, 2, 0, 1)
    assert first.adjustments == 1 and first.balanced
    rows, balances, adjustments = state(session)
    assert rows == [
        (feb, 1, "rated", 600_000),
        (march[0], 2, "rated", 500_000),
        (march[1], 2, "rated", 500_000),
    ]
    assert sorted(b[1:] for b in balances) == [(120, 0), (120, 0)]
    assert adjustments == [("voice-intl", -100_000, "pending")]
    (item,) = rerating_adjustments(session, [acc], utc(2026, 1, 1), utc(2026, 5, 1))
    assert (str(item.amount), item.kind, item.key.split("|")[0]) == ("-0.10", "adjustment", "ad")

    before = state(session)
    second = rerate(session, w.clock, utc(2026, 2, 1), utc(2026, 4, 1))
    assert (second.replaced, second.unchanged, second.invoiced) == (0, 2, 1)
    assert state(session) == before


def test_failed_records_are_included(session):
    """A world-roaming SMS on an account whose tariff has no rate fails; after the correction
    adds the rate, re-rating the period rates it."""
    w = world(session, utc(2026, 3, 20))
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    load_catalog(
        session,
        w.clock,
        parse_catalog_text(
            CATALOG.replace(
                '{usage_type: sms, zone: world-roaming, price: "0.30", per: 1}',
                '{destination_set: national.all, price: "0"}',
            )
        ),
    )
    sms = add_usage(session, sub, utc(2026, 3, 5), usage_type="sms", mcc="310")
    assert rate_pending(session, w.clock).failed == 1
    load_catalog(session, w.clock, parse_catalog_text(CATALOG))
    report = rerate(session, w.clock, utc(2026, 3, 1), utc(2026, 4, 1))
    assert (report.rated, report.replaced) == (1, 1)
    assert state(session)[0] == [(sms, 2, "rated", 300_000)]


CALLS = st.lists(
    st.tuples(st.integers(1, 400), st.sampled_from([UK, "33612345678"]), st.integers(0, 50)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=12)
@given(calls=CALLS, price=st.sampled_from(["0.40", "0.50", "0.75"]), invoiced=st.booleans())
def test_rerating_twice_equals_once(session, calls, price, invoiced):
    nested = session.begin_nested()
    try:
        w = world(session, utc(2026, 3, 25))
        sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 2, 1))
        for seconds, to, half_days in calls:
            add_usage(
                session, sub, utc(2026, 2, 20) + timedelta(hours=12 * half_days), to=to, seconds=seconds
            )
        rate_pending(session, w.clock)
        if invoiced:
            repo.mark_invoiced(session, 1, sub.id, "voice-intl", utc(2026, 2, 1))
        correct_price(session, w.clock, price)
        once = rerate(session, w.clock, utc(2026, 2, 1), utc(2026, 4, 1))
        after_once = state(session)
        twice = rerate(session, w.clock, utc(2026, 2, 1), utc(2026, 4, 1))
        assert state(session) == after_once
        assert twice.replaced == 0 and once.balanced and twice.balanced
    finally:
        nested.rollback()
        session.expunge_all()
