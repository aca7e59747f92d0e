"""What every command needs: settings, one engine, a unit of work, the clock in force."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from telbill.core.clock import Clock, SystemClock
from telbill.core.settings import Settings, load_settings
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliContext:
    settings: Settings = field(default_factory=load_settings)

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the command succeeds, rolled back otherwise."""
        with session_scope(make_sessionmaker(self.engine)) as session:
            yield session

    def clock(self, session: Session) -> Clock:
        """The system clock, or the named test clock when --clock / TELBILL_CLOCK is set."""
        if not self.settings.clock:
            return SystemClock()
        from telbill.scheduler import clock_for

        return clock_for(session, self.settings.clock)


def ctx_of(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):
        obj = CliContext()
        ctx.find_root().obj = obj
    return obj
