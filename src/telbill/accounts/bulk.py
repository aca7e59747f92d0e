"""Bulk creation of customers with their billing accounts (synthetic operators, migrations).

Rows go in with Core executemany inserts that return ids (SQLAlchemy's insertmanyvalues batches
them on SQLite and PostgreSQL); numbers are reserved in one counter update per series; the
outbox events are added in the same transaction and flushed in batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy.orm import Session

from telbill.accounts import repository
from telbill.accounts.hierarchy import consolidation_problems, placement_problems
from telbill.accounts.model import BillingAccount, Customer
from telbill.accounts.schemas import NewCustomerAccount
from telbill.accounts.service import (
    account_event,
    account_row,
    customer_event,
    customer_row,
    format_number,
    with_parent_defaults,
)
from telbill.accounts.tree import ancestors
from telbill.core.clock import Clock
from telbill.core.errors import ValidationFailed
from telbill.events import append_event

EVENT_FLUSH_EVERY = 5_000


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    customer_id: int
    customer_number: str
    account_id: int
    account_number: str


def bulk_create_accounts(
    session: Session, clock: Clock, specs: Sequence[NewCustomerAccount]
) -> list[CreatedAccount]:
    """Create one customer and its billing account per spec, all or nothing.

    Parents must already exist (create a tier, then the next one). Every problem is reported at once.
    """
    if not specs:
        return []
    now = clock.now()
    parents = repository.accounts_by_ids(session, (s.account.parent_id for s in specs if s.account.parent_id))
    customers, accounts, problems = [], [], []
    chains: dict[int, list[BillingAccount]] = {}
    for i, spec in enumerate(specs):
        parent = parents.get(spec.account.parent_id) if spec.account.parent_id is not None else None
        if spec.account.parent_id is not None and parent is None:
            problems.append(f"[{i}] parent account {spec.account.parent_id} does not exist")
            continue
        account_spec = with_parent_defaults(spec.account, parent)
        customer = customer_row(spec.customer)
        account = account_row(account_spec, spec.customer.name, now)
        if parent is not None:
            if parent.id not in chains:
                chains[parent.id] = [parent, *ancestors(session, parent.id)]
            found = placement_problems(None, chains[parent.id], set(), 0)
            if account["payment_responsibility"] == "parent":
                found += consolidation_problems(SimpleNamespace(**account), parent)  # type: ignore[arg-type]
            problems += [f"[{i}] {p}" for p in found]
        customers.append(customer)
        accounts.append(account)
    if problems:
        raise ValidationFailed(
            f"{len(problems)} problem(s) in the batch; nothing was created", details=problems
        )
    return _insert(session, clock, customers, accounts)


def _insert(
    session: Session, clock: Clock, customers: list[dict], accounts: list[dict]
) -> list[CreatedAccount]:
    now = clock.now()
    first_customer = repository.allocate_numbers(session, "customer", len(customers))
    first_account = repository.allocate_numbers(session, "account", len(accounts))
    for i, row in enumerate(customers):
        row["number"] = format_number("customer", first_customer + i)
        row["created_at"] = now
    customer_ids = repository.insert_many(session, Customer, customers)
    for i, (row, customer_id) in enumerate(zip(accounts, customer_ids, strict=True)):
        row["number"] = format_number("account", first_account + i)
        row["customer_id"] = customer_id
    account_ids = repository.insert_many(session, BillingAccount, accounts)
    created = []
    for i, (c_row, c_id, a_row, a_id) in enumerate(
        zip(customers, customer_ids, accounts, account_ids, strict=True)
    ):
        append_event(
            session,
            clock,
            event_type="Customer.created",
            aggregate_type="customer",
            aggregate_id=c_id,
            payload=customer_event(c_id, c_row),
        )
        append_event(
            session,
            clock,
            event_type="BillingAccount.created",
            aggregate_type="billing_account",
            aggregate_id=a_id,
            payload=account_event(a_id, a_row),
        )
        if (i + 1) % EVENT_FLUSH_EVERY == 0:
            session.flush()
        created.append(CreatedAccount(c_id, c_row["number"], a_id, a_row["number"]))
    session.flush()
    return created
