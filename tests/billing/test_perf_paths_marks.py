"""Marking items in one statement (an `UPDATE … FROM unnest` on PostgreSQL) does what the
executemany does: state, worker and time set; invoice id and error set where given, else kept."""

from __future__ import annotations

from sqlalchemy import select

from telbill.billing import repository
from telbill.billing.model import BillRunItem
from telbill.billing.run import plan_run
from tests.billing.test_perf_paths import CATALOG
from tests.scenarios.world import World, utc


def test_marks_set_what_they_give_and_keep_the_rest(session):
    w = World(session, CATALOG, utc(2027, 1, 1))
    for _ in range(3):
        w.order(w.account(bill_cycle_day=1), "basic")
    run_id, planned = plan_run(session, w.clock, utc(2027, 2, 1))
    items = session.scalars(select(BillRunItem).where(BillRunItem.run_id == run_id)).all()
    assert planned == 3
    a, b, c = (i.id for i in items)
    session.execute(
        BillRunItem.__table__.update().where(BillRunItem.id == c).values(invoice_id=77, error="earlier")
    )
    now = w.clock.now()
    repository.mark_items(
        session,
        [
            {"id": a, "state": "done", "worker": "w1", "finished_at": now, "invoice_id": 5},
            {"id": b, "state": "failed", "worker": "w1", "finished_at": now, "error": "boom"},
            {"id": c, "state": "done", "worker": "w2", "finished_at": now},
        ],
    )
    stmt = select(BillRunItem.id, BillRunItem.state, BillRunItem.worker, BillRunItem.invoice_id,
                  BillRunItem.error, BillRunItem.finished_at).where(BillRunItem.run_id == run_id)  # fmt: skip
    got = {row.id: tuple(row[1:]) for row in session.execute(stmt)}
    assert got == {
        a: ("done", "w1", 5, None, now),
        b: ("failed", "w1", None, "boom", now),
        c: ("done", "w2", 77, "earlier", now),
    }
