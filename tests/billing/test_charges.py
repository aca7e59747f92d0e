"""Charge rules: windows, recurring in advance, leading proration, one-time, trial, frozen terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from telbill.billing.charges import AccountBilling, CycleRegime, window_for
from telbill.billing.generator import InvoiceInputs, propose
from telbill.billing.periods import BillingCycle
from tests.billing.pure_fixtures import account, change, offers, sub, utc

OFFERS = offers()


def amounts(proposal):
    return [(i.charge_code, i.amount) for i in proposal.items]


def test_window_is_the_current_period_and_three_before():
    w = window_for(account(bcd=31, anchor=date(2027, 1, 1)), utc(2027, 3, 31))
    assert [p.start.date().isoformat() for p in w.periods] == [
        "2026-12-31",
        "2027-01-31",
        "2027-02-28",
        "2027-03-31",
    ]


def test_first_invoice_charges_the_leading_part_and_the_current_period():
    """Subscribed 15 Feb 2027 (UTC): leading 14/28 × 29.99 = 14.995 → 15.00, activation 10.00,
    then March in advance 29.99."""
    s = sub(start=utc(2027, 2, 15))
    p = propose(
        InvoiceInputs(account(), [(s, [change("activate", utc(2027, 2, 15))])]), OFFERS, utc(2027, 3, 1)
    )
    assert sorted(amounts(p)) == [
        ("fee", Decimal("15.00")),
        ("fee", Decimal("29.99")),
        ("sim", Decimal("10.00")),
    ]


def test_trial_is_free_then_prorated():
    """Trial 10 → 24 Feb 2027, free; paid from 24 Feb: 5/28 × 29.99 = 5.355 → 5.36; March 29.99."""
    s = sub(start=utc(2027, 2, 10), trial_end=utc(2027, 2, 24))
    p = propose(
        InvoiceInputs(account(), [(s, [change("activate", utc(2027, 2, 10))])]), OFFERS, utc(2027, 3, 1)
    )
    fees = sorted(i.amount for i in p.items if i.charge_code == "fee")
    assert fees == [Decimal("5.36"), Decimal("29.99")]


def test_frozen_terms_ignore_a_cancellation_inside_the_period():
    s = sub(offer="frozen", start=utc(2027, 1, 1), state="cancelled")
    history = [change("activate", utc(2027, 1, 1)), change("cancel", utc(2027, 2, 20))]
    p = propose(InvoiceInputs(account(), [(s, history)]), OFFERS, utc(2027, 2, 1))
    assert amounts(p) == [("fee", Decimal("29.99")), ("fee", Decimal("29.99"))]


def test_cycle_change_transition_is_a_short_prorated_period():
    """BCD 1 → 15 from 1 Mar 2027 (UTC): the transition 1 → 15 Mar is 14/28 of the new cycle's
    period 15 Feb → 15 Mar → 15.00."""
    regimes = (
        CycleRegime(None, BillingCycle.monthly(1, date(2027, 1, 1))),
        CycleRegime(utc(2027, 3, 1), BillingCycle.monthly(15, date(2027, 3, 1))),
    )
    acc = AccountBilling(1, "ACC-1", "EUR", "UTC", regimes)
    s = sub(start=utc(2027, 3, 1))
    p = propose(InvoiceInputs(acc, [(s, [change("activate", utc(2027, 3, 1))])]), OFFERS, utc(2027, 3, 1))
    assert p.window.current.start == utc(2027, 3, 1) and p.window.current.end == utc(2027, 3, 15)
    assert [i.amount for i in p.items if i.charge_code == "fee"] == [Decimal("15.00")]


def test_price_update_reaches_the_subscription_after_notice():
    text = OFFERS_TEXT_WITH_V2
    s = sub(start=utc(2027, 1, 1))
    p = propose(
        InvoiceInputs(account(), [(s, [change("activate", utc(2027, 1, 1))])]), offers(text), utc(2027, 3, 1)
    )
    march = [i for i in p.items if i.service_start == utc(2027, 3, 1)]
    assert [(i.amount, i.description) for i in march] == [(Decimal("34.99"), "Basic — fee v2")]


OFFERS_TEXT_WITH_V2 = """\
catalog: {name: t, timezone: UTC}
products:
  - {code: mobile, name: Mobile, kind: mobile}
offers:
  - code: basic
    name: Basic
    kind: plan
    products: [mobile]
    price_update: {policy: notice, notice_days: 30}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {type: recurring, code: fee, price: {EUR: "29.99"}}
      - effective_from: 2027-01-20
        charges:
          - {type: recurring, code: fee, price: {EUR: "34.99"}}
"""
