"""The fast paths of the bill run give what the plain ones give: planning in SQL per calendar
against account-by-account planning, the bulk writer's canonical JSON against the snapshot's,
and the short lookback against the long one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from telbill.billing.generator import InvoiceInputs, lookback_for
from telbill.billing.loading import BatchSources, load_batch
from telbill.billing.model import BillRunItem
from telbill.billing.run import due_at, plan_run
from telbill.billing.usage import InMemoryUsage
from telbill.invoicing import snapshot
from telbill.invoicing.model import Invoice
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: paths, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00"}}]
"""


def _world(session) -> World:
    """Accounts on several calendars, started before, at and after period boundaries."""
    w = World(session, CATALOG, utc(2027, 1, 1))
    zones = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")
    for n in range(16):
        acc = w.account(bill_cycle_day=1 + (n * 7) % 28, timezone=zones[n % 4])
        w.clock.advance_to(utc(2027, 1, 1) + timedelta(days=n * 3, hours=n))
        w.order(acc, "basic")
    w.account(bill_cycle_day=5)  # no subscription: never due
    return w


def test_planning_in_sql_matches_account_by_account(session):
    w = _world(session)
    for at in (utc(2027, 2, 1), utc(2027, 2, 20, 13), utc(2027, 3, 31, 23)):
        expected = {(a.account_id, p.start, p.end) for a, p in due_at(session, at)}
        run_id, planned = plan_run(session, w.clock, at)
        stmt = select(BillRunItem.account_id, BillRunItem.period_start, BillRunItem.period_end)
        got = set(session.execute(stmt.where(BillRunItem.run_id == run_id)).all())
        assert got == expected and planned == len(expected)
        assert plan_run(session, w.clock, at)[1] == 0  # planning twice plans once


def test_bulk_content_is_the_snapshot_bytes(session):
    w = World(session, CATALOG, utc(2027, 1, 1))
    for _ in range(3):
        w.order(w.account(bill_cycle_day=1), "basic")
    w.advance(utc(2027, 2, 2))
    invoices = session.scalars(select(Invoice).where(Invoice.state != "draft")).all()
    assert len(invoices) == 6
    for inv in invoices:
        again = snapshot.content_to_json(snapshot.content_from_json(inv.content))
        assert again == inv.content and snapshot.sha256_of(again) == inv.content_sha256


def test_long_lookback_only_when_something_changed_further_back(session):
    w = World(session, CATALOG, utc(2027, 1, 1))
    steady, late = w.account(bill_cycle_day=1), w.account(bill_cycle_day=1)
    w.order(steady, "basic")
    w.clock.advance_to(utc(2027, 3, 10))
    w.order(late, "basic")
    at = utc(2027, 9, 1)
    loaded, _ = load_batch(session, [steady, late], at, BatchSources(InMemoryUsage()), 12)
    by_payer = {x.inputs.payer.account_id: x.inputs for x in loaded}
    assert lookback_for(by_payer[steady], at) == 12  # started 1 Jan: 8 periods back
    assert lookback_for(by_payer[late], at) == 12
    assert lookback_for(by_payer[steady], utc(2028, 6, 1)) == 3  # nothing in the last 12 periods
    assert lookback_for(by_payer[steady], at, 3) == 3
    bare = InvoiceInputs(by_payer[steady].payer, ())
    assert lookback_for(bare, at) == 3


def test_batch_rows_are_read_by_position_in_the_facts_order():
    """`loading._sub_facts` passes a subscription row as is and `_change` unpacks a change row:
    the loaded columns must stay in the facts' order."""
    from dataclasses import fields

    from telbill.billing import repository
    from telbill.billing.events import SubscriptionFacts
    from telbill.billing.loading import _change, _group

    assert tuple(f.name for f in fields(SubscriptionFacts)) == repository.SUBSCRIPTION_COLUMNS
    assert repository.CHANGE_COLUMNS == ("id", "subscription_id", "kind", "effective_at", "status", "payload")
    at = datetime(2027, 1, 1, tzinfo=UTC)
    change = _change((7, 3, "upgrade", at, "applied", None))
    assert (change.kind, change.effective_at, change.status, dict(change.payload), change.id) == (
        "upgrade",
        at,
        "applied",
        {},
        7,
    )
    assert _group([], "id") == {}
