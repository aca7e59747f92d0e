"""The subscriptions' due jobs: scheduled changes, trial ends and contract ends.

Each source answers from stored state (a pending change, a subscription still in trial, a
fixed term not yet ended), so a job that ran is no longer due: each runs exactly once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.scheduler import DueJob, register_source
from telbill.subscriptions import changes, repository

SCHEDULED_CHANGES = "subscriptions.changes"
TRIAL_ENDS = "subscriptions.trial_ends"
CONTRACT_ENDS = "subscriptions.contract_ends"


class ScheduledChanges:
    name = SCHEDULED_CHANGES
    priority = 10

    def due(self, session: Session, until: datetime) -> list[DueJob]:
        return [
            DueJob(
                c.effective_at,
                self.name,
                f"{c.id:012d}",
                _apply_change(c.id),
                f"{c.kind} of subscription {c.subscription_id}",
            )
            for c in repository.due_changes(session, until)
        ]


def _apply_change(change_id: int):  # type: ignore[no-untyped-def]
    def run(session: Session, clock: Clock) -> None:
        changes.apply_due(session, clock, change_id)

    return run


class PhaseEnds:
    """Trial ends (trial → active) or contract ends (fixed term → evergreen), from the subscription row."""

    def __init__(self, name: str, priority: int, kind: str) -> None:
        self.name, self.priority, self.kind = name, priority, kind

    def due(self, session: Session, until: datetime) -> list[DueJob]:
        rows = (repository.due_trial_ends if self.kind == "trial_end" else repository.due_contract_ends)(
            session, until
        )
        label = self.kind.replace("_", " ")
        return [
            DueJob(
                at, self.name, f"{sub_id:012d}", self._runner(sub_id, at), f"{label} of subscription {sub_id}"
            )
            for sub_id, at in rows
        ]

    def _runner(self, subscription_id: int, at: datetime):  # type: ignore[no-untyped-def]
        def run(session: Session, clock: Clock) -> None:
            sub = repository.get_subscription(session, subscription_id)
            if sub is None:
                return
            changes.record(session, clock, sub, self.kind, at, {})

        return run


register_source(ScheduledChanges())
register_source(PhaseEnds(TRIAL_ENDS, 11, "trial_end"))
register_source(PhaseEnds(CONTRACT_ENDS, 12, "contract_end"))
