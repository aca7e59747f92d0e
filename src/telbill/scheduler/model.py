"""Persisted test clocks: a named instant that only moves forward, shared by every command."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from telbill.db.base import Base, UTCDateTime, id_column


class TestClockRow(Base):
    __tablename__ = "test_clocks"
    __test__ = False  # not a pytest test class

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(80), unique=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
