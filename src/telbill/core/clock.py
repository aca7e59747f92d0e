"""Time is passed in, never read from the wall: every use case takes a Clock.

Timestamps are timezone-aware UTC. A TestClock only moves forward; advancing the persisted
test clocks (and running what falls due) is the scheduler context's job.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telbill.core.errors import ValidationFailed

utc = UTC


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes; convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"timestamp {value.isoformat()} has no timezone")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """An IANA timezone, or a validation error that names it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown IANA timezone {name!r}") from None


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class TestClock:
    """An in-memory clock that tests (and the scheduler) move forward explicitly."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, instant: datetime) -> None:
        instant = ensure_utc(instant)
        if instant < self._now:
            raise ValidationFailed(
                f"a clock cannot go back: it is {self._now.isoformat()}, asked for {instant.isoformat()}"
            )
        self._now = instant

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self._now + delta)


def parse_instant(text: str, default_tz: str = "UTC") -> datetime:
    """Parse an ISO date or datetime given on a command line; a bare date is midnight in default_tz."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"not an ISO date or datetime: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(default_tz))
    return value.astimezone(UTC)
