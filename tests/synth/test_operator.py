from collections import Counter
from datetime import UTC, datetime

from telbill import accounts, subscriptions
from telbill.catalog import parse_catalog_file
from telbill.core.clock import TestClock
from telbill.synth.operator import plan_operator
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
