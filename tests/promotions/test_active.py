"""What the bill run gets: discounts in force per period, and records of what they did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from telbill.billing.discounts import DiscountSource, Skipped, apply_discounts
from telbill.core.errors import ValidationFailed
from telbill.events.model import OutboxEvent
from telbill.invoicing.content import InvoiceLine, TaxCategory
from telbill.promotions import (
    BUNDLE_PRIORITY,
    AccountDiscountCreate,
    active_discounts,
    cycle_number_of,
    get_redemption,
    grant_account_discount,
    parse,
    record_applications,
    redeem,
    revoke_redemption,
)
from telbill.promotions.model import DiscountApplicationRow

# Monthly periods on the Europe/Paris calendar (local midnight on the 1st, UTC+1 in winter).
FEB = (datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2026, 2, 28, 23, tzinfo=UTC))
MAR = (FEB[1], datetime(2026, 3, 31, 22, tzinfo=UTC))
APR = (MAR[1], datetime(2026, 4, 30, 22, tzinfo=UTC))
MAY = (APR[1], datetime(2026, 5, 31, 22, tzinfo=UTC))


def line(line_id, amount, product="mobile-20gb", kind="recurring"):
    value = Decimal(amount)
    return InvoiceLine(
        line_id, f"{product} {kind}", Decimal(1), "C62", value, value, TaxCategory.STANDARD, Decimal(20),
        product_code=product, charge_kind=kind,
    )  # fmt: skip


LINES = [line("L1", "20.00"), line("L2", "30.00", "fibre-1g")]


def bill(session, clock, account, period, invoice_id, lines=LINES):
    """What the bill run does for one account and period; returns the discount amounts by source."""
    cycle = cycle_number_of(session, account.id, period[0])
    active = active_discounts(session, [account.id], *period)[account.id]
    result = apply_discounts(lines, active, cycle, currency_code=account.currency)
    record_applications(session, clock, invoice_id, account.id, result.applications, cycle)
    return {a.discount_id: a.amount.amount for a in result.applications if a.applied}


def test_cycle_numbers_count_from_the_accounts_first_period(session, account):
    assert account.created_at.month == 1  # anchored on January: January is cycle 1
    assert [cycle_number_of(session, account.id, p[0]) for p in (FEB, MAR, APR, MAY)] == [2, 3, 4, 5]


def test_a_three_cycle_coupon_applies_on_three_invoices_then_is_exhausted(session, clock, account, coupon):
    coupon("WELCOME3", duration="cycles", cycles=3, scope="product", targets=["mobile-20gb"])
    redemption = redeem(session, clock, account.id, "WELCOME3")
    key = f"redemption-{redemption.id}"
    amounts = [
        bill(session, clock, account, period, 100 + i) for i, period in enumerate((FEB, MAR, APR, MAY))
    ]
    assert amounts == [{key: Decimal("4.00")}] * 3 + [{}]
    stored = get_redemption(session, redemption.id)
    assert (stored.first_cycle, stored.cycles_applied, stored.status) == (2, 3, "exhausted")
    assert active_discounts(session, [account.id], *MAY) == {account.id: []}
    exhausted = session.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == "Coupon.redemptionExhausted")
    ).all()
    assert [e.payload["last_invoice_id"] for e in exhausted] == [102]


def test_a_redeemed_coupon_is_in_force_for_the_cycles_it_has_left(session, clock, account, coupon):
    coupon("TRIO", duration="cycles", cycles=3)
    redemption = redeem(session, clock, account.id, "TRIO")
    bill(session, clock, account, FEB, 1)
    # re-asked for March without recording (a preview): still in force, cycle 2 of 3
    [active] = active_discounts(session, [account.id], *MAR)[account.id]
    assert (active.discount_id, active.first_cycle, active.source) == (
        f"redemption-{redemption.id}",
        2,
        DiscountSource.COUPON,
    )
    # a cycle far beyond its three is out even if invoices were missed in between
    assert active_discounts(session, [account.id], *MAY, cycle_numbers={account.id: 9})[account.id] == []


def test_a_once_coupon_and_a_coupon_redeemed_late_start_on_the_next_invoice(session, clock, account, coupon):
    coupon("ONCE10", amounts={"EUR": "10.00"})
    bill(session, clock, account, FEB, 1)  # February invoiced before the redemption
    clock.advance_to(datetime(2026, 2, 10, tzinfo=UTC))
    redemption = redeem(session, clock, account.id, "ONCE10")
    assert bill(session, clock, account, MAR, 2) == {f"redemption-{redemption.id}": Decimal("10.00")}
    assert bill(session, clock, account, APR, 3) == {}
    assert get_redemption(session, redemption.id).first_cycle == 3


def test_redemptions_after_the_period_or_revoked_are_not_in_force(session, clock, account, coupon):
    coupon("LATE", duration="forever")
    clock.advance_to(datetime(2026, 3, 5, tzinfo=UTC))
    redemption = redeem(session, clock, account.id, "LATE")
    assert active_discounts(session, [account.id], *FEB)[account.id] == []
    assert len(active_discounts(session, [account.id], *MAR)[account.id]) == 1
    revoke_redemption(session, clock, redemption.id, "fraud")
    assert active_discounts(session, [account.id], *MAR)[account.id] == []


def test_record_applications_is_idempotent_per_invoice_and_discount(session, clock, account, coupon):
    coupon("TWICE", duration="cycles", cycles=2)
    redemption = redeem(session, clock, account.id, "TWICE")
    cycle = cycle_number_of(session, account.id, FEB[0])
    active = active_discounts(session, [account.id], *FEB)[account.id]
    result = apply_discounts(LINES, active, cycle, currency_code="EUR")
    first = record_applications(session, clock, 7, account.id, result.applications, cycle)
    again = record_applications(session, clock, 7, account.id, result.applications, cycle)
    assert (len(first), again) == (1, [])
    assert get_redemption(session, redemption.id).cycles_applied == 1
    [row] = session.scalars(select(DiscountApplicationRow)).all()
    assert (row.invoice_id, row.amount, row.currency, row.line_ids, row.cycle_number) == (
        7,
        Decimal("10.00"),
        "EUR",
        ["L1", "L2"],
        2,
    )
    assert "10.00 EUR" in row.explanation and row.redemption_id == redemption.id


def test_records_of_another_accounts_redemption_are_refused(session, clock, make_account, coupon):
    coupon("MINE")
    mine, other = make_account(), make_account()
    redeem(session, clock, mine.id, "MINE")
    result = apply_discounts(
        LINES, active_discounts(session, [mine.id], *FEB)[mine.id], 2, currency_code="EUR"
    )
    with pytest.raises(ValidationFailed, match="another account"):
        record_applications(session, clock, 8, other.id, result.applications, 2)


def test_personalised_discounts_overlapping_the_period(session, clock, account):
    spec = parse(
        AccountDiscountCreate,
        account_id=account.id,
        kind="percentage",
        value="10",
        valid_from=FEB[0] + timedelta(days=10),  # from mid-February
        valid_to=APR[0],  # to the end of March, exclusive
        reason="Retention offer after complaint",
        created_by="agent-42",
    )
    granted = grant_account_discount(session, clock, spec)
    in_force = [bool(active_discounts(session, [account.id], *p)[account.id]) for p in (FEB, MAR, APR)]
    assert in_force == [True, True, False]
    assert bill(session, clock, account, FEB, 1) == {f"account-discount-{granted.id}": Decimal("5.00")}
    row = session.scalars(select(DiscountApplicationRow)).one()
    assert (row.source, row.account_discount_id) == ("account", granted.id)


def test_personalised_amount_discounts_and_their_checks(session, clock, make_account):
    account = make_account()
    common = {"account_id": account.id, "valid_from": FEB[0], "reason": "Goodwill", "created_by": "agent-1"}
    granted = grant_account_discount(
        session, clock, parse(AccountDiscountCreate, kind="amount", value="3.00", **common)
    )
    assert granted.currency == "EUR"
    assert bill(session, clock, account, FEB, 1) == {f"account-discount-{granted.id}": Decimal("3.00")}
    with pytest.raises(ValidationFailed, match="percentage must be in"):
        spec = parse(AccountDiscountCreate, kind="percentage", value="150", **common)
        grant_account_discount(session, clock, spec)
    with pytest.raises(ValidationFailed, match="targets"):
        spec = parse(AccountDiscountCreate, kind="percentage", value="5", scope="product", **common)
        grant_account_discount(session, clock, spec)


def test_a_percentage_bundle_discounts_its_components_recurring_charges(session, clock, account, subscribe):
    subscription = subscribe(account, "duo")
    [bundle] = active_discounts(session, [account.id], *FEB)[account.id]
    assert (bundle.discount_id, bundle.source, bundle.terms.priority) == (
        f"bundle-{subscription.id}",
        DiscountSource.BUNDLE,
        BUNDLE_PRIORITY,
    )
    assert bundle.required_products == {"mobile-20gb", "fibre-1g"}
    lines = [*LINES, line("U1", "4.00", kind="usage")]
    assert bill(session, clock, account, FEB, 1, lines) == {bundle.discount_id: Decimal("7.50")}  # 15 % of 50
    only_mobile = apply_discounts([LINES[0]], [bundle], 2, currency_code="EUR")
    assert only_mobile.applications[0].skipped is Skipped.BUNDLE_INCOMPLETE


def test_an_amount_bundle_in_the_accounts_currency_and_plain_plans_get_none(
    session, clock, make_account, subscribe
):
    bundled, plain = make_account(), make_account()
    subscribe(bundled, "duo-fixed")
    subscribe(plain, "mobile-20gb")
    found = active_discounts(session, [bundled.id, plain.id], *FEB)
    assert [(d.terms.value, d.terms.currency) for d in found[bundled.id]] == [(Decimal("5.00"), "EUR")]
    assert found[plain.id] == []
    assert bill(session, clock, bundled, FEB, 1) == {found[bundled.id][0].discount_id: Decimal("5.00")}


def test_empty_periods_are_refused(session, account):
    with pytest.raises(ValidationFailed):
        active_discounts(session, [account.id], FEB[1], FEB[0])
