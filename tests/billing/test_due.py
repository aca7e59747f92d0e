"""When bill runs fall due: the set-based count (SQL per calendar) gives exactly what the account
by account computation gives, and advancing a test clock bills exactly the payers due."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from telbill.accounts import change_bill_cycle
from telbill.billing.due import due_instants, intervals
from telbill.billing.jobs import BillRuns
from telbill.billing.model import BillRunItem
from telbill.billing.periods import BillingCycle
from telbill.billing.run import next_due, plan_run
from telbill.subscriptions import cancel, suspend
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: due, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2025-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "20.00"}}
"""

ZONES = ("UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia")
CYCLES = ("monthly", "monthly", "quarterly", "2w", "10d")


def _reference(session, until: datetime) -> Counter[datetime]:
    """Account by account (`run.next_due`), as the scheduler computed it before."""
    return Counter(at for _, at in next_due(session) if at <= until)


def _operator(session, seed: int, plan: bool = True) -> World:
    """Accounts on varied calendars, go-live dates, starts, a consolidated tree, a cycle change,
    pending and cancelled subscriptions, and some periods already planned."""
    rng = random.Random(seed)
    w = World(session, CATALOG, utc(2026, 3, 1))
    for _ in range(40):
        go_live = rng.choice([None, None, date(2026, 5, rng.randint(1, 28)), date(2026, 7, 1)])
        acc = w.account(
            timezone=rng.choice(ZONES),
            bill_cycle_day=rng.randint(1, 31),
            cycle=rng.choice(CYCLES),
            cycle_anchor=date(2026, rng.randint(1, 3), rng.randint(1, 28)).isoformat(),
            billing_start=go_live.isoformat() if go_live else None,
        )
        for _ in range(rng.randint(0, 2)):
            at = utc(2026, 3, 1) + timedelta(days=rng.randint(-80, 120), hours=rng.randint(0, 23))
            sub = w.order(acc, "basic", at=at if at >= w.clock.now() - timedelta(days=80) else None)
            if rng.random() < 0.15 and sub.state == "active":
                cancel(session, w.clock, sub.id, when="now")
            elif rng.random() < 0.15 and sub.state == "active":
                suspend(session, w.clock, sub.id)
    parent = w.account(bill_cycle_day=15, pays_for_children=True, timezone="Europe/Paris")
    w.order(w.account(parent_id=parent, timezone="Europe/Paris"), "basic")
    changed = w.account(bill_cycle_day=1)
    w.order(changed, "basic")
    change_bill_cycle(session, w.clock, changed, day=20)
    w.clock.advance_to(utc(2026, 4, 10))
    if plan:
        plan_run(session, w.clock, utc(2026, 4, 10))
    return w


def test_intervals_start_just_before_the_first_boundary():
    cycle = BillingCycle.monthly(31, date(2026, 1, 1))
    spans = intervals("UTC", cycle, utc(2026, 2, 10), utc(2026, 4, 30))
    assert [(lo.date(), hi.date(), lo_d, hi_d) for lo, hi, lo_d, hi_d in spans] == [
        (date(2026, 1, 30), date(2026, 1, 31), date(2026, 1, 30), date(2026, 1, 31)),
        (date(2026, 1, 31), date(2026, 2, 28), date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 31), date(2026, 2, 28), date(2026, 3, 31)),
        (date(2026, 3, 31), date(2026, 4, 30), date(2026, 3, 31), date(2026, 4, 30)),  # clamped, ≤ until
    ]


@pytest.mark.parametrize(("seed", "plan"), [(1, True), (2, True), (3, False)])
def test_set_based_due_instants_match_the_account_by_account_computation(session, seed, plan):
    _operator(session, seed, plan)
    for until in (utc(2026, 4, 10), utc(2026, 6, 1), utc(2026, 9, 15), utc(2027, 1, 1)):
        expected = _reference(session, until)
        assert due_instants(session, until) == expected, until
        assert due_instants(session, until, set_based=True) == expected, until
    assert sum(expected.values()) > 15 and len(expected) > 10


def test_advancing_a_clock_bills_exactly_the_payers_due(session):
    """Each job the scheduler reports bills every payer due at its instant and no other: after
    advancing to 1 Sep, each payer has exactly its periods from its first due one, in order."""
    w = _operator(session, 3)
    due_before = {acc.account_id: at for acc, at in next_due(session)}
    jobs = BillRuns().due(session, utc(2026, 9, 1))
    assert sum(int(j.description.split()[3]) for j in jobs) == sum(
        _reference(session, utc(2026, 9, 1)).values()
    )
    w.advance(utc(2026, 9, 1))
    planned: dict[int, list[datetime]] = {}
    for account_id, start in session.execute(
        select(BillRunItem.account_id, BillRunItem.period_start).order_by(BillRunItem.period_start)
    ):
        planned.setdefault(account_id, []).append(start)
    for account, first in due_before.items():
        if first > utc(2026, 9, 1):
            assert all(s <= utc(2026, 4, 10) for s in planned.get(account, [])), account
            continue
        after = [s for s in planned[account] if s >= first]
        assert after and after[0] == first, account
        assert len(after) == len(set(after))
    assert due_instants(session, utc(2026, 9, 1)) == Counter()  # nothing left due
