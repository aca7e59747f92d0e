"""Use cases that change an existing billing account: preferences, bill cycle, place in the tree.

Each validates the whole change first (against the parent and the children it pays for), then
writes, then appends one outbox event per changed account. Nothing commits here.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from telbill.accounts import repository, rules
from telbill.accounts.hierarchy import consolidation_problems, placement_problems, subtree_height
from telbill.accounts.model import BillingAccount, BillingAccountCycleChange
from telbill.accounts.schemas import PreferencesUpdate
from telbill.accounts.service import HasBeenBilled, HasSubscriptions, exemption_columns
from telbill.accounts.tree import ancestors, consolidated_children, descendant_levels, get_account
from telbill.billing.periods import BillingCycle, next_period_start, parse_length
from telbill.core.clock import Clock, ensure_utc, zone
from telbill.core.errors import ValidationFailed
from telbill.events import append_event

CYCLE_FIELDS = ("bill_cycle_day", "cycle_unit", "cycle_count", "cycle_anchor")


def _proposed(changes: PreferencesUpdate, account: BillingAccount) -> dict[str, Any]:
    """The new column values asked for (tax exemption and communication expanded)."""
    values: dict[str, Any] = {}
    for name, value in changes.changes().items():
        if name == "tax_exemption":
            values.update(exemption_columns(value))
        elif name == "communication":
            merged = {k: dict(v) for k, v in account.communication.items()}
            merged.update({k: v.model_dump() for k, v in (value or {}).items()})
            values["communication"] = merged
        else:
            values[name] = value
    return values


def _billing_start_problems(
    session: Session, account: BillingAccount, values: dict[str, Any], has_been_billed: HasBeenBilled | None
) -> list[str]:
    """The go-live date is the migration's cut-over: it may move only while nothing was billed, so
    no period is billed twice (by the old system and by telbill) or never."""
    if "billing_start" not in values or values["billing_start"] == account.billing_start:
        return []
    if has_been_billed is None:
        return ["billing_start: cannot change unless the account is known not to have been billed yet"]
    if has_been_billed(session, account.id):
        return ["billing_start: the account has been billed already, so its go-live date cannot change"]
    return []


def _account_problems(
    session: Session,
    account: BillingAccount,
    values: dict[str, Any],
    has_subscriptions: HasSubscriptions | None,
) -> list[str]:
    problems = []
    if "currency" in values and values["currency"] != account.currency:
        if has_subscriptions is None:
            problems.append(
                "currency: cannot change once set unless the account is known to have no subscriptions"
            )
        elif has_subscriptions(session, account.id):
            problems.append("currency: the account has subscriptions, so its currency cannot change")
        if account.credit_limit is not None and "credit_limit" not in values:
            problems.append("credit_limit: give the credit limit again in the new currency")
    code = values.get("currency", account.currency)
    if values.get("credit_limit") is not None:
        try:
            values["credit_limit"] = rules.credit_limit(values["credit_limit"], code)
        except ValueError as exc:
            problems.append(f"credit_limit: {exc}")
    if values.get("payment_responsibility") == "parent" and account.parent_id is None:
        problems.append("payment_responsibility: an account without a parent pays for itself")
    return problems


def _tree_problems(session: Session, account: BillingAccount, values: dict[str, Any]) -> list[str]:
    """The change seen from the parent (if it pays for us) and from the children we pay for."""
    after = SimpleNamespace(**{**_columns(account), **values})
    problems = []
    if after.payment_responsibility == "parent" and account.parent_id is not None:
        problems += consolidation_problems(after, get_account(session, account.parent_id))  # type: ignore[arg-type]
    paid = [c for c in repository.children_of(session, [account.id]) if c.payment_responsibility == "parent"]
    for child in paid:
        if not after.pays_for_children:
            problems.append(f"pays_for_children: {child.number} is paid by this account; change it first")
            continue
        problems += [f"{child.number}: {p}" for p in consolidation_problems(child, after)]  # type: ignore[arg-type]
    if values.get("status") == "closed" and account.status != "closed":
        active = [c.number for c in repository.children_of(session, [account.id]) if c.status == "active"]
        if active:
            problems.append(f"status: close or move the active child accounts first ({', '.join(active)})")
    return problems


def _columns(account: BillingAccount) -> dict[str, Any]:
    return {c.key: getattr(account, c.key) for c in BillingAccount.__mapper__.column_attrs}


def update_preferences(
    session: Session,
    clock: Clock,
    account_id: int,
    changes: PreferencesUpdate,
    *,
    has_subscriptions: HasSubscriptions | None = None,
    has_been_billed: HasBeenBilled | None = None,
) -> BillingAccount:
    """Change billing preferences. A currency change needs `has_subscriptions` to answer False, a
    go-live date change `has_been_billed`."""
    account = get_account(session, account_id)
    values = _proposed(changes, account)
    problems = _account_problems(session, account, values, has_subscriptions)
    problems += _billing_start_problems(session, account, values, has_been_billed)
    problems += _tree_problems(session, account, values)
    if problems:
        raise ValidationFailed(f"cannot update billing account {account.number}", details=problems)
    now = clock.now()
    if values.get("status") == "closed" and account.status != "closed":
        values["closed_at"] = now
    elif values.get("status") == "active":
        values["closed_at"] = None
    diff = {k: {"old": getattr(account, k), "new": v} for k, v in values.items() if getattr(account, k) != v}
    if not diff:
        return account
    for key, change in diff.items():
        setattr(account, key, change["new"])
    account.updated_at = now
    session.flush()
    append_event(
        session,
        clock,
        event_type="BillingAccount.preferencesChanged",
        aggregate_type="billing_account",
        aggregate_id=account.id,
        payload={"billing_account_id": account.id, "number": account.number, "changes": diff},
    )
    return account


def change_bill_cycle(
    session: Session,
    clock: Clock,
    account_id: int,
    *,
    day: int | None = None,
    cycle: str | None = None,
    effective_at: datetime | None = None,
) -> BillingAccount:
    """Change the bill cycle day and/or length, recorded in the cycle history for proration.

    By default the change takes effect at the end of the running period, so that period is
    billed under the old cycle; the new cycle is anchored on the local date it takes effect.
    The accounts invoiced with this one (paid children) change with it.
    """
    account = get_account(session, account_id)
    if account.payment_responsibility == "parent":
        payer = get_account(session, account.parent_id) if account.parent_id is not None else account
        raise ValidationFailed(
            f"{account.number} is invoiced with its parent: change the cycle of {payer.number}"
        )
    if day is not None and not (isinstance(day, int) and 1 <= day <= 31):
        raise ValidationFailed("invalid bill cycle", details=[f"bill_cycle_day: must be 1..31, got {day!r}"])
    unit, count = parse_length(cycle) if cycle else (account.cycle_unit, account.cycle_count)
    new_day = account.bill_cycle_day if day is None else day
    if (new_day, unit, count) == (account.bill_cycle_day, account.cycle_unit, account.cycle_count):
        return account
    now = clock.now()
    pending = [c for c in repository.cycle_changes(session, account.id) if c.effective_at > now]
    if pending:
        raise ValidationFailed(
            f"{account.number} already has a cycle change pending for "
            f"{pending[-1].effective_at.isoformat()}; change the cycle again once it has taken effect"
        )
    tz = zone(account.timezone)
    when = ensure_utc(effective_at) if effective_at else next_period_start(account.billing_cycle, tz, now)
    if when < now:
        raise ValidationFailed(f"a cycle change cannot take effect in the past ({when.isoformat()})")
    anchor = when.astimezone(tz).date()
    BillingCycle(unit, count, new_day, anchor)  # type: ignore[arg-type]  # validates the combination
    for target in [account, *consolidated_children(session, account.id)]:
        _apply_cycle(session, clock, target, (new_day, unit, count, anchor), when)
    return account


def _apply_cycle(
    session: Session, clock: Clock, account: BillingAccount, new: tuple[int, str, int, date], when: datetime
) -> None:
    old = tuple(getattr(account, f) for f in CYCLE_FIELDS)
    change = BillingAccountCycleChange(
        billing_account_id=account.id,
        old_bill_cycle_day=old[0],
        old_cycle_unit=old[1],
        old_cycle_count=old[2],
        old_cycle_anchor=old[3],
        new_bill_cycle_day=new[0],
        new_cycle_unit=new[1],
        new_cycle_count=new[2],
        new_cycle_anchor=new[3],
        effective_at=when,
        recorded_at=clock.now(),
    )
    repository.add(session, change)
    for name, value in zip(CYCLE_FIELDS, new, strict=True):
        setattr(account, name, value)
    account.updated_at = clock.now()
    append_event(
        session,
        clock,
        event_type="BillingAccount.cycleChanged",
        aggregate_type="billing_account",
        aggregate_id=account.id,
        payload={
            "billing_account_id": account.id,
            "number": account.number,
            "old": dict(zip(CYCLE_FIELDS, old, strict=True)),
            "new": dict(zip(CYCLE_FIELDS, new, strict=True)),
            "effective_at": when,
        },
    )


def cycle_history(session: Session, account_id: int) -> list[BillingAccountCycleChange]:
    return list(repository.cycle_changes(session, account_id))


def cycle_in_force(session: Session, account_id: int, instant: datetime) -> BillingCycle:
    """The cycle that applied at an instant: billing reads this, not the columns (a change may be pending)."""
    instant = ensure_utc(instant)
    account = get_account(session, account_id)
    history = repository.cycle_changes(session, account_id)
    current = account.billing_cycle
    for change in reversed(history):
        if change.effective_at <= instant:
            return BillingCycle(
                change.new_cycle_unit,
                change.new_cycle_count,
                change.new_bill_cycle_day,
                change.new_cycle_anchor,
            )  # type: ignore[arg-type]
        current = BillingCycle(
            change.old_cycle_unit, change.old_cycle_count, change.old_bill_cycle_day, change.old_cycle_anchor
        )  # type: ignore[arg-type]
    return current


def move_account(
    session: Session,
    clock: Clock,
    account_id: int,
    new_parent_id: int | None,
    *,
    payment_responsibility: str | None = None,
) -> BillingAccount:
    """Put an account (with its subtree) under another parent, or make it a root with None."""
    account = get_account(session, account_id)
    responsibility = (
        "self" if new_parent_id is None else (payment_responsibility or account.payment_responsibility)
    )
    problems: list[str] = []
    if responsibility not in rules.RESPONSIBILITIES:
        problems.append(f"payment_responsibility: must be self or parent, got {responsibility!r}")
    if new_parent_id is not None:
        parent = get_account(session, new_parent_id)
        levels = descendant_levels(session, account.id)
        subtree = {a.id for level in levels for a in level}
        chain = (
            [parent, *ancestors(session, parent.id)] if parent.id not in subtree | {account.id} else [parent]
        )
        problems += placement_problems(account.id, chain, subtree, subtree_height(levels))
        if responsibility == "parent":
            problems += consolidation_problems(account, parent)
    if problems:
        raise ValidationFailed(f"cannot move {account.number}", details=problems)
    old_parent = account.parent_id
    account.parent_id = new_parent_id
    account.payment_responsibility = responsibility
    account.updated_at = clock.now()
    session.flush()
    append_event(
        session,
        clock,
        event_type="BillingAccount.moved",
        aggregate_type="billing_account",
        aggregate_id=account.id,
        payload={
            "billing_account_id": account.id,
            "number": account.number,
            "old_parent_id": old_parent,
            "new_parent_id": new_parent_id,
            "payment_responsibility": responsibility,
        },
    )
    return account
