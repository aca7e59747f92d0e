"""Charges whose period does not divide the bill cycle: billed per occurrence, anchored on the
subscription's start (weekly and 10-day fees on a monthly cycle)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.billing.charges import period_at_instant
from telbill.billing.generator import InvoiceInputs, propose
from telbill.billing.occurrences import divides, nth_start, overlapping
from telbill.billing.periods import BillingCycle
from telbill.billing.reconcile import BilledItem
from telbill.catalog.types import Period
from tests.billing.pure_fixtures import account, change, offers, sub, utc

WEEK = Period(unit="weeks", count=1)


def catalog(period: str = "{unit: weeks, count: 1}", timing: str = "in_advance", extra: str = "") -> str:
    return f"""\
catalog: {{name: t, timezone: Europe/Paris}}
products:
  - {{code: mobile, name: Mobile, kind: mobile}}
offers:
  - code: weekly
    name: Weekly
    kind: plan
    products: [mobile]
    {extra or "proration: {basis: actual_days}"}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {{type: recurring, code: fee, period: {period}, timing: {timing}, price: {{EUR: "15.00"}}}}
"""


@cache
def weekly_offers(period: str = "{unit: weeks, count: 1}", timing: str = "in_advance", extra: str = ""):
    return offers(catalog(period, timing, extra))


def test_which_charges_divide_the_cycle():
    monthly, weekly = BillingCycle.monthly(1, date(2027, 1, 1)), BillingCycle("week", 1, 1, date(2027, 1, 4))
    assert not divides(WEEK, monthly) and divides(WEEK, weekly)
    assert divides(Period(unit="years", count=1), monthly)
    assert not divides(Period(unit="months", count=1), weekly)


def test_occurrences_keep_local_midnight_across_dst():
    """Paris, Wednesday 24 Mar 2027 00:00 (23:00 UTC) + 1 week = 31 Mar 00:00 (22:00 UTC, summer time)."""
    start = datetime(2027, 3, 24, tzinfo=ZoneInfo("Europe/Paris"))
    assert nth_start(start, WEEK, "Europe/Paris", 1) == utc(2027, 3, 30, 22)
    months = Period(unit="months", count=1)
    jan31 = utc(2027, 1, 31)
    assert [nth_start(jan31, months, "UTC", k).date() for k in (1, 2)] == [
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


def test_overlapping_lists_the_occurrences_touching_a_range():
    occ = list(overlapping(utc(2027, 1, 13), WEEK, "UTC", utc(2027, 2, 1), utc(2027, 3, 1)))
    assert [o.start.day for o in occ] == [27, 3, 10, 17, 24] and occ[0].index == 2


def test_ten_day_fee_on_a_monthly_cycle():
    """Subscribed 1 Jan 2027 (UTC): 10-day occurrences start 1, 11, 21, 31 Jan, 10, 20 Feb; the
    1 Feb invoice bills them all in advance: 6 × 15.00."""
    s = sub(offer="weekly", start=utc(2027, 1, 1))
    inputs = InvoiceInputs(account(), [(s, [change("activate", utc(2027, 1, 1))])])
    p = propose(inputs, weekly_offers("{unit: days, count: 10}"), utc(2027, 2, 1))
    assert [(i.service_start.day, i.amount) for i in p.items] == [
        (d, Decimal("15.00")) for d in (1, 11, 21, 31, 10, 20)
    ]


def test_in_arrears_bills_occurrences_that_ended_in_the_closed_periods():
    """Weekly in arrears from Wed 13 Jan 2027: on 1 Feb, the occurrences that ended by then are
    13 → 20 and 20 → 27 Jan (27 Jan → 3 Feb has not ended)."""
    s = sub(offer="weekly", start=utc(2027, 1, 13))
    inputs = InvoiceInputs(account(), [(s, [change("activate", utc(2027, 1, 13))])])
    p = propose(inputs, weekly_offers(timing="in_arrears"), utc(2027, 2, 1))
    assert [i.service_end.day for i in p.items] == [20, 27]


def test_cancellation_without_proration_gives_no_credit():
    """`on_change: none`: cancelled on Fri 15 Jan 2027, the occurrence 13 → 20 Jan stays 15.00."""
    s = sub(offer="weekly", start=utc(2027, 1, 13), state="cancelled", end_at=utc(2027, 1, 15))
    history = [change("activate", utc(2027, 1, 13)), change("cancel", utc(2027, 1, 15))]
    inputs = InvoiceInputs(account(), [(s, history)])
    frozen = weekly_offers(extra="proration: {basis: actual_days, on_change: none}")
    assert [i.amount for i in propose(inputs, frozen, utc(2027, 2, 1)).items] == [Decimal("15.00")]
    prorated = propose(inputs, weekly_offers(), utc(2027, 2, 1)).items
    assert [(i.amount, i.kind) for i in prorated] == [(Decimal("4.29"), "proration")]  # 15 × 2/7


def _run_periods(inputs: InvoiceInputs, catalog_offers, first: datetime, n: int) -> list[BilledItem]:
    """Bill `n` consecutive periods from the one containing `first`, each run seeing the lines before."""
    billed: list[BilledItem] = []
    at = period_at_instant(inputs.payer, first).start
    for _ in range(n):
        step = InvoiceInputs(inputs.payer, inputs.subscriptions, billed=tuple(billed))
        for i in propose(step, catalog_offers, at).items:
            billed.append(
                BilledItem(
                    i.key,
                    i.amount,
                    i.account_id,
                    i.subscription_id,
                    i.description,
                    i.service_start,
                    i.service_end,
                )
            )
        at = period_at_instant(inputs.payer, at).end
    return billed


@settings(max_examples=40, deadline=None)
@given(
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    bcd=st.integers(1, 31),
    day=st.integers(0, 120),
    hour=st.integers(0, 23),
    length=st.sampled_from(["{unit: weeks, count: 1}", "{unit: days, count: 10}", "{unit: weeks, count: 2}"]),
    timing=st.sampled_from(["in_advance", "in_arrears"]),
    n=st.integers(2, 7),
)
def test_every_occurrence_is_billed_exactly_once(tz, bcd, day, hour, length, timing, n):
    local = datetime(2027, 1, 1, hour, tzinfo=ZoneInfo(tz)) + timedelta(days=day)
    start = local.astimezone(ZoneInfo("UTC"))
    acc = account(bcd=bcd, tz=tz, anchor=date(2027, 1, 1))
    inputs = InvoiceInputs(acc, [(sub(offer="weekly", start=start), [change("activate", start)])])
    billed = _run_periods(inputs, weekly_offers(length, timing), start, n)
    keys = [b.key for b in billed]
    assert len(keys) == len(set(keys)) and all(b.amount == Decimal("15.00") for b in billed)
    first = period_at_instant(acc, start)
    last_end = first.end
    for _ in range(n - 1):
        last_end = period_at_instant(acc, last_end).end
    closed_end = period_at_instant(acc, last_end - timedelta(microseconds=1)).start
    charge = weekly_offers(length, timing)["weekly"].versions[0].recurring_charges()[0].period
    expected = [
        o.start
        for o in overlapping(start, charge, tz, start, last_end)
        if (o.start < last_end if timing == "in_advance" else o.end <= closed_end)
    ]
    assert sorted(b.service_start for b in billed) == expected
