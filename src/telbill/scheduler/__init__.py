"""Scheduler: persisted test clocks and the due jobs that run as time moves forward."""

from telbill.scheduler.jobs import DueJob, JobSource, register_source, registered_sources
from telbill.scheduler.service import (
    JobRun,
    MovableClock,
    PersistedTestClock,
    SchedulerLoop,
    advance,
    clock_for,
    create_clock,
    list_clocks,
    pending_jobs,
    run_due,
)

__all__ = [
    "DueJob",
    "JobRun",
    "JobSource",
    "MovableClock",
    "PersistedTestClock",
    "SchedulerLoop",
    "advance",
    "clock_for",
    "create_clock",
    "list_clocks",
    "pending_jobs",
    "register_source",
    "registered_sources",
    "run_due",
]
