import pytest

from telbill.accounts import (
    MAX_DEPTH,
    account_tree,
    ancestors,
    descendants,
    move_account,
    payer_of,
)
from telbill.core.errors import ValidationFailed
from telbill.events.service import events_for


def chain(new_account, levels, **fields):
    accounts = [new_account(**fields)]
    for _ in range(levels - 1):
        accounts.append(new_account(parent=accounts[-1], **fields))
    return accounts


def test_tree_descendants_and_ancestors(session, new_account):
    root = new_account(pays_for_children=True)
    a = new_account(parent=root, pays_for_children=True)
    b = new_account(parent=root)
    a1 = new_account(parent=a)
    tree = account_tree(session, root.id)
    assert [n.account.id for n in tree.children] == [a.id, b.id]
    assert [n.account.id for n in tree.children[0].children] == [a1.id]
    assert [x.id for x in tree.walk()] == [root.id, a.id, a1.id, b.id]
    assert [x.id for x in descendants(session, root.id)] == [a.id, b.id, a1.id]
    assert [x.id for x in ancestors(session, a1.id)] == [a.id, root.id]


def test_children_of_a_paying_parent_are_invoiced_by_it(session, new_account):
    root = new_account(pays_for_children=True, currency="EUR", bill_cycle_day=31)
    paid = new_account(parent=root, pays_for_children=True)
    grandchild = new_account(parent=paid)
    own = new_account(parent=root, payment_responsibility="self", currency="USD")
    assert paid.payment_responsibility == "parent"
    assert (paid.currency, paid.bill_cycle_day, paid.cycle_anchor) == ("EUR", 31, root.cycle_anchor)
    assert payer_of(session, grandchild.id) is root
    assert payer_of(session, paid.id) is root
    assert payer_of(session, own.id) is own
    assert payer_of(session, root.id) is root


def test_consolidated_child_with_another_currency_or_cycle_is_refused(session, new_account):
    root = new_account(pays_for_children=True, currency="EUR", bill_cycle_day=1)
    with pytest.raises(ValidationFailed) as err:
        new_account(parent=root, currency="USD", bill_cycle_day=15, timezone="America/New_York")
    assert err.value.details == [
        "currency USD differs from the parent's EUR",
        "timezone America/New_York differs from the parent's Europe/Paris",
        "bill cycle day 15 differs from the parent's 1",
    ]
    with pytest.raises(ValidationFailed, match="cycle length differs"):
        new_account(parent=root, cycle="quarterly")
    not_paying = new_account()
    with pytest.raises(ValidationFailed, match="does not pay for its children"):
        new_account(parent=not_paying, payment_responsibility="parent")
    with pytest.raises(ValidationFailed, match="pays for itself"):
        new_account(payment_responsibility="parent")


def test_depth_is_limited(session, new_account):
    accounts = chain(new_account, MAX_DEPTH)
    with pytest.raises(ValidationFailed, match=f"{MAX_DEPTH + 1} levels deep"):
        new_account(parent=accounts[-1])


def test_moving_into_its_own_subtree_is_a_cycle(session, clock, new_account):
    root, child, grandchild = chain(new_account, 3)
    with pytest.raises(ValidationFailed, match="cycle"):
        move_account(session, clock, root.id, grandchild.id)
    with pytest.raises(ValidationFailed, match="cycle"):
        move_account(session, clock, child.id, child.id)
    assert root.parent_id is None


def test_moving_checks_the_depth_of_the_whole_subtree(session, clock, new_account):
    deep = chain(new_account, 3)
    subtree = chain(new_account, 3)
    with pytest.raises(ValidationFailed, match="6 levels deep"):
        move_account(session, clock, subtree[0].id, deep[-1].id)
    move_account(session, clock, subtree[0].id, deep[1].id)  # 2 + 3 = 5 levels: allowed
    expected = [subtree[1].id, subtree[0].id, deep[1].id, deep[0].id]
    assert [a.id for a in ancestors(session, subtree[-1].id)] == expected


def test_move_to_a_paying_parent_and_back_to_root(session, clock, new_account):
    payer = new_account(pays_for_children=True)
    other = new_account(currency="USD")
    with pytest.raises(ValidationFailed, match="currency USD differs"):
        move_account(session, clock, other.id, payer.id, payment_responsibility="parent")
    lone = new_account()
    move_account(session, clock, lone.id, payer.id, payment_responsibility="parent")
    assert payer_of(session, lone.id) is payer
    move_account(session, clock, lone.id, None)
    assert (lone.parent_id, lone.payment_responsibility) == (None, "self")
    moves = [
        e for e in events_for(session, "billing_account", lone.id) if e.event_type == "BillingAccount.moved"
    ]
    assert [m.payload["new_parent_id"] for m in moves] == [payer.id, None]


def test_a_closed_account_takes_no_children(session, clock, new_account):
    from telbill.accounts import PreferencesUpdate, parse_spec, update_preferences

    parent = new_account()
    update_preferences(session, clock, parent.id, parse_spec(PreferencesUpdate, status="closed"))
    with pytest.raises(ValidationFailed, match="is closed"):
        new_account(parent=parent)
