"""Rules of the billing account tree, over plain values: no cycles, bounded depth, coherent consolidation.

A child that the parent pays for (payment_responsibility = 'parent') appears on the parent's
invoice, so both must produce the same periods in the same currency: same currency, timezone,
cycle unit, length and bill cycle day, and anchors in phase. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

MAX_DEPTH = 5  # levels, the root being level 1


class AccountLike(Protocol):
    id: int
    number: str
    parent_id: int | None
    status: str
    payment_responsibility: str
    pays_for_children: bool
    currency: str
    timezone: str
    cycle_unit: str
    cycle_count: int
    bill_cycle_day: int
    cycle_anchor: date


def placement_problems(
    account_id: int | None,
    ancestors: Sequence[AccountLike],
    subtree_ids: set[int],
    subtree_height: int,
) -> list[str]:
    """Why an account (with its subtree) cannot go under ancestors[0]; ancestors go up to the root."""
    if not ancestors:
        return []
    parent = ancestors[0]
    problems = []
    if account_id is not None and (parent.id == account_id or parent.id in subtree_ids):
        problems.append(
            f"{parent.number} is the account itself or one of its descendants: that would make a cycle"
        )
    if parent.status != "active":
        problems.append(f"parent {parent.number} is {parent.status}")
    deepest = len(ancestors) + 1 + subtree_height
    if deepest > MAX_DEPTH:
        problems.append(f"the account tree would be {deepest} levels deep; at most {MAX_DEPTH} are allowed")
    return problems


def _in_phase(child: AccountLike, parent: AccountLike) -> bool:
    if child.cycle_unit == "month":
        months = (child.cycle_anchor.year - parent.cycle_anchor.year) * 12
        months += child.cycle_anchor.month - parent.cycle_anchor.month
        return months % child.cycle_count == 0
    step = child.cycle_count * (7 if child.cycle_unit == "week" else 1)
    return (child.cycle_anchor - parent.cycle_anchor).days % step == 0


def consolidation_problems(child: AccountLike, parent: AccountLike) -> list[str]:
    """Why `child` cannot be invoiced on `parent`'s invoice (empty when it can)."""
    problems = []
    if not parent.pays_for_children:
        problems.append(f"parent {parent.number} does not pay for its children (pays_for_children is off)")
    if child.currency != parent.currency:
        problems.append(f"currency {child.currency} differs from the parent's {parent.currency}")
    if child.timezone != parent.timezone:
        problems.append(f"timezone {child.timezone} differs from the parent's {parent.timezone}")
    same_length = (child.cycle_unit, child.cycle_count) == (parent.cycle_unit, parent.cycle_count)
    if not same_length:
        problems.append("cycle length differs from the parent's")
    elif child.cycle_unit == "month" and child.bill_cycle_day != parent.bill_cycle_day:
        problems.append(
            f"bill cycle day {child.bill_cycle_day} differs from the parent's {parent.bill_cycle_day}"
        )
    elif not _in_phase(child, parent):
        problems.append("cycle anchor is out of phase with the parent's: periods would not line up")
    return problems


def subtree_height(levels: Sequence[Sequence[int]]) -> int:
    """Height of a subtree given its levels below the root (levels[0] = children)."""
    return sum(1 for level in levels if level)
