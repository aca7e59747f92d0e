"""Proposed items against what was already billed → only what is still owed (pure).

Issued invoices never change. For each business key (subscription, offer, charge, period):

- nothing billed yet: the proposed items go on the invoice as they are;
- billed exactly what is proposed: nothing (this is what makes a re-run a no-op);
- billed something else (a change inside a period already billed in advance, a backdated
  cancellation, re-rated usage): one repair item for the difference — a credit when negative;
- billed but no longer proposed (a subscription cancelled before a period it paid in advance):
  a repair crediting all of it. Only period-keyed items (recurring, usage, minimum) are reversed,
  and only for periods inside the window the caller looked at.

Manual credit notes (an operator's, not the bill run's) are an operator's decision: the bill run
never bills back what they gave, and never gives it back a second time. With E expected, G billed
by the bill run and C given back by manual credit notes for a key, the customer still pays
N = G − C; the repair is E − G when more is owed than was ever billed (the credit stays granted),
else E − N when the customer still pays more than is owed, else nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from telbill.billing.charges import ProposedItem

REVERSIBLE = ("rc|", "us|", "mc|")


@dataclass(frozen=True, slots=True)
class BilledItem:
    """What an issued (or drafted) invoice line billed, read back by its key."""

    key: str
    amount: Decimal
    account_id: int
    subscription_id: int | None
    description: str
    service_start: datetime
    service_end: datetime
    tax_class: str = "telecom_service"


def _groups(items: Sequence[ProposedItem]) -> dict[str, list[ProposedItem]]:
    groups: dict[str, list[ProposedItem]] = {}
    for item in items:
        groups.setdefault(item.key, []).append(item)
    return groups


def _billed(items: Sequence[BilledItem]) -> dict[str, list[BilledItem]]:
    out: dict[str, list[BilledItem]] = {}
    for item in items:
        out.setdefault(item.key, []).append(item)
    return out


def _plain(description: str) -> str:
    return description.split(" (prorated")[0]


def repair(
    template: ProposedItem | BilledItem, key: str, delta: Decimal, start: datetime, end: datetime
) -> ProposedItem:
    """One item for the difference between what is owed and what was billed."""
    what = "Credit for unused time" if delta < 0 else "Additional charge"
    base = template if isinstance(template, ProposedItem) else None
    return ProposedItem(
        key=key,
        account_id=template.account_id,
        subscription_id=template.subscription_id,
        offer_code=base.offer_code if base else key.split("|")[2],
        charge_code=base.charge_code if base else key.split("|")[3],
        kind="proration",
        description=f"{what} — {_plain(template.description)}",
        service_start=start,
        service_end=end,
        quantity=Decimal(1) if delta > 0 else Decimal(-1),
        unit_price=abs(delta),
        amount=delta,
        tax_class=template.tax_class,
    )


def _period_start(key: str) -> datetime | None:
    tail = key.rsplit("|", 1)[-1]
    try:
        return datetime.fromisoformat(tail)
    except ValueError:
        return None


def _reversible(key: str, window_start: datetime) -> bool:
    start = _period_start(key)
    return key.startswith(REVERSIBLE) and start is not None and start >= window_start


def owed_difference(expected: Decimal, billed: Decimal, credited: Decimal = Decimal(0)) -> Decimal:
    """What a key still needs: expected against billed, net of manual credits (module docstring).

    >>> owed_difference(Decimal(10), Decimal(20), Decimal(5))  # downgrade after 5.00 of goodwill
    Decimal('-5')
    """
    if expected > billed:
        return expected - billed
    still_paid = billed - credited
    return expected - still_paid if still_paid > expected else Decimal(0)


def reconcile(
    proposed: Sequence[ProposedItem],
    billed: Sequence[BilledItem],
    window_start: datetime,
    credited: Mapping[str, Decimal] | None = None,
) -> list[ProposedItem]:
    """What to put on the new invoice: proposed minus billed, key by key (see module docstring).

    `credited`: per key, what manual credit notes gave back of the billed lines.
    """
    credited = credited or {}
    done = _billed(billed)
    groups = _groups(proposed)
    out: list[ProposedItem] = []
    for key, group in groups.items():
        expected = sum((i.amount for i in group), Decimal(0))
        if key not in done:
            out.extend(i for i in group if i.amount != 0)
            continue
        already = sum((b.amount for b in done[key]), Decimal(0))
        delta = owed_difference(expected, already, credited.get(key, Decimal(0)))
        if delta != 0:
            start = min(i.service_start for i in group)
            end = max(i.service_end for i in group)
            out.append(repair(group[0], key, delta, start, end))
    for key, lines in done.items():
        if key in groups or not _reversible(key, window_start):
            continue
        already = sum((b.amount for b in lines), Decimal(0))
        delta = owed_difference(Decimal(0), already, credited.get(key, Decimal(0)))
        if delta != 0:
            first = lines[0]
            out.append(repair(first, key, delta, first.service_start, first.service_end))
    return out
