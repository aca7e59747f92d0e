from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from telbill import accounts, subscriptions
from telbill.accounts import BillingAccount
from telbill.billing.golive import go_live_at
from telbill.billing.run import bill_run
from telbill.catalog import parse_catalog_file
from telbill.core.clock import TestClock
from telbill.invoicing.model import InvoiceLineRow
from telbill.subscriptions.model import Subscription
from telbill.synth.operator import go_live, plan_operator
from telbill.synth.service import SYNTH_CATALOG, load_synthetic_operator, offer_choice

AS_OF = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _choice():
    return offer_choice(parse_catalog_file(str(SYNTH_CATALOG)))


def test_plan_is_deterministic_for_a_seed_and_differs_across_seeds():
    choice = _choice()
    assert plan_operator(200, 7, AS_OF, choice) == plan_operator(200, 7, AS_OF, choice)
    assert plan_operator(200, 7, AS_OF, choice) != plan_operator(200, 8, AS_OF, choice)


def test_plan_spreads_accounts_over_cycle_days_timezones_languages_and_trees():
    plan = plan_operator(1000, 1, AS_OF, _choice())
    assert len(plan) == 1000
    assert len({a.bill_cycle_day for a in plan}) >= 28
    assert {a.language for a in plan} == {"fr", "en"}
    assert len({a.timezone for a in plan}) >= 5
    assert {a.currency for a in plan} == {"EUR", "GBP"}
    heads = {a.key for a in plan if a.pays_for_children}
    children = [a for a in plan if a.parent_key is not None]
    assert heads and children and {c.parent_key for c in children} <= heads
    msisdns = [s.msisdn for a in plan for s in a.subscriptions if s.msisdn]
    assert len(msisdns) == len(set(msisdns))


def test_offer_roles_come_from_the_catalog():
    choice = _choice()
    assert "mobile-20gb" in choice.mobile and "fibre-1g" in choice.fibre
    assert all(code.startswith("business") for code in choice.business)
    assert "bundle-mobile-fibre" in choice.bundles


def test_loading_an_operator_creates_accounts_subscriptions_and_lifecycle_states(session):
    clock = TestClock(AS_OF)
    report = load_synthetic_operator(session, clock, accounts_count=120, seed=3)
    assert report.accounts == 120
    assert accounts.count_accounts(session) >= 120
    assert report.subscriptions >= 120 - len(report.rejects)
    assert report.rejects == []
    states = Counter(s.state for s in subscriptions.list_subscriptions(session, limit=10**6))
    assert states == report.states
    assert states["active"] > states["cancelled"] > 0
    assert sum(states.values()) == report.subscriptions


def test_the_operator_keeps_its_history_and_goes_live_a_few_weeks_ago():
    plan = plan_operator(1000, 1, AS_OF, _choice())
    starts = [s.start_at for a in plan for s in a.subscriptions if s.fate != "future"]
    assert min(starts) < AS_OF - timedelta(days=300)  # real history, not only the last weeks
    assert {a.billing_start for a in plan} == {go_live(AS_OF)} == {date(2026, 9, 27)}
    assert all(s.start_at > AS_OF for a in plan for s in a.subscriptions if s.fate == "future")


def test_the_first_bill_run_bills_nothing_before_the_go_live(session):
    clock = TestClock(AS_OF)
    load_synthetic_operator(session, clock, accounts_count=60, seed=5)
    result = bill_run(session, clock, AS_OF)
    assert result.invoices > 0 and result.failed == 0
    cols = (InvoiceLineRow.period_start, InvoiceLineRow.period_end, InvoiceLineRow.source_ref)
    lines = session.execute(select(*cols)).all()
    assert lines and all(end >= go_live(AS_OF) for _, end, _ in lines)  # no period before it
    recurring = [start for start, _, ref in lines if ref.startswith("rc|")]
    assert recurring and all(start >= go_live(AS_OF) for start in recurring)  # billed from it
    activations = session.execute(
        select(Subscription.start_at, BillingAccount.timezone)
        .join(InvoiceLineRow, InvoiceLineRow.subscription_id == Subscription.id)
        .join(BillingAccount, BillingAccount.id == Subscription.account_id)
        .where(InvoiceLineRow.source_ref.startswith("ot|"))
    ).all()
    assert all(start >= go_live_at(go_live(AS_OF), tz) for start, tz in activations)  # taken since
