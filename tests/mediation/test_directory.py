"""Service-id intervals cached between HTTP requests: reused while the directory is unchanged,
reloaded as soon as an identifier is added or closed."""

from __future__ import annotations

from datetime import UTC, datetime

from telbill.accounts import (
    BillingAccountCreate,
    CustomerCreate,
    create_billing_account,
    create_customer,
    parse_spec,
)
from telbill.catalog import load_catalog, parse_catalog_text
from telbill.db.engine import make_sessionmaker, session_scope
from telbill.mediation import repository as repo
from telbill.mediation.directory import IntervalCache
from telbill.subscriptions import (
    OrderCreate,
    OrderItemCreate,
    ServiceIdIn,
    assign_service_id,
    order_items,
    place_order,
    release_service_id,
)

from ..subscriptions.conftest import CATALOG
from .test_api import BASE, _auth, _usage

SINCE = datetime(2026, 1, 5, tzinfo=UTC)


def _subscriber(session, clock, msisdn: str) -> int:
    """A subscription holding `msisdn` since SINCE (the catalog is loaded already)."""
    customer = create_customer(
        session, clock, parse_spec(CustomerCreate, kind="person", name="Ada", country="FR")
    )
    spec = parse_spec(
        BillingAccountCreate,
        customer_id=customer.id,
        currency="EUR",
        timezone="Europe/Paris",
        bill_cycle_day=1,
    )
    account = create_billing_account(session, clock, spec)
    ids = [ServiceIdIn(type="msisdn", value=msisdn)]
    item = OrderItemCreate(offer_code="mobile-s", service_ids=ids, requested_at=SINCE)
    order = place_order(session, clock, OrderCreate(account=account.id, items=[item]))
    assert order.state == "completed", order.failure_reasons
    return order_items(session, order.id)[0].subscription_id


def test_the_cache_reloads_when_an_identifier_is_added_or_closed(session, clock):
    load_catalog(session, clock, parse_catalog_text(CATALOG))
    cache = IntervalCache()
    assert cache.intervals(session).is_empty() and cache.loads == 1
    assert cache.intervals(session).is_empty() and cache.loads == 1  # unchanged: not read again
    sub = _subscriber(session, clock, "+33612345678")
    got = cache.intervals(session)
    assert cache.loads == 2
    assert got.select("id_type", "value", "subscription_id", "valid_to").rows() == [
        ("msisdn", "33612345678", sub, None)
    ]
    cache.intervals(session)
    assert cache.loads == 2
    assign_service_id(session, clock, sub, "imsi", "208011234567890")
    assert cache.intervals(session).height == 2 and cache.loads == 3
    release_service_id(session, clock, sub, "msisdn", "+33612345678")
    closed = cache.intervals(session).filter(id_type="msisdn")
    assert cache.loads == 4
    assert closed["valid_to"].to_list() == [clock.now()]


def test_a_subscriber_created_after_the_cache_was_filled_is_guided(api_env, client):
    writer = _auth(api_env["writer"])
    first = client.post(f"{BASE}/usage", json=[_usage("u1")], headers=writer)
    assert [r.get("reason") for r in first.json()["results"]] == ["UNKNOWN_SUBSCRIBER"]
    with session_scope(make_sessionmaker(api_env["engine"])) as session:
        load_catalog(session, api_env["clock"], parse_catalog_text(CATALOG))
        sub = _subscriber(session, api_env["clock"], "+33612345678")
    second = client.post(f"{BASE}/usage", json=[_usage("u2")], headers=writer)
    assert second.status_code == 201, second.text
    [result] = second.json()["results"]
    assert result["result"] == "accepted"
    with session_scope(make_sessionmaker(api_env["engine"])) as session:
        assert repo.usage_by_record(session, "tmf635", "u2").subscription_id == sub
    client.post(f"{BASE}/usage", json=[_usage("u3")], headers=writer)
    assert api_env["app"].state.mediation_intervals.loads == 2  # read again once, after the change
