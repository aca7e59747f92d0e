"""The bill run against the database: idempotent, previews write nothing, drafts by policy,
usage through the port, and (on PostgreSQL) two workers sharing a run."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from telbill.billing.loading import BatchSources
from telbill.billing.model import BillRunItem
from telbill.billing.preview import preview_invoice
from telbill.billing.run import BillRunOptions, bill_run, plan_run, process_batch
from telbill.billing.usage import InMemoryUsage, UsageAggregate
from telbill.db.base import Base
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.invoicing import invoice_content
from telbill.invoicing.model import Invoice
from tests.conftest import PG_URL
from tests.scenarios.world import World, utc

CATALOG = """\
catalog: {name: run, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "20.00"}}
          - type: usage
            code: data
            usage_type: data
            unit: MB
            pricing:
              model: graduated
              tiers:
                - {from: 0, up_to: 1000, unit_price: {EUR: "0.01"}}
                - {from: 1000, up_to: null, unit_price: {EUR: "0.005"}}
        allowances:
          - {code: data, usage_type: data, quantity: 1, unit: GB}
"""


def _world(session, n=3):
    w = World(session, CATALOG, utc(2027, 1, 1))
    ids = [w.account(bill_cycle_day=1) for _ in range(n)]
    for acc in ids:
        w.order(acc, "basic")
    return w, ids


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_rerun_on_the_same_date_is_a_noop(session):
    w, ids = _world(session)
    first = bill_run(session, w.clock, utc(2027, 2, 1))
    again = bill_run(session, w.clock, utc(2027, 2, 1))
    assert first.invoices == 3 and again.claimed == 0
    assert _count(session, Invoice) == 3
    for acc in ids:
        (inv,) = w.invoices(acc)
        content = invoice_content(session, inv.id)  # frozen content matches its hash
        # January leading period is whole (subscribed 1 Jan): 20.00 Jan + 20.00 Feb, 20 % VAT
        assert content.totals.grand_total == Decimal("48.00")


def test_usage_is_priced_on_the_period_total_after_the_allowance(session):
    """January usage 2,500 MB in two aggregates, 1 GB included: 1,500 MB billable, graduated:
    1,000 × 0.01 + 500 × 0.005 = 12.50. Feb invoice: 20 (Jan) + 20 (Feb) + 12.50 = 52.50 + 10.50 VAT."""
    w, (acc, *_) = _world(session, 1)
    from telbill.subscriptions.model import Subscription

    sid = session.scalars(select(Subscription.id).where(Subscription.account_id == acc)).one()
    usage = InMemoryUsage(
        [
            UsageAggregate(acc, sid, "data", "data", utc(2027, 1, 3), Decimal(1500), "MB", events=10),
            UsageAggregate(acc, sid, "data", "data", utc(2027, 1, 20), Decimal(1), "GB", events=5),
        ]
    )
    bill_run(session, w.clock, utc(2027, 2, 1), sources=BatchSources(usage))
    (inv,) = w.invoices(acc)
    assert sorted(a for _, a in w.lines(inv)) == [Decimal("12.5"), Decimal("20"), Decimal("20")]
    assert inv.grand_total == Decimal("63.00")


def test_preview_writes_nothing_and_matches_the_run(session):
    w, (acc, *_) = _world(session, 1)
    session.flush()
    tables = Base.metadata.sorted_tables
    before = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    preview = preview_invoice(session, acc, utc(2027, 2, 1))
    after = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    assert before == after
    assert preview is not None and preview.content.number == ""
    bill_run(session, w.clock, utc(2027, 2, 1))
    (inv,) = w.invoices(acc)
    assert inv.grand_total == preview.content.totals.grand_total


def test_leave_drafts_for_review(session):
    w, ids = _world(session, 2)
    result = bill_run(session, w.clock, utc(2027, 2, 1), BillRunOptions(auto_finalise=False))
    assert result.drafts == 2
    assert {i.state for acc in ids for i in w.invoices(acc)} == {"draft"}
    assert bill_run(session, w.clock, utc(2027, 2, 1)).claimed == 0


def test_an_account_that_fails_is_recorded_and_others_are_billed(session, monkeypatch):
    w, ids = _world(session, 2)
    from telbill.billing import run as run_module
    from telbill.core.errors import ValidationFailed

    real = run_module.compute

    def flaky(loaded, *args, **kw):
        if loaded.inputs.payer.account_id == ids[0]:
            raise ValidationFailed("broken catalog price")
        return real(loaded, *args, **kw)

    monkeypatch.setattr(run_module, "compute", flaky)
    result = bill_run(session, w.clock, utc(2027, 2, 1))
    assert (result.invoices, result.failed) == (1, 1)
    states = dict(session.execute(select(BillRunItem.account_id, BillRunItem.state)).all())
    assert states == {ids[0]: "failed", ids[1]: "done"}


@pytest.mark.skipif(PG_URL is None, reason="SKIP LOCKED claiming is PostgreSQL's")
def test_two_workers_share_a_run_with_skip_locked(fresh_db_url):
    """PostgreSQL: two threads claim batches of one run; every account billed once, numbers 1..N."""
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    with Session(engine) as s:
        w, ids = _world(s, 12)
        run_id, planned = plan_run(s, w.clock, utc(2027, 2, 1))
        s.commit()
    claimed: list[int] = []

    def worker(name: str) -> None:
        with Session(engine) as s:
            while True:
                batch = process_batch(s, w.clock, [run_id], BillRunOptions(batch_size=2), worker=name)
                s.commit()
                if not batch.claimed:
                    return
                claimed.append(batch.claimed)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as s:
        rows = s.execute(
            select(Invoice.payer_account_id, Invoice.number).where(Invoice.payer_account_id.in_(ids))
        ).all()
        workers = set(s.scalars(select(BillRunItem.worker).where(BillRunItem.run_id == run_id)))
    assert planned == 12 and sum(claimed) == 12
    assert sorted(a for a, _ in rows) == sorted(ids)
    seqs = sorted(int(n.rsplit("-", 1)[1]) for _, n in rows)
    assert seqs == list(range(seqs[0], seqs[0] + 12))
    assert workers == {"w0", "w1"}
    engine.dispose()


def test_bulk_path_writes_what_the_store_writes(session):
    """The same invoice written one by one through the store and in bulk has the same content
    (number and buyer aside), state and totals."""
    from dataclasses import replace

    from telbill.billing.writing import BulkWriter, StoreWriter

    w, ids = _world(session, 2)
    run_id, _ = plan_run(session, w.clock, utc(2027, 2, 1))
    process_batch(session, w.clock, [run_id], BillRunOptions(batch_size=1), writer=StoreWriter())
    process_batch(session, w.clock, [run_id], BillRunOptions(batch_size=1), writer=BulkWriter())
    (a,), (b,) = (w.invoices(acc) for acc in ids)
    ca, cb = invoice_content(session, a.id), invoice_content(session, b.id)
    same = {"number": "", "buyer_reference": "", "buyer": ca.buyer}
    assert replace(ca, **same) == replace(cb, **same)
    assert (a.state, a.grand_total, a.balance) == (b.state, b.grand_total, b.balance)
    assert int(b.number.rsplit("-", 1)[1]) == int(a.number.rsplit("-", 1)[1]) + 1
