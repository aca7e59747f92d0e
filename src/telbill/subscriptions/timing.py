"""When a change takes effect: now, backdated (within the allowed limit) or scheduled."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from telbill.core.clock import ensure_utc
from telbill.core.errors import ValidationFailed


class When(StrEnum):
    NOW = "now"
    BACKDATED = "backdated"
    SCHEDULED = "scheduled"


def classify(now: datetime, at: datetime | None, backdate_limit_days: int) -> tuple[datetime, When]:
    """The effective instant and how it relates to now; refuses a backdate beyond the limit."""
    if at is None:
        return now, When.NOW
    at = ensure_utc(at)
    if at > now:
        return at, When.SCHEDULED
    if at == now:
        return at, When.NOW
    oldest = now - timedelta(days=backdate_limit_days)
    if at < oldest:
        raise ValidationFailed(
            f"{at.isoformat()} is more than {backdate_limit_days} days in the past",
            details=[f"backdating is allowed back to {oldest.isoformat()} (settings.backdate_limit_days)"],
        )
    return at, When.BACKDATED
