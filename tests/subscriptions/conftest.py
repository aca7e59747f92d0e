"""A small catalog written as text, an account, and a test clock: the world of these tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.core.clock import TestClock
from telbill.subscriptions import OrderCreate, OrderItemCreate, ServiceIdIn, place_order

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

CATALOG = """\
catalog: {name: subscriptions-tests, timezone: Europe/Paris}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: fibre, name: Fibre, kind: fixed_broadband}
offers:
  - code: mobile-s
    name: Mobile S
    kind: plan
    products: [mobile]
    plan_change: immediate
    cancellation: end_of_period
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "10.00"}}]
  - code: mobile-l
    name: Mobile L
    kind: plan
    products: [mobile]
    plan_change: end_of_period
    cancellation: immediate
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "25.00"}}]
  - code: mobile-trial
    name: Mobile with a 14-day trial
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "15.00"}}]
        phases: [{kind: trial, duration: {unit: days, count: 14}}, {kind: evergreen}]
  - code: fibre-12
    name: Fibre, 12-month commitment
    kind: plan
    products: [fibre]
    cancellation: immediate
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "30.00"}}]
        phases:
          - kind: fixed_term
            duration: {unit: months, count: 12}
            early_termination: {kind: remaining_months}
          - {kind: evergreen}
  - code: roaming
    name: Roaming pack
    kind: addon
    products: [mobile]
    compatible_with: [mobile-s]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "5.00"}}]
  - code: us-plan
    name: US plan
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2026-01-01
        charges: [{type: recurring, code: fee, price: {USD: "20.00"}}]
"""


@pytest.fixture
def clock():
    return TestClock(T0)


@pytest.fixture
def catalog(session, clock):
    load_catalog(session, clock, parse_catalog_text(CATALOG))


@pytest.fixture
def account(session, clock, catalog):
    customer = create_customer(
        session, clock, parse_spec(CustomerCreate, kind="person", name="Ada Lovelace", country="FR")
    )
    spec = parse_spec(
        BillingAccountCreate,
        customer_id=customer.id,
        currency="EUR",
        timezone="Europe/Paris",
        bill_cycle_day=1,
    )
    return create_billing_account(session, clock, spec)


@pytest.fixture
def subscribe(session, clock, account):
    """subscribe("mobile-s", msisdn=..., at=...) → the subscription of a completed one-item order."""
    from telbill.subscriptions import get_subscription, order_items

    def make(offer="mobile-s", *, msisdn=None, at=None, quantity=None, **extra):
        ids = [ServiceIdIn(type="msisdn", value=msisdn)] if msisdn else []
        item = OrderItemCreate(offer_code=offer, service_ids=ids, requested_at=at, quantity=quantity, **extra)
        order = place_order(session, clock, OrderCreate(account=account.id, items=[item]))
        assert order.state == "completed", order.failure_reasons
        return get_subscription(session, order_items(session, order.id)[0].subscription_id)

    return make
