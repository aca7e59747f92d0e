from datetime import timedelta

from telbill.events.service import events_for
from telbill.subscriptions import (
    OrderCreate,
    OrderItemCreate,
    ServiceIdIn,
    get_subscription,
    list_subscriptions,
    order_items,
    place_order,
)
from telbill.subscriptions.service import history

from .conftest import T0


def _order(account, *items, **kw):
    return OrderCreate(account=account.id, items=list(items), **kw)


def test_order_creates_an_active_subscription_with_its_msisdn(session, clock, account):
    item = OrderItemCreate(
        offer_code="mobile-s", service_ids=[ServiceIdIn(type="msisdn", value="0033612345678")]
    )
    order = place_order(session, clock, _order(account, item))
    assert order.state == "completed" and order.completed_at == T0
    sub = get_subscription(session, order_items(session, order.id)[0].subscription_id)
    assert (sub.state, sub.phase, sub.offer_version, sub.activated_at) == ("active", "evergreen", 1, T0)
    types = [e.event_type for e in events_for(session, "subscription", sub.id)]
    assert types == ["Subscription.created", "Subscription.activated"]
    states = [e.payload["state"] for e in events_for(session, "productOrder", order.id)]
    assert states == ["inProgress", "completed"]
    assert events_for(session, "subscription", sub.id)[1].payload["service_ids"] == [
        {"type": "msisdn", "value": "+33612345678"}
    ]


def test_order_fails_whole_with_every_reason_and_applies_nothing(session, clock, account, subscribe):
    subscribe(msisdn="+33600000001")
    before = len(list_subscriptions(session))
    order = place_order(
        session,
        clock,
        _order(
            account,
            OrderItemCreate(offer_code="mobile-s"),  # valid on its own
            OrderItemCreate(offer_code="nope"),
            OrderItemCreate(offer_code="us-plan"),
            OrderItemCreate(
                offer_code="mobile-s", service_ids=[ServiceIdIn(type="msisdn", value="+33600000001")]
            ),
            OrderItemCreate(offer_code="mobile-s", requested_at=T0 - timedelta(days=400)),
        ),
    )
    assert order.state == "failed"
    reasons = "\n".join(order.failure_reasons)
    assert "item 1: unknown offer 'nope'" in reasons
    assert "item 2: offer 'us-plan' is not priced in EUR" in reasons
    assert "item 3: msisdn +33600000001 is held by subscription" in reasons
    assert "item 4:" in reasons and "more than 90 days in the past" in reasons
    assert len(list_subscriptions(session)) == before
    assert [e.payload["state"] for e in events_for(session, "productOrder", order.id)] == ["failed"]


def test_unknown_account_fails_the_order(session, clock, catalog):
    order = place_order(
        session, clock, OrderCreate(account="ACC-999999", items=[OrderItemCreate(offer_code="mobile-s")])
    )
    assert order.state == "failed" and "ACC-999999 does not exist" in order.failure_reasons[0]


def test_duplicate_msisdn_inside_one_order_is_refused(session, clock, account):
    ids = [ServiceIdIn(type="msisdn", value="+33600000002")]
    order = place_order(
        session,
        clock,
        _order(
            account,
            OrderItemCreate(offer_code="mobile-s", service_ids=ids),
            OrderItemCreate(offer_code="mobile-s", service_ids=ids),
        ),
    )
    assert order.state == "failed" and "also in item 0" in order.failure_reasons[0]


def test_addon_attaches_to_its_plan_in_the_same_order_and_checks_compatibility(session, clock, account):
    ok = place_order(
        session,
        clock,
        _order(
            account,
            OrderItemCreate(offer_code="mobile-s"),
            OrderItemCreate(offer_code="roaming", parent_item=0),
        ),
    )
    assert ok.state == "completed"
    plan_id, addon_id = (i.subscription_id for i in order_items(session, ok.id))
    assert get_subscription(session, addon_id).parent_id == plan_id
    bad = place_order(
        session,
        clock,
        _order(
            account,
            OrderItemCreate(offer_code="mobile-l"),
            OrderItemCreate(offer_code="roaming", parent_item=0),
        ),
    )
    assert bad.state == "failed" and "not compatible with mobile-l" in bad.failure_reasons[0]


def test_future_start_is_pending_until_the_clock_reaches_it(session, clock, subscribe):
    from telbill.scheduler import advance

    start = T0 + timedelta(days=5)
    sub = subscribe("mobile-s", at=start)
    assert sub.state == "pending"
    advance(session, clock, T0 + timedelta(days=10))
    assert sub.state == "active" and sub.activated_at == start
    assert [(c.kind, c.status, c.effective_at) for c in history(session, sub.id)] == [
        ("activate", "applied", start)
    ]


def test_modify_and_delete_items_change_existing_subscriptions(session, clock, account, subscribe):
    sub = subscribe("mobile-s")
    order = place_order(
        session, clock, _order(account, OrderItemCreate(action="modify", subscription_id=sub.id, quantity=3))
    )
    assert order.state == "completed" and sub.quantity == 3
    order = place_order(
        session, clock, _order(account, OrderItemCreate(action="delete", subscription_id=sub.id))
    )
    assert order.state == "completed"
    pending = [c for c in history(session, sub.id) if c.status == "pending"]
    assert [c.kind for c in pending] == ["cancel"]  # mobile-s cancels at the end of the period
