"""Reading the billing account tree: ancestors, descendants, the payer of an account."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from telbill.accounts import repository
from telbill.accounts.hierarchy import MAX_DEPTH
from telbill.accounts.model import BillingAccount
from telbill.core.errors import Conflict, NotFound


@dataclass(frozen=True)
class AccountNode:
    account: BillingAccount
    children: tuple[AccountNode, ...]

    def walk(self) -> list[BillingAccount]:
        """The accounts of this subtree, depth first, this one first."""
        result = [self.account]
        for child in self.children:
            result.extend(child.walk())
        return result


def get_account(session: Session, account_id: int) -> BillingAccount:
    account = repository.get_account(session, account_id)
    if account is None:
        raise NotFound(f"billing account {account_id} does not exist")
    return account


def ancestors(session: Session, account_id: int) -> list[BillingAccount]:
    """Parent first, up to the root. Bounded: a corrupt tree raises instead of looping."""
    chain: list[BillingAccount] = []
    current = get_account(session, account_id)
    while current.parent_id is not None:
        if len(chain) > MAX_DEPTH:
            raise Conflict(
                f"the tree above {current.number} is deeper than {MAX_DEPTH} levels or has a cycle"
            )
        current = get_account(session, current.parent_id)
        chain.append(current)
    return chain


def descendant_levels(session: Session, account_id: int) -> list[list[BillingAccount]]:
    """Descendants level by level (children, grandchildren, ...): one query per level."""
    levels: list[list[BillingAccount]] = []
    frontier = [account_id]
    seen = {account_id}
    while frontier:
        level = [a for a in repository.children_of(session, frontier) if a.id not in seen]
        if not level:
            break
        if len(levels) >= MAX_DEPTH:
            raise Conflict(f"the tree under account {account_id} is deeper than {MAX_DEPTH} levels")
        seen.update(a.id for a in level)
        levels.append(level)
        frontier = [a.id for a in level]
    return levels


def descendants(session: Session, account_id: int) -> list[BillingAccount]:
    """Every account below this one, breadth first (not the account itself)."""
    get_account(session, account_id)
    return [a for level in descendant_levels(session, account_id) for a in level]


def account_tree(session: Session, root_id: int) -> AccountNode:
    root = get_account(session, root_id)
    by_parent: dict[int, list[BillingAccount]] = {}
    for level in descendant_levels(session, root_id):
        for account in level:
            by_parent.setdefault(account.parent_id or 0, []).append(account)

    def build(account: BillingAccount) -> AccountNode:
        return AccountNode(account, tuple(build(c) for c in by_parent.get(account.id, [])))

    return build(root)


def payer_of(session: Session, account_id: int) -> BillingAccount:
    """The account whose invoice carries this one's charges: up the tree while the parent pays."""
    account = get_account(session, account_id)
    hops = 0
    while account.payment_responsibility == "parent" and account.parent_id is not None:
        hops += 1
        if hops > MAX_DEPTH:
            raise Conflict(f"payer chain of account {account_id} is longer than {MAX_DEPTH}")
        account = get_account(session, account.parent_id)
    return account


def consolidated_children(session: Session, account_id: int) -> list[BillingAccount]:
    """Descendants invoiced on this account's invoice (paid by it, directly or through a paid child)."""
    result: list[BillingAccount] = []
    frontier = [account_id]
    for _ in range(MAX_DEPTH):
        level = [a for a in repository.children_of(session, frontier) if a.payment_responsibility == "parent"]
        result.extend(level)
        frontier = [a.id for a in level]
    return result
