from datetime import UTC, date, datetime, timedelta

import pytest

from telbill.accounts import (
    PreferencesUpdate,
    change_bill_cycle,
    cycle_history,
    cycle_in_force,
    parse_spec,
    update_preferences,
)
from telbill.billing.periods import BillingCycle
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money
from telbill.events.service import events_for


def update(session, clock, account, **fields):
    return update_preferences(session, clock, account.id, parse_spec(PreferencesUpdate, **fields))


def test_update_changes_only_the_given_fields_and_records_old_and_new(session, clock, new_account):
    account = new_account(language="fr", payment_terms_days=30, credit_limit="100")
    update(
        session,
        clock,
        account,
        language="en",
        payment_terms_days=45,
        invoice_delivery="portal",
        communication={"marketing": {"channel": "sms", "opt_in": True}},
        tax_exemption={"reason": "Diplomatic mission", "certificate_id": "DM-7"},
    )
    assert (account.language, account.payment_terms_days, account.invoice_delivery) == ("en", 45, "portal")
    assert account.credit_limit_money == Money.of("100", "EUR")  # not given: unchanged
    assert account.communication["marketing"] == {"channel": "sms", "opt_in": True}
    assert account.communication["dunning"] == {"channel": "email", "opt_in": True}
    assert account.tax_exempt and account.tax_exemption_certificate == "DM-7"
    event = events_for(session, "billing_account", account.id)[-1]
    assert event.event_type == "BillingAccount.preferencesChanged"
    assert event.payload["changes"]["language"] == {"old": "fr", "new": "en"}
    assert event.payload["changes"]["payment_terms_days"] == {"old": 30, "new": 45}
    assert "credit_limit" not in event.payload["changes"]

    update(session, clock, account, tax_exemption=None, credit_limit=None)
    assert not account.tax_exempt and account.credit_limit is None
    before = len(events_for(session, "billing_account", account.id))
    update(session, clock, account, language="en")  # no change, no event
    assert len(events_for(session, "billing_account", account.id)) == before


def test_currency_changes_only_when_the_account_has_no_subscriptions(session, clock, new_account):
    account = new_account(credit_limit="100")
    with pytest.raises(ValidationFailed, match="cannot change once set"):
        update(session, clock, account, currency="USD", credit_limit="100")
    with pytest.raises(ValidationFailed, match="has subscriptions"):
        update_preferences(
            session,
            clock,
            account.id,
            parse_spec(PreferencesUpdate, currency="USD", credit_limit="100"),
            has_subscriptions=lambda _s, _id: True,
        )
    with pytest.raises(ValidationFailed, match="credit limit again"):
        update_preferences(
            session,
            clock,
            account.id,
            parse_spec(PreferencesUpdate, currency="USD"),
            has_subscriptions=lambda *_: False,
        )
    update_preferences(
        session,
        clock,
        account.id,
        parse_spec(PreferencesUpdate, currency="JPY", credit_limit="20000"),
        has_subscriptions=lambda *_: False,
    )
    assert account.credit_limit_money == Money.of("20000", "JPY")
    with pytest.raises(ValidationFailed, match="more decimals than JPY"):
        update(session, clock, account, credit_limit="1.5")


def test_a_payer_cannot_drift_from_the_children_it_pays_for(session, clock, new_account):
    payer = new_account(pays_for_children=True)
    child = new_account(parent=payer)
    with pytest.raises(ValidationFailed) as err:
        update(session, clock, payer, timezone="America/New_York", pays_for_children=False)
    assert f"pays_for_children: {child.number} is paid by this account; change it first" in err.value.details
    with pytest.raises(ValidationFailed, match="timezone Europe/Paris differs"):
        update(session, clock, payer, timezone="America/New_York")
    with pytest.raises(ValidationFailed, match="close or move the active child"):
        update(session, clock, payer, status="closed")
    update(session, clock, child, payment_responsibility="self")
    update(session, clock, child, status="closed")
    assert child.closed_at == clock.now()
    update(session, clock, payer, pays_for_children=False, status="closed")
    assert payer.status == "closed"


