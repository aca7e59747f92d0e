"""Rollover of tariff-charge allowances across billing periods (pure).

An allowance with `rollover: {max_quantity, max_cycles}` passes what its bucket left unused at the
end of a period to the next ones. What rolls is kept **per origin period**: the bucket of period P
from the allowance granted k periods back is `<main bucket of P>@<origin stamp>`, drawn before the
period's own grant, oldest first (priority −k; the main bucket has 0). A chunk rolls while it is
younger than `max_cycles` periods and expires at the end of the last; entering a period, the chunks
together are capped at `max_quantity` (the newest are kept: the oldest expire first anyway).

The amount of a chunk is the end balance of the bucket that held it in the previous period: the
balance this pass left, else the stored one, else (nobody drew on it) its opening — the previous
period's grant, or its own rolled chunk, computed the same way one period further back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from telbill.catalog.charges import Allowance
from telbill.catalog.units import base_units
from telbill.rating.classify import Facts
from telbill.rating.grants import UNLIMITED, Grant, family_grant, stamp, subscription_grant

TICK = timedelta(microseconds=1)
EndState = Callable[[set[str]], Mapping[str, int]]


def main_id(grant: Grant, period_start: datetime) -> str:
    return f"{grant.bucket_id.rsplit(':', 1)[0]}:{stamp(period_start)}"


def chunk_id(main: str, origin: datetime) -> str:
    return f"{main}@{stamp(origin)}"


def rollover_grants(main: Grant, allowance: Allowance, facts: Facts) -> list[Grant]:
    """The rolled chunks a period's bucket may carry (amounts filled by `Carry`)."""
    if allowance.rollover is None or main.granted >= UNLIMITED:
        return []
    out, born = [], _born(facts, main)
    origins = _back(facts, main, allowance.rollover.max_cycles)
    for k, (origin, end) in enumerate(zip(origins, [main.period_start, *origins], strict=False), start=1):
        if end <= born:
            break  # the subscription (or family) did not exist in that period
        out.append(
            replace(
                main, bucket_id=chunk_id(main.bucket_id, origin), granted=0, priority=-k,
                origin=origin, allowance=allowance,
            )
        )  # fmt: skip
    return out


def _back(facts: Facts, grant: Grant, n: int) -> list[datetime]:
    """Starts of the `n` periods before the grant's, newest first."""
    terms = facts.accounts[grant.account_id]
    out, at = [], grant.period_start
    for _ in range(n):
        at = terms.period_at(at - TICK)[0]
        out.append(at)
    return out


def _born(facts: Facts, grant: Grant) -> datetime:
    """When the bucket's owner started: the subscription, or the family's first member."""
    if grant.subscription_id is not None:
        return facts.subscriptions[grant.subscription_id].start_at
    starts = [
        s.start_at
        for s in facts.subscriptions.values()
        if (acc := facts.accounts.get(s.account_id)) is not None and acc.family_id == grant.account_id
    ]
    return min(starts, default=grant.period_start)


class Carry:
    """Computes the rolled chunks of a pass; `known` holds balances the pass already left."""

    def __init__(self, facts: Facts, known: Mapping[str, int], stored: EndState) -> None:
        self.facts, self.known, self.stored = facts, known, stored
        self.memo: dict[tuple[str, datetime], list[int]] = {}
        self.cache: dict[str, int] = {}

    def fill(self, grants: Mapping[str, Grant]) -> dict[str, Grant]:
        """The grants with each rolled chunk's amount."""
        out = dict(grants)
        chunks = [g for g in grants.values() if g.origin is not None]
        self._prefetch(chunks)
        for g in chunks:
            out[g.bucket_id] = replace(g, granted=self.chunks(g, g.period_start)[-g.priority - 1])
        return out

    def _prefetch(self, chunks: list[Grant]) -> None:
        """Reads the previous period's balances of every chunk in one lookup."""
        wanted: set[str] = set()
        for g in chunks:
            assert g.allowance is not None and g.allowance.rollover is not None
            prev = self._prev(g, g.period_start)[0]
            main = main_id(g, prev)
            older = _back(self.facts, replace(g, period_start=prev), g.allowance.rollover.max_cycles - 1)
            wanted |= {main, *(chunk_id(main, o) for o in older)}
        if wanted:
            self.cache.update(self.stored(wanted))

    def _prev(self, grant: Grant, start: datetime) -> tuple[datetime, datetime, datetime]:
        return self.facts.accounts[grant.account_id].period_at(start - TICK)

    def _end(self, bucket: str) -> int | None:
        if bucket in self.known:
            return self.known[bucket]
        if bucket not in self.cache:
            self.cache.update(self.stored({bucket}))
        return self.cache.get(bucket)

    def chunks(self, grant: Grant, start: datetime) -> list[int]:
        """Amounts rolled into the period starting at `start`, newest origin first, capped."""
        key = (grant.bucket_id.split("@")[0].rsplit(":", 1)[0], start)
        if key in self.memo:
            return self.memo[key]
        allowance = grant.allowance
        assert allowance is not None and allowance.rollover is not None
        rule = allowance.rollover
        prev_start, prev_end, basis = self._prev(grant, start)
        if prev_end <= _born(self.facts, grant):
            self.memo[key] = [0] * rule.max_cycles
            return self.memo[key]
        main = main_id(grant, prev_start)
        end = self._end(main)
        amounts = [self._grant(grant, allowance, prev_start, prev_end, basis) if end is None else end]
        older = self.chunks(grant, prev_start) if rule.max_cycles > 1 else []
        for j, origin in enumerate(
            _back(self.facts, replace(grant, period_start=prev_start), rule.max_cycles - 1)
        ):
            end = self._end(chunk_id(main, origin))
            amounts.append(older[j] if end is None else end)
        cap = UNLIMITED if rule.max_quantity is None else int(rule.max_quantity * base_units(allowance.unit))
        capped = []
        for a in amounts:
            capped.append(max(0, min(a, cap)))
            cap -= capped[-1]
        self.memo[key] = capped
        return capped

    def _grant(
        self, grant: Grant, allowance: Allowance, start: datetime, end: datetime, basis: datetime
    ) -> int:
        if grant.subscription_id is not None:
            return subscription_grant(self.facts, grant.subscription_id, allowance, start, end)
        return family_grant(self.facts, grant.account_id, allowance, basis, start, end)
