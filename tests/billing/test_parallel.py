"""A bill run shared by worker processes while its plan is still being made (`billing.parallel`,
PostgreSQL), planning in committed steps (`run.plan_items`), and `telbill bill-run` on both
databases."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.billing import run as run_module
from telbill.billing.model import BillRun, BillRunItem
from telbill.billing.parallel import WorkerFailed, bill_in_parallel
from telbill.billing.run import BillRunOptions, open_run, plan_items
from telbill.cli.main import app
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.invoicing.model import Invoice
from telbill.scheduler import create_clock
from tests.billing.test_run import _world
from tests.conftest import PG_URL
from tests.scenarios.world import utc

RUN_AT = utc(2027, 2, 1)
postgres_only = pytest.mark.skipif(PG_URL is None, reason="worker processes share a run on PostgreSQL")


def _database(url: str, accounts: int) -> tuple[object, list[int]]:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    with Session(engine) as session:
        w, ids = _world(session, accounts)
        create_clock(session, w.clock, "par", at=utc(2027, 2, 1, 12))
        session.commit()
    return engine, ids


def _numbers(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return sorted(int(n.rsplit("-", 1)[1]) for n in session.scalars(select(Invoice.number)))


def test_planning_in_steps_reports_each_step_and_plans_each_payer_once(session):
    w, ids = _world(session, 7)
    run = open_run(session, w.clock, RUN_AT)
    steps: list[int] = []
    planned = plan_items(session, run, checkpoint=steps.append, chunk=3)
    assert planned == 7 and sum(steps) == 7
    assert len(steps) >= 3 + 1  # at least ceil(7 / 3) id ranges, then the account-by-account step
    items = session.execute(select(BillRunItem.account_id).where(BillRunItem.run_id == run.id)).scalars()
    assert sorted(items) == sorted(ids)
    again = open_run(session, w.clock, RUN_AT)
    assert plan_items(session, again, checkpoint=steps.append, chunk=3) == 0  # nothing twice


@postgres_only
def test_worker_processes_bill_every_payer_once_while_the_plan_is_made(fresh_db_url):
    engine, ids = _database(fresh_db_url, 30)
    options = BillRunOptions(batch_size=4)
    run_ids, total = bill_in_parallel(engine, TestClock(RUN_AT), RUN_AT, options, workers=2, chunk=5)
    assert (total.claimed, total.invoices, total.failed) == (30, 30, 0)
    assert _numbers(engine) == list(range(1, 31))
    with Session(engine) as session:
        payers = Counter(session.scalars(select(Invoice.payer_account_id)))
        runs = session.execute(select(BillRun.state, BillRun.planned).where(BillRun.id.in_(run_ids))).all()
    assert payers == Counter(ids)
    assert runs == [("done", 30)]
    _, again = bill_in_parallel(engine, TestClock(RUN_AT), RUN_AT, options, workers=2, chunk=5)
    assert again.claimed == 0 and _numbers(engine) == list(range(1, 31))
    engine.dispose()


@postgres_only
def test_a_failing_worker_is_reported_once_the_others_have_finished(fresh_db_url, monkeypatch):
    engine, _ = _database(fresh_db_url, 20)
    real, calls = run_module.process_batch, Counter()  # counted in each worker process

    def failing(session, clock, run_ids, options, sources=None, writer=None, worker="w0", limit=None):  # type: ignore[no-untyped-def]
        calls[worker] += 1
        if worker == "w1" and calls[worker] == 2:
            raise RuntimeError("disk on fire")
        return real(session, clock, run_ids, options, sources, writer, worker, limit)

    monkeypatch.setattr(run_module, "process_batch", failing)  # the forked workers inherit it
    options = BillRunOptions(batch_size=2)
    with pytest.raises(WorkerFailed, match="worker w1: disk on fire"):
        bill_in_parallel(engine, TestClock(RUN_AT), RUN_AT, options, workers=2, chunk=50)
    with Session(engine) as session:
        states = Counter(session.scalars(select(BillRunItem.state)))
        run_states = list(session.scalars(select(BillRun.state)))
    assert states == {"done": 20} and run_states == ["done"]  # w0 went on and billed everyone
    assert _numbers(engine) == list(range(1, 21))
    engine.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_cli_bill_run_bills_everyone_and_prints_the_summary(fresh_db_url, workers):
    engine, _ = _database(fresh_db_url, 9)
    args = ["--database-url", fresh_db_url, "--clock", "par", "bill-run", "--workers", str(workers),
            "--batch-size", "2"]  # fmt: skip
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
            if line.count("│") == 3}  # fmt: skip
    assert rows["accounts billed"] == "9" and rows["invoices finalised"] == "9" and rows["failed"] == "0"
    assert _numbers(engine) == list(range(1, 10))
    engine.dispose()


def test_claims_shrink_near_the_end_of_a_run():
    """Each claim takes at most half of what is left split between the workers, never fewer
    than 100 items, never more than a batch."""
    from types import SimpleNamespace

    from telbill.billing.parallel import ParallelRun

    run = ParallelRun(None, TestClock(RUN_AT), RUN_AT, BillRunOptions(batch_size=2000), workers=2)  # type: ignore[arg-type]
    run._claim = SimpleNamespace(value=2000)
    seen = []
    for left in (None, 100_000, 8000, 7999, 3000, 400, 99, 0):
        run._to_bill = left  # nothing reported billed yet: all of it is left
        run._pace()
        seen.append(run._claim.value)
    assert seen == [2000, 2000, 2000, 1999, 750, 100, 100, 100]
