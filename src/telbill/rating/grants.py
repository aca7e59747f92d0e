"""Allowance buckets for tariff-priced usage: what each offer grants per billing period (pure).

A bucket is one allowance of one subscription for one billing period (`s<sub>:<code>:<period>`),
or, when the allowance is `shared: family`, one pool for the account hierarchy
(`f<root account>:<code>:<period>`) granted the sum of its members' grants. A grant for a
subscription that starts inside the period is prorated (rounded down); an unlimited allowance is a
bucket that never runs out. The engine matches buckets by an owner key carried in its `account_id`
column: `<charge subscription>|<scope>`, so a bucket is drawn only by the subscriptions and scopes
its allowance covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from telbill.catalog.charges import Allowance
from telbill.catalog.tariffs import TIME_USAGE, VOLUME_USAGE
from telbill.catalog.units import base_units
from telbill.catalog.versions import version_for_cycle
from telbill.rating.allowances import Bucket, prorated
from telbill.rating.classify import Facts, Resolution

UNLIMITED = 1 << 62


@dataclass(frozen=True)
class Grant:
    """A bucket's identity and what it is granted for its period (before any consumption)."""

    bucket_id: str
    account_id: int  # the subscription's account, or the family's root account
    subscription_id: int | None  # None for a family pool
    allowance_code: str
    usage_type: str
    unit: str  # seconds | events | bytes
    period_start: datetime
    period_end: datetime
    granted: int
    owners: tuple[str, ...]
    priority: int = 0  # rolled chunks: −k, k periods back (drawn first, oldest first)
    origin: datetime | None = None  # a rolled chunk's origin period; None for the period's grant
    allowance: Allowance | None = None  # set on rolled chunks and grants that roll over

    def bucket(self, remaining: int) -> Bucket:
        return Bucket(
            self.bucket_id,
            self.owners,
            self.unit,
            remaining,
            frozenset({self.usage_type}),
            self.period_start,
            self.period_end,
            priority=self.priority,
        )


def owner_key(subscription_id: int, scope: str) -> str:
    return f"{subscription_id}|{scope}"


def bucket_unit(usage_type: str) -> str:
    return "seconds" if usage_type in TIME_USAGE else "bytes" if usage_type in VOLUME_USAGE else "events"


def _quantity(allowance: Allowance) -> int:
    if allowance.unlimited or allowance.quantity is None or allowance.unit is None:
        return UNLIMITED
    return int(allowance.quantity * base_units(allowance.unit))


def stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%MZ")


def _owners(sids: Iterable[int], allowance: Allowance, scopes: list[str]) -> tuple[str, ...]:
    covered = list(allowance.scope) or scopes
    return tuple(owner_key(s, sc) for s in sorted(set(sids)) for sc in covered)


def subscription_grant(facts: Facts, sid: int, allowance: Allowance, start: datetime, end: datetime) -> int:
    quantity = _quantity(allowance)
    if quantity == UNLIMITED:
        return UNLIMITED
    return prorated(quantity, start, end, facts.subscriptions[sid].start_at)


def grants_for(
    facts: Facts, resolution: Resolution, usage_type: str, start: datetime, end: datetime, basis: datetime
) -> list[Grant]:
    """The buckets a tariff-priced record of this resolution and period may draw on."""
    sid = resolution.subscription_id
    if sid is None:
        return []
    account = facts.accounts[facts.subscriptions[sid].account_id]
    scopes = facts.scopes.scopes()
    out = []
    for a in resolution.allowances:
        unit = bucket_unit(usage_type)
        if a.shared.value == "family":
            members = _family_members(facts, account.family_id, a, basis, start, end)
            granted = family_grant(facts, account.family_id, a, basis, start, end, members)
            bucket_id = f"f{account.family_id}:{a.code}:{stamp(start)}"
            owners = _owners([*members, sid], a, scopes)
            out.append(
                Grant(
                    bucket_id,
                    account.family_id,
                    None,
                    a.code,
                    usage_type,
                    unit,
                    start,
                    end,
                    granted,
                    owners,
                    allowance=a,
                )
            )
        else:
            bucket_id = f"s{sid}:{a.code}:{stamp(start)}"
            granted = subscription_grant(facts, sid, a, start, end)
            out.append(
                Grant(
                    bucket_id, account.id, sid, a.code, usage_type, unit, start, end, granted,
                    _owners([sid], a, scopes), allowance=a,
                )
            )  # fmt: skip
    return out


def family_grant(
    facts: Facts,
    family: int,
    allowance: Allowance,
    basis: datetime,
    start: datetime,
    end: datetime,
    members: list[int] | None = None,
) -> int:
    """A family pool's grant for a period: the sum of its live members' grants."""
    if members is None:
        members = _family_members(facts, family, allowance, basis, start, end)
    return min(UNLIMITED, sum(subscription_grant(facts, m, allowance, start, end) for m in members))


def _family_members(
    facts: Facts, family: int, allowance: Allowance, basis: datetime, start: datetime, end: datetime
) -> list[int]:
    """Subscriptions of the hierarchy live in the period whose offer grants this shared allowance."""
    members = []
    for sid, sub in facts.subscriptions.items():
        acc = facts.accounts.get(sub.account_id)
        if acc is None or acc.family_id != family:
            continue
        if sub.start_at >= end or (sub.end_at is not None and sub.end_at <= start):
            continue
        code, subscribed = sub.offer_at(max(start, sub.start_at))
        offer = facts.offers.get(code)
        if offer is None:
            continue
        version = offer.version(version_for_cycle(offer, subscribed, basis))
        if any(a.code == allowance.code and a.shared.value == "family" for a in version.allowances):
            members.append(sid)
    return members
