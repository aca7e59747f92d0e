"""A bill run killed mid-way (a real subprocess, SIGKILL) and run again: exactly one invoice per
account and period, numbers 1..N without a hole, every item done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from telbill.billing.model import BillRunItem
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.invoicing.model import Invoice
from telbill.scheduler import create_clock
from tests.scenarios.world import World, utc

ACCOUNTS = 120
CATALOG = """\
catalog: {name: crash, timezone: UTC}
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

# The CLI, with a pause after each batch so the kill lands mid-run (SQLite bills in the CLI's
# process, PostgreSQL in worker processes forked from it, which look `run.process_batch` up).
DRIVER = """
import sys, time
from telbill.billing import run
from telbill.cli import billing as cli_billing
real = run.process_batch
pause = float(sys.argv[1])
def slow(*args, **kwargs):
    result = real(*args, **kwargs)
    time.sleep(pause)
    return result
cli_billing.process_batch = run.process_batch = slow
sys.argv = ["telbill", *sys.argv[2:]]
from telbill.cli.main import main
main()
"""


def _setup(url: str) -> None:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    with Session(engine) as session:
        w = World(session, CATALOG, utc(2027, 1, 1))
        for _ in range(ACCOUNTS):
            w.order(w.account(bill_cycle_day=1), "basic")
        create_clock(session, w.clock, "crash", at=utc(2027, 2, 1, 12))
        session.commit()
    engine.dispose()


def _cli(url: str, pause: str, workers: int) -> subprocess.Popen[bytes]:
    args = ["--database-url", url, "--clock", "crash", "bill-run", "--date", "2027-02-01T12:00:00+00:00",
            "--batch-size", "4", "--workers", str(workers)]  # fmt: skip
    env = {**os.environ, "TELBILL_CONFIG": ""}
    return subprocess.Popen([sys.executable, "-c", DRIVER, pause, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def _done(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stmt = select(func.count()).select_from(BillRunItem).where(BillRunItem.state == "done")
            return conn.execute(stmt).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_bill_run_resumes_without_duplicates_or_holes(fresh_db_url, workers):
    """With worker processes (PostgreSQL) the kill hits their parent: they stop after their
    batch, possibly while the rerun has started."""
    if workers > 1 and not fresh_db_url.startswith("postgresql"):
        pytest.skip("SQLite bills in one process")
    _setup(fresh_db_url)
    proc = _cli(fresh_db_url, "0.05", workers)
    deadline = time.monotonic() + 120
    while _done(fresh_db_url) < 12 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _done(fresh_db_url)
    assert 0 < killed_at < ACCOUNTS, "the kill should land mid-run"
    rerun = _cli(fresh_db_url, "0", workers)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    engine = create_engine(fresh_db_url)
    with engine.connect() as conn:
        invoices = conn.execute(select(Invoice.payer_account_id, Invoice.period_start, Invoice.number)).all()
        states = Counter(s for (s,) in conn.execute(select(BillRunItem.state)))
    engine.dispose()
    per_period = Counter((a, p) for a, p, _ in invoices)
    assert len(per_period) == ACCOUNTS and set(per_period.values()) == {1}
    assert sorted(int(n.rsplit("-", 1)[1]) for *_, n in invoices) == list(range(1, ACCOUNTS + 1))
    assert states == {"done": ACCOUNTS}
