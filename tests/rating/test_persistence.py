"""Rating mediated usage into `rated_usage`: control totals, tariff amounts with allowances drawn in
event order, model quantities, failures kept with their reason and retried, explain."""

from __future__ import annotations

from sqlalchemy import select

from telbill.rating.explain_usage import explain_stored
from telbill.rating.model import AllowanceBalance, RatedUsage
from telbill.rating.service import rate_pending
from telbill.subscriptions import change_plan

from .world import add_usage, utc, world


def current(session, usage_id):
    stmt = select(RatedUsage).where(
        RatedUsage.usage_record_id == usage_id, RatedUsage.superseded_by.is_(None)
    )
    return session.scalars(stmt).one()


def test_rates_and_stores_with_control_totals(session):
    """Plan A, EUR. UK calls at 0.60/min in whole minutes, 2 free international minutes a month:
    call 1 (150 s → 3 min charged) draws the 2 minutes and pays 1 → 0.60; call 2 (30 s → 1 min)
    finds the bucket empty → 0.60. A national call keeps its 95 s for the bill run."""
    w = world(session)
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    first = add_usage(session, sub, utc(2026, 3, 2, 9), to="447700900123", seconds=150)
    second = add_usage(session, sub, utc(2026, 3, 2, 10), to="447700900123", seconds=30)
    national = add_usage(session, sub, utc(2026, 3, 2, 11), seconds=95)
    report = rate_pending(session, w.clock)
    assert (report.records_in, report.rated, report.failed) == (3, 3, 0) and report.balanced
    assert report.amounts == {"EUR": 1_200_000}
    a, b, n = current(session, first), current(session, second), current(session, national)
    assert (a.amount_micros, a.free_quantity, a.charge_code, a.tariff_code) == (
        600_000,
        120,
        "voice-intl",
        "calls-eur",
    )
    assert (b.amount_micros, b.free_quantity) == (600_000, 0)
    assert (n.pricing, n.amount_micros, n.quantity_base, n.charge_code) == (
        "model",
        None,
        95,
        "voice-national",
    )
    assert a.billing_period_start == utc(2026, 3, 1) and a.generation == 1
    (bucket,) = session.scalars(select(AllowanceBalance)).all()
    assert (bucket.opening, bucket.remaining) == (120, 0)
    assert rate_pending(session, w.clock).records_in == 0  # nothing left to rate


def test_failed_records_are_kept_and_retried(session):
    """A premium call on Plan A has no charge: stored as failed. Once the plan change to Plan B is
    backdated before the call, the next run rates it: 1 min at 1.00 + 0.50 connect fee = 1.50."""
    w = world(session, utc(2026, 3, 3))
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    call = add_usage(session, sub, utc(2026, 3, 2, 9), to="33891234567", seconds=40)
    report = rate_pending(session, w.clock)
    assert (report.failed, report.reasons) == (1, {"no_charge_for_usage": 1})
    assert (current(session, call).status, current(session, call).reason) == ("failed", "no_charge_for_usage")
    change_plan(session, w.clock, sub.id, "plan-b", at=utc(2026, 3, 1, 12))
    again = rate_pending(session, w.clock)
    assert (again.records_in, again.rated) == (1, 1)
    row = current(session, call)
    assert (row.generation, row.status, row.amount_micros, row.charge_code) == (
        2,
        "rated",
        1_500_000,
        "voice-premium",
    )


def test_explain_a_stored_record(session):
    w = world(session)
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    call = add_usage(session, sub, utc(2026, 3, 2, 9), to="447700900123", seconds=150)
    rate_pending(session, w.clock)
    text = "\n".join(explain_stored(session, str(call)))
    assert "destination set international.uk → scope international" in text
    assert "charge voice-intl (tariff)" in text
    assert "tariff calls-eur:" in text
    assert "amount 1800000 micros EUR" in text  # the engine's trace, before allowances
    assert "free 120 from buckets" in text and "amount 0.600000 EUR" in text
    rated = current(session, call)
    assert explain_stored(session, f"r:{rated.id}")[-1] == "  amount 0.600000 EUR"
