"""The go-live date: the instant from which telbill bills an account migrated with its history (pure).

An operator moving its base onto telbill sets each account's `billing_start` (a local date): the
system it leaves billed every service before it. So the generator sees a subscription only from
local midnight of that date on — its segments are cut there — and:

- periods (recurring, usage, minimum commitments) and occurrences ending by then are never billed;
- a period or occurrence straddling it is billed from it, prorated on the offer's basis like a
  subscription started that day;
- one-time charges of a subscription started before it (activation, device) and pending charges
  effective before it are the old system's, and never billed.

A consolidated child is billed from the later of its own go-live and its payer's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from telbill.billing.events import Segment
from telbill.billing.periods import local_date_to_utc
from telbill.core.clock import zone


def go_live_at(day: date | None, tz: str) -> datetime | None:
    """Local midnight of the go-live date in the account's timezone, as UTC (None: no go-live)."""
    return None if day is None else local_date_to_utc(day, zone(tz))


def later(*instants: datetime | None) -> datetime | None:
    """The latest of the instants given (None when none is)."""
    known = [t for t in instants if t is not None]
    return max(known) if known else None


def clip(segments: Sequence[Segment], go_live: datetime | None) -> tuple[Segment, ...]:
    """The segments from `go_live` on: earlier ones dropped, a straddling one starting at it."""
    if go_live is None:
        return tuple(segments)
    out = []
    for seg in segments:
        if seg.end is not None and seg.end <= go_live:
            continue
        out.append(replace(seg, start=go_live) if seg.start < go_live else seg)
    return tuple(out)
