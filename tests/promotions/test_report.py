"""The effectiveness report's loader over the database, with a fake invoice source."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from telbill.analytics import InvoiceFact, Retention, coupon_effectiveness, load_effectiveness_data
from telbill.billing.discounts import apply_discounts
from telbill.promotions import active_discounts, cycle_number_of, record_applications, redeem
from tests.promotions.test_active import FEB, LINES, MAR


class FakeInvoices:
    def __init__(self, facts):
        self.facts = facts
        self.asked = None

    def invoices_of(self, session, account_ids):
        self.asked = list(account_ids)
        return [f for f in self.facts if f.account_id in account_ids]


def test_loaded_rows_give_the_report(session, clock, make_account, subscribe, coupon):
    coupon("WELCOME", duration="cycles", cycles=3)
    coupon("OTHER")
    redeemer, other = make_account(), make_account()
    subscribe(redeemer)
    redeem(session, clock, redeemer.id, "welcome")
    for invoice_id, period in ((1, FEB), (2, MAR)):
        cycle = cycle_number_of(session, redeemer.id, period[0])
        result = apply_discounts(
            LINES, active_discounts(session, [redeemer.id], *period)[redeemer.id], cycle, currency_code="EUR"
        )
        record_applications(session, clock, invoice_id, redeemer.id, result.applications, cycle)
    subscribe(other)
    invoices = FakeInvoices([InvoiceFact(redeemer.id, FEB[0], "EUR", Decimal("40.00"))])

    data = load_effectiveness_data(
        session, code="Welcome", start=datetime(2026, 1, 1, tzinfo=UTC), invoices=invoices
    )
    assert invoices.asked == [redeemer.id] and set(data.coupons) == {"WELCOME"}
    [row] = coupon_effectiveness(data, as_of=clock.now() + timedelta(days=40), retention_days=30)
    assert (row.redemptions, row.over_time) == (1, ((date(2026, 1, 1), 1),))
    assert row.discount_granted == {"EUR": Decimal("20.00")}  # 20 % of 50.00, twice
    assert row.revenue == {"EUR": Decimal("40.00")}
    assert row.retention == Retention(1, 1) and row.comparable == Retention(1, 1)

    outside = load_effectiveness_data(session, start=datetime(2026, 2, 1, tzinfo=UTC))
    assert {r.code: r.redemptions for r in coupon_effectiveness(outside, as_of=clock.now())} == {
        "OTHER": 0,
        "WELCOME": 0,
    }
