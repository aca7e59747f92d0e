"""The bill run as a scheduler job source: one job per distinct period start that is due.

The source answers from stored state: each payer's next period start not yet planned, counted
per instant in SQL (`due.due_instants`). Payers due at the same instant share one job, which bills
all of them at that instant. Once it ran, their items exist and the next ask reports their
following period start.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from telbill.billing.due import due_instants
from telbill.billing.run import BillRunOptions, bill_run
from telbill.core.clock import Clock, ensure_utc
from telbill.scheduler import DueJob, register_source

SOURCE = "billing.bill_runs"


class BillRuns:
    name = SOURCE
    priority = 50  # after subscription changes due at the same instant (10-12)

    def due(self, session: Session, until: datetime) -> list[DueJob]:
        instants = due_instants(session, ensure_utc(until))
        return [
            DueJob(at, self.name, at.isoformat(), _runner(at), f"bill run for {n} account(s)")
            for at, n in sorted(instants.items())
        ]


def _runner(at: datetime):  # type: ignore[no-untyped-def]
    def run(session: Session, clock: Clock) -> None:
        from telbill.core.settings import load_settings

        bill_run(session, clock, at, BillRunOptions(seller=load_settings().seller, trigger="scheduler"))

    return run


register_source(BillRuns())
