from datetime import date
from decimal import Decimal

import pytest

from telbill.accounts import (
    BillingAccountCreate,
    ContactCreate,
    CustomerCreate,
    add_contact,
    count_accounts,
    create_billing_account,
    create_customer,
    get_account,
    get_account_by_number,
    list_accounts,
    list_contacts,
    parse_spec,
)
from telbill.core.errors import NotFound, ValidationFailed
from telbill.core.money import Money
from telbill.events.service import events_for


def test_customer_and_account_get_numbers_and_events(session, clock, customer, new_account):
    assert customer.number.startswith("CUS-") and customer.vat_number == "FR40303265045"
    (created,) = events_for(session, "customer", customer.id)
    assert created.event_type == "Customer.created"
    assert created.payload["vat_number"] == "FR40303265045"

    first = new_account(currency="EUR", bill_cycle_day=31, credit_limit="1500")
    second = new_account(name="Acme — Lyon", language="en", cycle="quarterly")
    assert first.number.startswith("ACC-") and len(first.number) == 10
    assert int(second.number[4:]) == int(first.number[4:]) + 1
    assert first.name == "Acme SAS" and second.name == "Acme — Lyon"
    assert first.credit_limit_money == Money.of("1500.00", "EUR")
    assert first.cycle_anchor == date(2026, 1, 20)  # the local date of creation
    assert second.cycle_name == "quarterly"
    assert first.communication["marketing"] == {"channel": "email", "opt_in": False}
    assert first.communication["invoice_ready"] == {"channel": "email", "opt_in": True}
    (event,) = events_for(session, "billing_account", first.id)
    assert event.event_type == "BillingAccount.created"
    assert event.payload["number"] == first.number and event.payload["bill_cycle_day"] == 31
    assert event.occurred_at == clock.now()

    assert get_account_by_number(session, first.number.lower()) is first
    assert get_account(session, second.id) is second
    with pytest.raises(NotFound):
        get_account_by_number(session, "ACC-999999")


def test_a_rolled_back_creation_leaves_no_event(session, clock, customer):
    nested = session.begin_nested()
    spec = parse_spec(BillingAccountCreate, customer_id=customer.id)
    account = create_billing_account(session, clock, spec)
    account_id = account.id
    nested.rollback()
    assert list(events_for(session, "billing_account", account_id)) == []
    with pytest.raises(NotFound):
        get_account(session, account_id)


def test_account_needs_an_existing_customer(session, clock):
    with pytest.raises(NotFound):
        create_billing_account(session, clock, parse_spec(BillingAccountCreate, customer_id=987654))
    with pytest.raises(ValidationFailed, match="needs a customer"):
        create_billing_account(session, clock, parse_spec(BillingAccountCreate))


def test_list_and_count_with_filters(session, clock, customer, new_account):
    eur = new_account(name="Alpha")
    usd = new_account(name="Beta", currency="USD")
    assert [a.id for a in list_accounts(session, customer_id=customer.id)] == [eur.id, usd.id]
    assert [a.id for a in list_accounts(session, customer_id=customer.id, currency="USD")] == [usd.id]
    assert [a.id for a in list_accounts(session, customer_id=customer.id, search="alp")] == [eur.id]
    assert count_accounts(session, customer_id=customer.id) == 2
    assert list_accounts(session, customer_id=customer.id, limit=1, offset=1)[0].id == usd.id


def test_contacts_normalise_phone_from_the_address_country(session, clock, customer, new_account):
    account = new_account()
    address = {"line1": "10 Downing St", "postcode": "SW1A 2AA", "city": "London", "country": "GB"}
    contact = add_contact(
        session,
        clock,
        parse_spec(
            ContactCreate,
            billing_account_id=account.id,
            roles=["technical", "billing", "billing"],
            name="Jo Smith",
            email="jo@Example.co.uk",
            phone="020 7946 0018",
            address=address,
            language="en",
        ),
    )
    assert contact.customer_id == customer.id
    assert contact.phone == "+442079460018"
    assert contact.roles == ["billing", "technical"]
    assert contact.email == "jo@example.co.uk"
    french = add_contact(
        session, clock, parse_spec(ContactCreate, customer_id=customer.id, name="Léa", phone="06 12 34 56 78")
    )
    assert french.phone == "+33612345678"  # no address: the customer's country
    assert [c.id for c in list_contacts(session, customer_id=customer.id)] == [contact.id, french.id]
    assert [c.id for c in list_contacts(session, billing_account_id=account.id)] == [contact.id]
    assert [e.event_type for e in events_for(session, "customer", customer.id)][-2:] == ["Contact.added"] * 2
    with pytest.raises(ValidationFailed, match="phone"):
        add_contact(session, clock, parse_spec(ContactCreate, customer_id=customer.id, name="X", phone="123"))


def test_contact_account_must_belong_to_the_customer(session, clock, customer, new_account):
    other = create_customer(
        session, clock, parse_spec(CustomerCreate, kind="person", name="Ana", country="ES")
    )
    account = new_account()
    with pytest.raises(ValidationFailed, match="does not belong"):
        add_contact(
            session,
            clock,
            parse_spec(ContactCreate, customer_id=other.id, billing_account_id=account.id, name="Ana"),
        )


def test_tax_exemption_is_dated(session, clock, new_account):
    account = new_account(
        tax_exemption={"reason": "Art. 262 ter CGI", "certificate_id": "EX-1", "valid_until": "2026-06-30"}
    )
    assert account.tax_exempt_on(date(2026, 6, 30))
    assert not account.tax_exempt_on(date(2026, 7, 1))
    assert account.credit_limit is None and account.credit_limit_money is None
    assert new_account(credit_limit=Decimal("0")).credit_limit_money == Money.of("0", "EUR")
