"""Advancing a clock runs each due job once, at its own instant, earliest first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.core.clock import TestClock
from telbill.core.errors import ValidationFailed
from telbill.scheduler import DueJob, SchedulerLoop, advance, run_due
from telbill.scheduler.jobs import order_jobs

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class ListSource:
    """A source over an in-memory agenda; a job is done once its key is in `done`."""

    name: str
    priority: int = 0
    agenda: dict[str, datetime] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    log: list[tuple[str, datetime]] = field(default_factory=list)
    effects: dict[str, object] = field(default_factory=dict)

    def due(self, session, until):
        return [
            DueJob(at, self.name, key, self._runner(key))
            for key, at in self.agenda.items()
            if key not in self.done and at <= until
        ]

    def _runner(self, key):
        def run(session, clock):
            self.log.append((key, clock.now()))
            self.done.add(key)
            effect = self.effects.get(key)
            if effect is not None:
                effect(clock)

        return run


def test_jobs_run_in_order_at_their_instant_and_clock_ends_at_target():
    src = ListSource("a", agenda={"k2": T0 + timedelta(days=2), "k1": T0 + timedelta(days=1)})
    clock = TestClock(T0)
    runs = advance(None, clock, T0 + timedelta(days=10), sources=[src])
    assert src.log == [("k1", T0 + timedelta(days=1)), ("k2", T0 + timedelta(days=2))]
    assert [r.key for r in runs] == ["k1", "k2"]
    assert clock.now() == T0 + timedelta(days=10)


def test_advancing_again_runs_nothing_more():
    src = ListSource("a", agenda={"k": T0 + timedelta(days=1)})
    clock = TestClock(T0)
    advance(None, clock, T0 + timedelta(days=5), sources=[src])
    assert advance(None, clock, T0 + timedelta(days=6), sources=[src]) == []
    assert len(src.log) == 1


def test_jobs_after_target_wait():
    src = ListSource("a", agenda={"k": T0 + timedelta(days=3)})
    clock = TestClock(T0)
    assert advance(None, clock, T0 + timedelta(days=2), sources=[src]) == []
    assert [r.key for r in advance(None, clock, T0 + timedelta(days=3), sources=[src])] == ["k"]


def test_ties_break_by_source_priority_then_key():
    at = T0 + timedelta(hours=1)
    late = ListSource("billing", priority=20, agenda={"a": at})
    early = ListSource("subscriptions", priority=10, agenda={"z": at, "b": at})
    order: list[str] = []
    for src in (late, early):
        src.effects = {k: (lambda c, k=k, s=src.name: order.append(f"{s}:{k}")) for k in src.agenda}
    advance(None, TestClock(T0), at, sources=[late, early])
    assert order == ["subscriptions:b", "subscriptions:z", "billing:a"]


def test_job_created_by_a_job_runs_in_time_order():
    src = ListSource("a", agenda={"first": T0 + timedelta(days=1), "last": T0 + timedelta(days=5)})
    src.effects["first"] = lambda clock: src.agenda.__setitem__("spawned", T0 + timedelta(days=2))
    advance(None, TestClock(T0), T0 + timedelta(days=10), sources=[src])
    assert [k for k, _ in src.log] == ["first", "spawned", "last"]
    assert src.log[1][1] == T0 + timedelta(days=2)


def test_job_made_obsolete_by_an_earlier_job_does_not_run():
    src = ListSource("a", agenda={"cancel": T0 + timedelta(days=1), "trial_end": T0 + timedelta(days=5)})
    src.effects["cancel"] = lambda clock: src.done.add("trial_end")
    advance(None, TestClock(T0), T0 + timedelta(days=10), sources=[src])
    assert [k for k, _ in src.log] == ["cancel"]


def test_job_that_stays_due_raises_instead_of_looping():
    src = ListSource("a", agenda={"k": T0 + timedelta(days=1)})
    src.effects["k"] = lambda clock: src.done.discard("k")
    with pytest.raises(SchedulerLoop, match="still due after it ran"):
        advance(None, TestClock(T0), T0 + timedelta(days=2), sources=[src])


def test_overdue_jobs_run_now_without_moving_the_clock_back():
    src = ListSource("a", agenda={"old": T0 - timedelta(days=3)})
    clock = TestClock(T0)
    advance(None, clock, T0 + timedelta(days=1), sources=[src])
    assert src.log == [("old", T0)]


def test_cannot_advance_backwards():
    with pytest.raises(ValidationFailed, match="back in time"):
        advance(None, TestClock(T0), T0 - timedelta(seconds=1), sources=[])


def test_run_due_runs_only_what_is_due_now():
    src = ListSource("a", agenda={"now": T0, "later": T0 + timedelta(seconds=1)})
    clock = TestClock(T0)
    assert [r.key for r in run_due(None, clock, sources=[src])] == ["now"]
    assert clock.now() == T0


@given(st.lists(st.integers(min_value=0, max_value=500), min_size=0, max_size=30))
def test_every_job_runs_exactly_once_in_order(offsets):
    agenda = {f"k{i:02d}": T0 + timedelta(hours=h) for i, h in enumerate(offsets)}
    src = ListSource("a", agenda=agenda)
    advance(None, TestClock(T0), T0 + timedelta(hours=400), sources=[src])
    expected = sorted((at, k) for k, at in agenda.items() if at <= T0 + timedelta(hours=400))
    assert [(at, k) for k, at in src.log] == expected


def test_order_jobs_is_stable_by_key():
    noop = lambda s, c: None  # noqa: E731
    jobs = [DueJob(T0, "s", "b", noop), DueJob(T0, "s", "a", noop)]
    assert [j.key for j in order_jobs(jobs, [])] == ["a", "b"]
