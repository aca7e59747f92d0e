"""A small catalog with a bundle, accounts made to order, and a test clock."""

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
from telbill.promotions import CouponCreate, create_coupon, parse
from telbill.subscriptions import OrderCreate, OrderItemCreate, get_subscription, order_items, place_order

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)

CATALOG = """\
catalog: {name: promotions-tests, timezone: Europe/Paris}
products:
  - {code: mobile, name: Mobile, kind: mobile}
  - {code: fibre, name: Fibre, kind: fixed_broadband}
offers:
  - code: mobile-20gb
    name: Mobile 20 GB
    kind: plan
    products: [mobile]
    versions:
      - effective_from: 2025-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "20.00", GBP: "18.00"}}]
  - code: fibre-1g
    name: Fibre 1 Gb/s
    kind: plan
    products: [fibre]
    versions:
      - effective_from: 2025-01-01
        charges: [{type: recurring, code: fee, price: {EUR: "30.00", GBP: "27.00"}}]
  - code: duo
    name: Duo mobile + fibre
    kind: bundle
    components: [mobile-20gb, fibre-1g]
    versions:
      - effective_from: 2025-01-01
        bundle_price: {mode: discount, percent: "15"}
  - code: duo-fixed
    name: Duo, fixed reduction
    kind: bundle
    components: [mobile-20gb, fibre-1g]
    versions:
      - effective_from: 2025-01-01
        bundle_price: {mode: discount, amount: {EUR: "5.00"}}
"""


@pytest.fixture
def clock():
    return TestClock(T0)


@pytest.fixture
def catalog(session, clock):
    load_catalog(session, clock, parse_catalog_text(CATALOG))


@pytest.fixture
def make_account(session, clock, catalog):
    """make_account(country="FR", segment="consumer", currency="EUR") → a new customer's account."""

    def make(country="FR", segment="consumer", currency="EUR", *, customer=None, **fields):
        if customer is None:
            kind = "person" if segment == "consumer" else "company"
            spec = parse_spec(CustomerCreate, kind=kind, name="Client", country=country, segment=segment)
            customer = create_customer(session, clock, spec)
        account = parse_spec(
            BillingAccountCreate,
            customer_id=customer.id,
            currency=currency,
            timezone="Europe/Paris",
            **fields,
        )
        return create_billing_account(session, clock, account)

    return make


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def subscribe(session, clock):
    """subscribe(account, "mobile-20gb", at=...) → the subscription of a completed order."""

    def make(account, offer="mobile-20gb", *, at=None):
        item = OrderItemCreate(offer_code=offer, requested_at=at)
        order = place_order(session, clock, OrderCreate(account=account.id, items=[item]))
        assert order.state == "completed", order.failure_reasons
        return get_subscription(session, order_items(session, order.id)[0].subscription_id)

    return make


@pytest.fixture
def coupon(session, clock):
    """coupon(code="WELCOME3", percent="20", ...) → a stored coupon (20 % once on the invoice by default)."""

    def make(code="WELCOME", **fields):
        fields.setdefault("name", f"{code} offer")
        if "amounts" not in fields:
            fields.setdefault("kind", "percentage")
            fields.setdefault("percent", "20")
        else:
            fields.setdefault("kind", "amount")
        return create_coupon(session, clock, parse(CouponCreate, code=code, **fields))

    return make