def test_bill_cycle_change_takes_effect_at_the_end_of_the_running_period(session, clock, new_account):
    account = new_account(bill_cycle_day=1)  # monthly, Europe/Paris; now is 20 Jan 2026
    old = account.billing_cycle
    change_bill_cycle(session, clock, account.id, day=15)
    (change,) = cycle_history(session, account.id)
    assert change.effective_at == datetime(2026, 1, 31, 23, tzinfo=UTC)  # 1 Feb, local midnight
    assert (change.old_bill_cycle_day, change.new_bill_cycle_day) == (1, 15)
    assert change.new_cycle_anchor == date(2026, 2, 1)
    assert account.bill_cycle_day == 15
    assert cycle_in_force(session, account.id, clock.now()) == old
    assert cycle_in_force(session, account.id, change.effective_at) == BillingCycle(
        "month", 1, 15, date(2026, 2, 1)
    )
    event = events_for(session, "billing_account", account.id)[-1]
    assert event.event_type == "BillingAccount.cycleChanged"
    assert event.payload["old"]["bill_cycle_day"] == 1 and event.payload["new"]["bill_cycle_day"] == 15
    assert event.payload["effective_at"] == "2026-01-31T23:00:00+00:00"


def test_cycle_change_cascades_to_paid_children_and_is_refused_on_them(session, clock, new_account):
    payer = new_account(pays_for_children=True, bill_cycle_day=31)
    child = new_account(parent=payer)
    with pytest.raises(ValidationFailed, match=f"change the cycle of {payer.number}"):
        change_bill_cycle(session, clock, child.id, day=5)
    change_bill_cycle(session, clock, payer.id, cycle="quarterly", effective_at=clock.now())
    assert (child.cycle_unit, child.cycle_count, child.cycle_anchor) == ("month", 3, payer.cycle_anchor)
    assert len(cycle_history(session, child.id)) == 1
    with pytest.raises(ValidationFailed, match="in the past"):
        change_bill_cycle(session, clock, payer.id, day=2, effective_at=clock.now() - timedelta(days=1))
    with pytest.raises(ValidationFailed, match=r"1\.\.31"):
        change_bill_cycle(session, clock, payer.id, day=0)
    with pytest.raises(ValidationFailed, match="unknown cycle length"):
        change_bill_cycle(session, clock, payer.id, cycle="sometimes")


def test_a_second_cycle_change_waits_for_the_pending_one(session, clock, new_account):
    account = new_account(bill_cycle_day=1)
    change_bill_cycle(session, clock, account.id, day=15)
    with pytest.raises(ValidationFailed, match="already has a cycle change pending"):
        change_bill_cycle(session, clock, account.id, day=20)
    clock.advance(timedelta(days=30))
    change_bill_cycle(session, clock, account.id, cycle="quarterly")
    first, second = cycle_history(session, account.id)
    assert (second.old_bill_cycle_day, second.new_cycle_count) == (15, 3)
    assert cycle_in_force(session, account.id, first.effective_at).bill_cycle_day == 15
    assert cycle_in_force(session, account.id, second.effective_at).count == 3


def test_go_live_date_is_set_at_creation_inherited_by_paid_children_and_fixed_once_billed(
    session, clock, new_account
):
    parent = new_account(pays_for_children=True, billing_start="2026-03-01")
    child = new_account(parent=parent)
    assert (parent.billing_start, child.billing_start) == (date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(ValidationFailed) as refused:  # nobody said whether it was billed
        update(session, clock, parent, billing_start="2026-04-01")
    assert "billing_start" in refused.value.details[0]
    changes = parse_spec(PreferencesUpdate, billing_start="2026-04-01")
    update_preferences(session, clock, parent.id, changes, has_been_billed=lambda s, a: False)
    assert parent.billing_start == date(2026, 4, 1)
    event = events_for(session, "billing_account", parent.id)[-1]
    assert event.payload["changes"]["billing_start"] == {"old": "2026-03-01", "new": "2026-04-01"}
    with pytest.raises(ValidationFailed) as billed:
        cleared = parse_spec(PreferencesUpdate, billing_start=None)
        update_preferences(session, clock, parent.id, cleared, has_been_billed=lambda s, a: True)
    assert "has been billed already" in billed.value.details[0]
    assert parent.billing_start == date(2026, 4, 1)
