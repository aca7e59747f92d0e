"""Every SQL statement of the scheduler."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from telbill.scheduler.model import TestClockRow


def get_clock(session: Session, name: str, *, for_update: bool = False) -> TestClockRow | None:
    stmt = select(TestClockRow).where(TestClockRow.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def add_clock(session: Session, row: TestClockRow) -> TestClockRow:
    session.add(row)
    session.flush()
    return row


def list_clocks(session: Session) -> Sequence[TestClockRow]:
    return session.scalars(select(TestClockRow).order_by(TestClockRow.name)).all()
