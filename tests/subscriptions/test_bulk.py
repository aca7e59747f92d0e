from datetime import timedelta

from telbill.events.service import events_for
from telbill.scheduler import advance
from telbill.subscriptions import (
    ServiceIdIn,
    SubscriptionSpec,
    bulk_create_subscriptions,
    get_subscription,
    service_id_intervals,
)

from .conftest import T0


def _spec(account, offer="mobile-s", msisdn=None, start=T0):
    ids = [ServiceIdIn(type="msisdn", value=msisdn)] if msisdn else []
    return SubscriptionSpec(account_id=account.id, offer_code=offer, start_at=start, service_ids=ids)


def test_bulk_creates_valid_specs_with_events_and_rejects_the_rest(session, clock, account, subscribe):
    subscribe(msisdn="+33600000100")
    specs = [_spec(account, msisdn=f"+336000002{i:02d}") for i in range(20)]
    specs += [
        _spec(account, offer="us-plan"),
        _spec(account, msisdn="+33600000100"),  # held already
        _spec(account, msisdn="+33600000200"),  # twice in the batch
        _spec(account, offer="mobile-trial", start=T0 - timedelta(days=1)),
        _spec(account, start=T0 + timedelta(days=2)),
    ]
    ids, rejects = bulk_create_subscriptions(session, clock, specs)
    assert len(ids) == 22
    assert [i for i, _ in rejects] == [20, 21, 22]
    assert "held by subscription" in rejects[1][1] and "already in this batch" in rejects[2][1]
    trial, future = get_subscription(session, ids[-2]), get_subscription(session, ids[-1])
    assert (trial.state, trial.trial_end) == ("trial", T0 + timedelta(days=13))
    assert future.state == "pending"
    assert [e.event_type for e in events_for(session, "subscription", ids[0])] == [
        "Subscription.created",
        "Subscription.activated",
    ]
    assert len([i for i in service_id_intervals(session, "msisdn") if i.subscription_id in ids]) == 20
    advance(session, clock, T0 + timedelta(days=14))
    session.expire_all()
    assert get_subscription(session, ids[-1]).state == "active"
    assert get_subscription(session, ids[-2]).state == "active"
