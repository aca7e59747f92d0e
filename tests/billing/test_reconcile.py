"""Reconciliation: proposed against billed; re-running proposes nothing new."""

from __future__ import annotations

from decimal import Decimal

from telbill.billing.generator import InvoiceInputs, propose
from telbill.billing.reconcile import BilledItem
from tests.billing.pure_fixtures import account, change, offers, sub, utc

OFFERS = offers()


def billed_from(*proposals):
    return [
        BilledItem(
            i.key, i.amount, i.account_id, i.subscription_id, i.description, i.service_start, i.service_end
        )
        for p in proposals
        for i in p.items
    ]


def test_rerun_proposes_nothing():
    s = sub(start=utc(2027, 1, 1))
    inputs = InvoiceInputs(account(), [(s, [change("activate", utc(2027, 1, 1))])])
    first = propose(inputs, OFFERS, utc(2027, 2, 1))
    again = propose(
        InvoiceInputs(account(), inputs.subscriptions, billed=billed_from(first)), OFFERS, utc(2027, 2, 1)
    )
    assert first.items and again.items == ()


def test_upgrade_in_advance_credits_unused_time_and_charges_the_rest():
    """Feb 2027 billed 29.99 in advance; upgrade to Premium on 15 Feb. March invoice:
    basic used 14/28 → 15.00 (credit 29.99 − 15.00 = −14.99), premium 14/28 × 49.99 → 25.00,
    March premium 49.99."""
    s0 = sub(start=utc(2027, 2, 1))
    feb = propose(
        InvoiceInputs(account(), [(s0, [change("activate", utc(2027, 2, 1))])]), OFFERS, utc(2027, 2, 1)
    )
    history = [
        change("activate", utc(2027, 2, 1)),
        change(
            "plan_change",
            utc(2027, 2, 15),
            from_offer="basic",
            from_version=1,
            to_offer="premium",
            to_version=1,
        ),
    ]
    s1 = sub(offer="premium", start=utc(2027, 2, 1))
    march = propose(
        InvoiceInputs(account(), [(s1, history)], billed=billed_from(feb)), OFFERS, utc(2027, 3, 1)
    )
    got = sorted((i.offer_code, i.amount) for i in march.items)
    assert got == [("basic", Decimal("-14.99")), ("premium", Decimal("25.00")), ("premium", Decimal("49.99"))]


def test_backdated_cancellation_before_a_paid_period_reverses_it():
    s0 = sub(start=utc(2027, 1, 1))
    act = [change("activate", utc(2027, 1, 1))]
    feb = propose(InvoiceInputs(account(), [(s0, act)]), OFFERS, utc(2027, 2, 1))
    jan = propose(InvoiceInputs(account(), [(s0, act)]), OFFERS, utc(2027, 1, 1))
    cancelled = [*act, change("cancel", utc(2027, 1, 31))]
    s1 = sub(start=utc(2027, 1, 1), state="cancelled")
    billed = billed_from(jan) + [
        b for b in billed_from(feb) if b.key not in {x.key for x in billed_from(jan)}
    ]
    march = propose(InvoiceInputs(account(), [(s1, cancelled)], billed=billed), OFFERS, utc(2027, 3, 1))
    # January: used 30/31 → 29.02, credit −0.97; February: fully reversed −29.99
    assert sorted(i.amount for i in march.items) == [Decimal("-29.99"), Decimal("-0.97")]
