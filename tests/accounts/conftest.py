from datetime import UTC, datetime

import pytest

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.core.clock import TestClock


@pytest.fixture
def clock():
    return TestClock(datetime(2026, 1, 20, 9, 30, tzinfo=UTC))


@pytest.fixture
def customer(session, clock):
    spec = parse_spec(
        CustomerCreate, kind="company", name="Acme SAS", vat_number="FR40303265045", country="FR"
    )
    return create_customer(session, clock, spec)


@pytest.fixture
def new_account(session, clock, customer):
    """Create a billing account of the customer: new_account(parent=..., currency=..., ...)."""

    def make(parent=None, **fields):
        spec = parse_spec(
            BillingAccountCreate,
            customer_id=customer.id,
            parent_id=parent.id if parent is not None else None,
            **fields,
        )
        return create_billing_account(session, clock, spec)

    return make
