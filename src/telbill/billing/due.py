"""When bill runs fall due: the instants up to a date at which some payer's next period starts.

A payer's next period to bill starts at the first boundary of its calendar on or after X =
max(its earliest subscription start, its go-live, just after the last period planned for it)
(`run.next_due`). The scheduler needs only the distinct instants and how many payers each has.

Payers with a plain calendar (no cycle history, no consolidated children — nearly all) are counted
in SQL: each distinct calendar's boundaries from the earliest X possible up to the date are
computed once in Python (as `plan_run` computes each calendar's period once), and one statement
counts, for every calendar at once, the payers whose X falls in each interval (previous boundary,
boundary]. The few other payers go account by account (`run.next_due`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from telbill.billing import repository
from telbill.billing.charges import AccountBilling, CycleRegime, period_at_instant
from telbill.billing.periods import BillingCycle
from telbill.core.clock import ensure_utc, zone

_TICK = timedelta(microseconds=1)

Interval = tuple[datetime, datetime, date, date]  # (lo, hi, local date of lo, local date of hi)


def intervals(tz: str, cycle: BillingCycle, lowest: datetime, until: datetime) -> list[Interval]:
    """The calendar's boundaries b ≤ `until` from the period containing `lowest`, as intervals
    (previous boundary, b] — the first one (b − 1 µs, b] — with the local dates of their ends (a
    go-live date d is after the instant lo exactly when d > lo's local date, lo being a boundary)."""
    calendar = AccountBilling(0, "", "", tz, (CycleRegime(None, cycle),))
    local = zone(tz)
    b = period_at_instant(calendar, lowest).start
    out: list[Interval] = []
    lo, lo_day = b - _TICK, b.astimezone(local).date() - timedelta(days=1)
    while b <= until:
        day = b.astimezone(local).date()
        out.append((lo, b, lo_day, day))
        lo, lo_day = b, day
        b = period_at_instant(calendar, b).end
    return out


def due_instants(session: Session, until: datetime, *, set_based: bool | None = None) -> Counter[datetime]:
    """Payers whose next period to bill starts at or before `until`, counted per start.
    `set_based` None: in SQL on PostgreSQL, account by account on SQLite (tests force either)."""
    from telbill.billing.run import next_due

    until = ensure_utc(until)
    if set_based is None:
        set_based = repository.dialect(session) == "postgresql"
    if not set_based:
        # SQLite runs the statement once per calendar, which cost 4.5x the account-by-account
        # computation at 20,000 accounts (bench/due_jobs.py); the embedded database keeps that one
        return Counter(at for _, at in next_due(session) if at <= until)
    spans: list[repository.Span] = []
    for tz, unit, count, day, anchor, lowest in repository.simple_calendar_bounds(session, until):
        calendar, cycle = (tz, unit, count, day, anchor), BillingCycle(unit, count, day, anchor)
        spans += [(calendar, *span) for span in intervals(tz, cycle, lowest, until)]
    due: Counter[datetime] = Counter(repository.due_per_boundary(session, spans))
    others = repository.complex_payer_ids(session)
    if others:
        due.update(at for _, at in next_due(session, others) if at <= until)
    return due
