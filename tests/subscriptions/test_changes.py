"""Changes now, backdated and scheduled, driven by a test clock."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from telbill.core.errors import Conflict, IllegalTransition, ValidationFailed
from telbill.events.service import events_for
from telbill.scheduler import advance
from telbill.subscriptions import (
    assign_service_id,
    cancel,
    change_plan,
    change_quantity,
    release_service_id,
    resume,
    service_id_intervals,
    suspend,
)
from telbill.subscriptions.repository import pending_charges_of
from telbill.subscriptions.service import history

from .conftest import T0

APRIL_1_PARIS = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # local midnight, CEST


def _events(session, sub):
    return [e.event_type for e in events_for(session, "subscription", sub.id)]


def test_scheduled_changes_apply_in_order_at_their_instant_exactly_once(session, clock, subscribe):
    sub = subscribe()
    suspend(session, clock, sub.id, at=T0 + timedelta(days=3))
    resume(session, clock, sub.id, at=T0 + timedelta(days=5))  # legal: suspended by then
    change_quantity(session, clock, sub.id, 2, at=T0 + timedelta(days=4))
    assert sub.state == "active"
    runs = advance(session, clock, T0 + timedelta(days=4, hours=1))
    assert [r.ran_at for r in runs] == [T0 + timedelta(days=3), T0 + timedelta(days=4)]
    assert (sub.state, sub.quantity, sub.suspended_at) == ("suspended", 2, T0 + timedelta(days=3))
    advance(session, clock, T0 + timedelta(days=30))
    assert sub.state == "active"
    assert advance(session, clock, T0 + timedelta(days=31)) == []
    assert _events(session, sub).count("Subscription.resumed") == 1
    applied = [(c.kind, c.effective_at) for c in history(session, sub.id) if c.status == "applied"]
    assert [k for k, _ in applied] == ["activate", "suspend", "quantity_change", "resume"]


def test_backdated_change_applies_now_with_its_past_instant(session, clock, subscribe):
    sub = subscribe(at=T0 - timedelta(days=20))
    assert sub.activated_at == T0 - timedelta(days=20)
    suspend(session, clock, sub.id, at=T0 - timedelta(days=2))
    assert sub.state == "suspended" and sub.suspended_at == T0 - timedelta(days=2)
    event = events_for(session, "subscription", sub.id)[-1]
    assert event.occurred_at == T0 and event.payload["effective_at"] == (T0 - timedelta(days=2)).isoformat()


def test_backdating_is_limited_and_cannot_rewrite_history(session, clock, subscribe):
    sub = subscribe(at=T0 - timedelta(days=20))
    with pytest.raises(ValidationFailed, match="more than 90 days in the past"):
        suspend(session, clock, sub.id, at=T0 - timedelta(days=91))
    with pytest.raises(ValidationFailed, match=r"before subscription .* starts"):
        suspend(session, clock, sub.id, at=T0 - timedelta(days=30))
    suspend(session, clock, sub.id, at=T0 - timedelta(days=2))
    with pytest.raises(ValidationFailed, match="before the last applied change"):
        change_quantity(session, clock, sub.id, 2, at=T0 - timedelta(days=5))


def test_illegal_transitions_name_from_and_to_and_change_nothing(session, clock, subscribe):
    sub = subscribe()
    with pytest.raises(IllegalTransition, match="from active to active"):
        resume(session, clock, sub.id)
    cancel(session, clock, sub.id, when="now")
    with pytest.raises(IllegalTransition, match="from cancelled to suspended"):
        suspend(session, clock, sub.id)
    assert sub.state == "cancelled"


def test_failing_use_case_leaves_neither_change_nor_event(session, clock, subscribe):
    sub = subscribe()
    events_before, changes_before = _events(session, sub), len(history(session, sub.id))
    nested = session.begin_nested()
    with pytest.raises(ValidationFailed):
        change_plan(session, clock, sub.id, "us-plan")  # priced in USD, account in EUR
    nested.rollback()
    assert _events(session, sub) == events_before and len(history(session, sub.id)) == changes_before
    assert sub.offer_code == "mobile-s"


def test_trial_ends_into_active_when_the_clock_reaches_it(session, clock, subscribe):
    sub = subscribe("mobile-trial")
    assert (sub.state, sub.phase, sub.trial_end) == ("trial", "trial", T0 + timedelta(days=14))
    advance(session, clock, T0 + timedelta(days=13))
    assert sub.state == "trial"
    advance(session, clock, T0 + timedelta(days=20))
    assert (sub.state, sub.phase) == ("active", "evergreen")
    activated = [
        e for e in events_for(session, "subscription", sub.id) if e.event_type == "Subscription.activated"
    ]
    assert [e.payload["from_state"] for e in activated] == ["pending", "trial"]
    assert activated[1].occurred_at == T0 + timedelta(days=14)


def test_cancelled_trial_does_not_convert(session, clock, subscribe):
    sub = subscribe("mobile-trial")
    cancel(session, clock, sub.id, at=T0 + timedelta(days=3))
    advance(session, clock, T0 + timedelta(days=20))
    assert sub.state == "cancelled" and sub.phase == "trial"


def test_contract_end_moves_to_evergreen_and_early_cancel_costs_remaining_months(session, clock, subscribe):
    early = subscribe("fibre-12")
    assert early.commitment_end == datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    cancel(session, clock, early.id, at=T0 + timedelta(days=100))  # immediate policy, but a date wins
    later = subscribe("fibre-12")
    advance(session, clock, datetime(2027, 4, 1, tzinfo=UTC))
    assert early.state == "cancelled" and later.phase == "evergreen" and later.state == "active"
    (fee,) = pending_charges_of(session, early.id)
    # 2026-06-18 → 2027-03-10: 8 whole months × 30.00
    assert (fee.kind, fee.amount, fee.currency) == ("early_termination", Decimal("240.00"), "EUR")
    assert "Subscription.contractEnded" in _events(session, later)
    assert pending_charges_of(session, later.id) == []


def test_plan_change_policy_immediate_and_end_of_period(session, clock, subscribe):
    small = subscribe("mobile-s")
    change_plan(session, clock, small.id, "mobile-l")  # mobile-s: immediate
    assert small.offer_code == "mobile-l"
    event = events_for(session, "subscription", small.id)[-1]
    assert event.event_type == "Subscription.planChanged" and event.payload["direction"] == "upgrade"
    large = subscribe("mobile-l")
    change = change_plan(session, clock, large.id, "mobile-s")  # mobile-l: end of period
    assert (change.status, change.effective_at) == ("pending", APRIL_1_PARIS)
    assert change.payload["direction"] == "downgrade"
    advance(session, clock, APRIL_1_PARIS)
    assert large.offer_code == "mobile-s" and change.status == "applied"


def test_cancel_policy_end_of_period_releases_msisdn_then(session, clock, subscribe):
    sub = subscribe("mobile-s", msisdn="+33600000010")
    change = cancel(session, clock, sub.id)
    assert change.effective_at == APRIL_1_PARIS and sub.state == "active"
    advance(session, clock, APRIL_1_PARIS + timedelta(hours=1))
    assert sub.state == "cancelled" and sub.cancelled_at == APRIL_1_PARIS
    (interval,) = [i for i in service_id_intervals(session) if i.subscription_id == sub.id]
    assert interval.valid_to == APRIL_1_PARIS
    again = subscribe("mobile-s", msisdn="+33600000010")
    assert again.state == "active"


def test_duplicate_msisdn_refused_while_held_and_allowed_after_release(session, clock, subscribe):
    first = subscribe(msisdn="+33600000020")
    second = subscribe()
    with pytest.raises(Conflict, match="held by subscription"):
        assign_service_id(session, clock, second.id, "msisdn", "33600000020")
    release_service_id(session, clock, first.id, "msisdn", "+33600000020")
    row = assign_service_id(session, clock, second.id, "msisdn", "+33600000020")
    assert row.valid_from == T0
    rows = [i for i in service_id_intervals(session, "msisdn") if i.value == "+33600000020"]
    assert [(r.subscription_id, r.valid_to) for r in rows] == [(first.id, T0), (second.id, None)]


def test_database_refuses_two_open_rows_for_one_identifier(session, clock, subscribe):
    from telbill.subscriptions.service import insert_identifier

    first = subscribe(msisdn="+33600000030")
    second = subscribe()
    with pytest.raises(Conflict):
        insert_identifier(session, second.id, "msisdn", "+33600000030", T0)  # skips the check
    assert first.state == "active"


def test_new_request_of_the_same_kind_replaces_the_pending_one(session, clock, subscribe):
    sub = subscribe()
    first = change_quantity(session, clock, sub.id, 2, at=T0 + timedelta(days=2))
    second = change_quantity(session, clock, sub.id, 3, at=T0 + timedelta(days=3))
    assert first.status == "cancelled" and second.status == "pending"
    advance(session, clock, T0 + timedelta(days=4))
    assert sub.quantity == 3


def test_change_no_longer_legal_when_due_is_cancelled_with_its_reason(session, clock, subscribe):
    sub = subscribe()
    change = change_quantity(session, clock, sub.id, 2, at=T0 + timedelta(days=10))
    cancel(session, clock, sub.id, when="now")
    assert change.status == "cancelled" and change.note == "subscription cancelled"
    assert advance(session, clock, T0 + timedelta(days=11)) == []
