"""Subscription history → billing events → segments."""

from __future__ import annotations

from telbill.billing.events import Status, billing_events, timeline
from tests.billing.pure_fixtures import change, sub, utc


def test_plain_subscription_is_one_open_segment():
    s = sub(start=utc(2027, 1, 10))
    (seg,) = timeline(s, [change("activate", utc(2027, 1, 10))])
    assert (seg.start, seg.end, seg.status, seg.offer_code) == (
        utc(2027, 1, 10),
        None,
        Status.ACTIVE,
        "basic",
    )


def test_trial_then_active_from_the_trial_end():
    s = sub(start=utc(2027, 1, 10), trial_end=utc(2027, 1, 24), state="trial")
    segs = timeline(s, [change("activate", utc(2027, 1, 10))])
    assert [(x.status, x.start) for x in segs] == [
        (Status.TRIAL, utc(2027, 1, 10)),
        (Status.ACTIVE, utc(2027, 1, 24)),
    ]


def test_plan_change_rebuilds_the_offer_before_it():
    s = sub(offer="premium", start=utc(2027, 1, 1))
    history = [
        change("activate", utc(2027, 1, 1)),
        change(
            "plan_change",
            utc(2027, 2, 15),
            from_offer="basic",
            from_version=1,
            to_offer="premium",
            to_version=1,
        ),
    ]
    segs = timeline(s, history)
    assert [(x.offer_code, x.start, x.end) for x in segs] == [
        ("basic", utc(2027, 1, 1), utc(2027, 2, 15)),
        ("premium", utc(2027, 2, 15), None),
    ]


def test_suspend_resume_cancel_and_cancelled_changes_ignored():
    s = sub(quantity=5, state="cancelled")
    history = [
        change("activate", utc(2027, 1, 1)),
        change("quantity_change", utc(2027, 1, 5), from_quantity=3, to_quantity=5),
        change("suspend", utc(2027, 1, 8)),
        change("resume", utc(2027, 1, 22)),
        change(
            "plan_change",
            utc(2027, 1, 25),
            "cancelled",
            from_offer="basic",
            from_version=1,
            to_offer="x",
            to_version=1,
        ),
        change("cancel", utc(2027, 2, 20)),
        change("resume", utc(2027, 3, 1)),
    ]
    segs = timeline(s, history)
    assert [(x.status, x.quantity, x.start, x.end) for x in segs] == [
        (Status.ACTIVE, 3, utc(2027, 1, 1), utc(2027, 1, 5)),
        (Status.ACTIVE, 5, utc(2027, 1, 5), utc(2027, 1, 8)),
        (Status.SUSPENDED, 5, utc(2027, 1, 8), utc(2027, 1, 22)),
        (Status.ACTIVE, 5, utc(2027, 1, 22), utc(2027, 2, 20)),
    ]
    assert billing_events(s, history)[-1].status is Status.ENDED


def test_pending_subscription_without_activation_has_no_events():
    assert timeline(sub(state="pending"), []) == ()
