import pytest

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    NewCustomerAccount,
    bulk_create_accounts,
    count_accounts,
    get_account_by_number,
    parse_spec,
    payer_of,
)
from telbill.core.errors import ValidationFailed
from telbill.events.service import events_for


def specs(n, **account):
    """n new subscribers; without a parent their bill cycle days are spread over the month."""
    return [
        NewCustomerAccount(
            customer=parse_spec(CustomerCreate, kind="person", name=f"Subscriber {i}", country="FR"),
            account=parse_spec(BillingAccountCreate, **({"bill_cycle_day": 1 + i % 28} | account)),
        )
        for i in range(n)
    ]


def test_bulk_creates_customers_accounts_and_their_events(session, clock):
    before = count_accounts(session)
    created = bulk_create_accounts(session, clock, specs(300))
    assert len(created) == 300
    assert count_accounts(session) == before + 300
    numbers = [c.account_number for c in created]
    assert len(set(numbers)) == 300 and numbers == sorted(numbers)
    last = get_account_by_number(session, created[-1].account_number)
    assert (last.customer_id, last.bill_cycle_day) == (created[-1].customer_id, 1 + 299 % 28)
    assert [e.event_type for e in events_for(session, "customer", created[7].customer_id)] == [
        "Customer.created"
    ]
    (event,) = events_for(session, "billing_account", last.id)
    assert event.payload["number"] == last.number and event.event_type == "BillingAccount.created"


def test_bulk_children_of_an_existing_paying_parent(session, clock, new_account):
    parent = new_account(pays_for_children=True, bill_cycle_day=10)
    batch = [
        NewCustomerAccount(
            customer=parse_spec(CustomerCreate, kind="person", name=f"Employee {i}", country="FR"),
            account=parse_spec(BillingAccountCreate, parent_id=parent.id),
        )
        for i in range(3)
    ]
    for c in bulk_create_accounts(session, clock, batch):
        child = get_account_by_number(session, c.account_number)
        assert (child.bill_cycle_day, child.cycle_anchor) == (10, parent.cycle_anchor)  # inherited
        assert payer_of(session, child.id) is parent


def test_bulk_is_all_or_nothing_and_lists_every_problem(session, clock, new_account):
    parent = new_account(pays_for_children=True, currency="EUR")
    batch = specs(2, parent_id=parent.id, currency="USD", bill_cycle_day=1) + specs(1, parent_id=10**9)
    before = count_accounts(session)
    with pytest.raises(ValidationFailed) as err:
        bulk_create_accounts(session, clock, batch)
    assert len(err.value.details) == 3
    assert err.value.details[0] == "[0] currency USD differs from the parent's EUR"
    assert err.value.details[2] == "[2] parent account 1000000000 does not exist"
    assert count_accounts(session) == before
    assert bulk_create_accounts(session, clock, []) == []
