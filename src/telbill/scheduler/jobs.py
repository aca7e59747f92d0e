"""Due jobs and the sources that report them.

A context that has work to do at an instant (a trial ends, a scheduled change falls due, a bill
run opens) registers a `JobSource`. The scheduler asks every source what is due up to an instant
and runs the earliest first. Sources answer from stored state, so a job that ran no longer shows
up: that is how each job runs exactly once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from telbill.core.clock import Clock

# Modules that register their sources when imported. A context adds its module here.
SOURCE_MODULES = (
    "telbill.subscriptions.jobs",
    "telbill.billing.jobs",
    "telbill.payments.jobs",
)


@dataclass(frozen=True)
class DueJob:
    """One piece of work due at `at`. `key` identifies it within its source (stable across asks)."""

    at: datetime
    source: str
    key: str
    run: Callable[[Session, Clock], None] = field(compare=False, repr=False)
    description: str = field(default="", compare=False)

    @property
    def identity(self) -> tuple[str, str, datetime]:
        return (self.source, self.key, self.at)


@runtime_checkable
class JobSource(Protocol):
    name: str
    priority: int  # lower runs first among jobs due at the same instant

    def due(self, session: Session, until: datetime) -> list[DueJob]:
        """Every job not yet run whose instant is at or before `until` (overdue ones included)."""
        ...


_REGISTRY: dict[str, JobSource] = {}


def register_source(source: JobSource) -> JobSource:
    """Register (or replace, by name) a source. Returns it, so it can decorate an instance."""
    _REGISTRY[source.name] = source
    return source


def registered_sources() -> list[JobSource]:
    """The registered sources, after importing every module of SOURCE_MODULES that exists."""
    for name in SOURCE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return sorted(_REGISTRY.values(), key=lambda s: (s.priority, s.name))


def order_jobs(jobs: Iterable[DueJob], sources: Sequence[JobSource]) -> list[DueJob]:
    """Earliest first; ties by source priority, then source name, then key."""
    priority = {s.name: s.priority for s in sources}
    return sorted(jobs, key=lambda j: (j.at, priority.get(j.source, 0), j.source, j.key))
