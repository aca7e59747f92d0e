"""Charges billed per occurrence through trials, suspensions and plan or quantity changes.

Account in UTC, BCD 1; offer "weekly" charges 15.00 a week in advance, "plus" 22.00 a week, both
on actual days. Subscribed Wednesday 13 January 2027 at 00:00 UTC, so occurrences start every
Wednesday: 13, 20, 27 Jan, 3, 10, 17, 24 Feb, 3, 10, 17, 24, 31 Mar. An occurrence is billed per
active piece, its share the piece's days over the occurrence's 7.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from telbill.billing.charges import period_at_instant, window_for
from telbill.billing.events import LIVE, Status, timeline
from telbill.billing.generator import InvoiceInputs, expected_items, propose
from telbill.billing.occurrences import overlapping
from telbill.billing.reconcile import BilledItem
from telbill.catalog.types import Period
from tests.billing.pure_fixtures import account, change, offers, sub, utc

FIFTEEN, TWENTY_TWO = Decimal("15.00"), Decimal("22.00")
WED_13_JAN = utc(2027, 1, 13)


def catalog(
    policy: str = "immediate", period: str = "{unit: weeks, count: 1}", timing: str = "in_advance"
) -> str:
    plan_change, on_change = {
        "immediate": ("immediate", "credit_and_charge"),
        "end_of_period": ("end_of_period", "credit_and_charge"),
        "none": ("immediate", "none"),
    }[policy]
    terms = f"plan_change: {plan_change}\n    proration: {{basis: actual_days, on_change: {on_change}}}"
    offer = """\
  - code: {code}
    name: {name}
    kind: plan
    products: [mobile]
    {terms}
    versions:
      - effective_from: 2026-01-01
        charges:
          - {{type: recurring, code: fee, period: {period}, timing: {timing}, price: {{EUR: "{price}"}}}}
"""
    return (
        "catalog: {name: t, timezone: UTC}\n"
        "products:\n  - {code: mobile, name: Mobile, kind: mobile}\noffers:\n"
        + offer.format(code="weekly", name="Weekly", terms=terms, period=period, timing=timing, price="15.00")
        + offer.format(code="plus", name="Plus", terms=terms, period=period, timing=timing, price="22.00")
    )


@cache
def weekly(policy: str = "immediate", period: str = "{unit: weeks, count: 1}", timing: str = "in_advance"):
    return offers(catalog(policy, period, timing))


def _items(inputs: InvoiceInputs, at: datetime, policy: str = "immediate") -> list[tuple[int, int, Decimal]]:
    return [
        (i.service_start.month, i.service_start.day, i.amount)
        for i in propose(inputs, weekly(policy), at).items
    ]


def _billed(items) -> list[BilledItem]:
    return [
        BilledItem(
            i.key, i.amount, i.account_id, i.subscription_id, i.description, i.service_start, i.service_end
        )
        for i in items
    ]


def test_an_occurrence_starting_in_a_trial_bills_the_part_after_it():
    """Trial until Saturday 23 Jan: 13 → 20 Jan is all trial (nothing); 20 → 27 Jan bills 23 → 27,
    4/7 × 15.00 = 8.5714… → 8.57; then 27 Jan and the four February occurrences in full:
    8.57 + 5 × 15.00 = 83.57 on the 1 Feb invoice."""
    s = sub(offer="weekly", start=WED_13_JAN, trial_end=utc(2027, 1, 23))
    inputs = InvoiceInputs(account(), [(s, [change("activate", WED_13_JAN)])])
    items = _items(inputs, utc(2027, 2, 1))
    assert items == [(1, 23, Decimal("8.57")), (1, 27, FIFTEEN)] + [(2, d, FIFTEEN) for d in (3, 10, 17, 24)]
    assert sum(a for *_, a in items) == Decimal("83.57")


def test_an_occurrence_starting_suspended_bills_the_part_after_the_resumption():
    """Suspended Monday 18 → Friday 22 Jan: 13 → 20 Jan bills 13 → 18, 5/7 × 15.00 = 10.71;
    20 → 27 Jan bills 22 → 27, 5/7 → 10.71; suspended for good from 27 Jan: nothing after."""
    s = sub(offer="weekly", start=WED_13_JAN)
    history = [
        change("activate", WED_13_JAN),
        change("suspend", utc(2027, 1, 18)),
        change("resume", utc(2027, 1, 22)),
        change("suspend", utc(2027, 1, 27)),
    ]
    inputs = InvoiceInputs(account(), [(s, history)])
    assert _items(inputs, utc(2027, 2, 1)) == [(1, 13, Decimal("10.71")), (1, 22, Decimal("10.71"))]


def _upgraded(kind: str, at: datetime, **payload):
    s = sub(offer="weekly", start=WED_13_JAN)
    history = [change("activate", WED_13_JAN), change(kind, at, **payload)]
    feb = InvoiceInputs(account(), [(s, history[:1])])
    billed = _billed(propose(feb, weekly(), utc(2027, 2, 1)).items)
    return s, history, billed


def test_immediate_plan_change_credits_the_unused_part_and_charges_the_rest():
    """Weekly → Plus (22.00) on Friday 12 Feb, immediate with credit and charge. The 1 Feb invoice
    billed the February occurrences at 15.00. On 1 Mar: 10 → 17 Feb owes 2/7 × 15.00 = 4.29 (billed
    15.00 → −10.71) and 5/7 × 22.00 = 15.71 on Plus; 17 and 24 Feb are Plus's now: −15.00 and
    +22.00 each; March in advance, five Plus occurrences: 110.00. Net 129.00."""
    plan = {"from_offer": "weekly", "from_version": 1, "to_offer": "plus", "to_version": 1}
    s, history, billed = _upgraded("plan_change", utc(2027, 2, 12), **plan)
    march = propose(InvoiceInputs(account(), [(s, history)], billed=billed), weekly(), utc(2027, 3, 1)).items
    assert sorted((i.service_start.month, i.service_start.day, i.offer_code, i.amount) for i in march) == [
        (2, 10, "weekly", Decimal("-10.71")),
        (2, 12, "plus", Decimal("15.71")),
        (2, 17, "plus", TWENTY_TWO),
        (2, 17, "weekly", -FIFTEEN),
        (2, 24, "plus", TWENTY_TWO),
        (2, 24, "weekly", -FIFTEEN),
    ] + [(3, d, "plus", TWENTY_TWO) for d in (3, 10, 17, 24, 31)]
    assert sum(i.amount for i in march) == Decimal("129.00")


def test_quantity_change_inside_an_occurrence_is_prorated():
    """1 → 3 lines on Friday 12 Feb: 10 → 17 Feb owes 2/7 × 15.00 + 5/7 × 45.00 = 4.29 + 32.14 =
    36.43 against 15.00 billed → +21.43; 17 and 24 Feb +30.00 each; March 5 × 45.00 = 225.00."""
    s, history, billed = _upgraded("quantity_change", utc(2027, 2, 12), from_quantity=1, to_quantity=3)
    s = sub(offer="weekly", start=WED_13_JAN, quantity=3)
    march = propose(InvoiceInputs(account(), [(s, history)], billed=billed), weekly(), utc(2027, 3, 1)).items
    amounts = sorted((i.service_start.month, i.service_start.day, i.amount) for i in march)
    assert amounts == [(2, 10, Decimal("21.43")), (2, 17, Decimal("30.00")), (2, 24, Decimal("30.00"))] + [
        (3, d, Decimal("225.00") / 5) for d in (3, 10, 17, 24, 31)
    ]


def test_without_proration_the_running_occurrence_keeps_its_terms():
    """`on_change: none`, Weekly → Plus on Friday 12 Feb: 10 → 17 Feb stays 15.00 on Weekly (no
    repair); Plus counts from the next occurrence: 17 and 24 Feb −15.00 / +22.00, March 110.00."""
    plan = {"from_offer": "weekly", "from_version": 1, "to_offer": "plus", "to_version": 1}
    s = sub(offer="weekly", start=WED_13_JAN)
    history = [change("activate", WED_13_JAN), change("plan_change", utc(2027, 2, 12), **plan)]
    billed = _billed(
        propose(InvoiceInputs(account(), [(s, history[:1])]), weekly("none"), utc(2027, 2, 1)).items
    )
    march = propose(
        InvoiceInputs(account(), [(s, history)], billed=billed), weekly("none"), utc(2027, 3, 1)
    ).items
    assert sorted(
        (i.service_start.day, i.offer_code, i.amount) for i in march if i.service_start.month == 2
    ) == [
        (17, "plus", TWENTY_TWO),
        (17, "weekly", -FIFTEEN),
        (24, "plus", TWENTY_TWO),
        (24, "weekly", -FIFTEEN),
    ]
    assert sum(i.amount for i in march) == Decimal("124.00")


def test_end_of_term_change_at_the_boundary_lets_the_running_occurrence_finish():
    """`plan_change: end_of_period`: Weekly → Plus applied at the 1 Mar boundary (a Monday), inside
    the occurrence 24 Feb → 3 Mar. That occurrence finishes on Weekly (15.00, billed on 1 Feb, no
    repair); Plus starts with the occurrence of 3 Mar: the 1 Mar invoice is 5 × 22.00 = 110.00."""
    plan = {"from_offer": "weekly", "from_version": 1, "to_offer": "plus", "to_version": 1}
    s = sub(offer="weekly", start=WED_13_JAN)
    history = [change("activate", WED_13_JAN), change("plan_change", utc(2027, 3, 1), **plan)]
    eot = weekly("end_of_period")
    billed = _billed(propose(InvoiceInputs(account(), [(s, history)]), eot, utc(2027, 2, 1)).items)
    assert [b.amount for b in billed] == [FIFTEEN] * 7
    march = propose(InvoiceInputs(account(), [(s, history)], billed=billed), eot, utc(2027, 3, 1)).items
    assert [(i.service_start.day, i.offer_code, i.amount) for i in march] == [
        (d, "plus", TWENTY_TWO) for d in (3, 10, 17, 24, 31)
    ]


def test_a_cancelled_occurrence_in_arrears_is_billed_for_its_used_days_when_it_ends():
    """In arrears, cancelled Friday 15 Jan: 13 → 15 Jan, 2/7 × 15.00 = 4.29, on the 1 Feb invoice."""
    s = sub(offer="weekly", start=WED_13_JAN, state="cancelled", end_at=utc(2027, 1, 15))
    history = [change("activate", WED_13_JAN), change("cancel", utc(2027, 1, 15))]
    inputs = InvoiceInputs(account(), [(s, history)])
    assert _items(inputs, utc(2027, 2, 1), "immediate") == [(1, 13, Decimal("4.29"))]
    arrears = propose(inputs, weekly(timing="in_arrears"), utc(2027, 2, 1)).items
    assert [(i.service_start.day, i.service_end.day, i.amount) for i in arrears] == [
        (13, 15, Decimal("4.29"))
    ]


# every instant of service is billed exactly once --------------------------------------------------


def _run(inputs: InvoiceInputs, catalog_offers, first: datetime, n: int) -> tuple[list[BilledItem], datetime]:
    """Bill `n` consecutive periods from the one containing `first`: the lines, the last run's instant."""
    billed: list[BilledItem] = []
    at = period_at_instant(inputs.payer, first).start
    last = at
    for _ in range(n):
        step = InvoiceInputs(inputs.payer, inputs.subscriptions, billed=tuple(billed))
        billed += _billed(propose(step, catalog_offers, at).items)
        last, at = at, period_at_instant(inputs.payer, at).end
    return billed, last


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    bcd=st.integers(1, 31),
    day=st.integers(0, 60),
    hour=st.integers(0, 23),
    length=st.sampled_from(["{unit: weeks, count: 1}", "{unit: days, count: 10}"]),
    timing=st.sampled_from(["in_advance", "in_arrears"]),
    policy=st.sampled_from(["immediate", "end_of_period", "none"]),
    trial_days=st.sampled_from([0, 3, 10]),
    suspension=st.one_of(st.none(), st.tuples(st.integers(1, 50), st.integers(1, 20))),
    plan_change=st.one_of(st.none(), st.integers(1, 80)),
    n=st.integers(2, 5),
)
def test_every_instant_of_service_is_billed_exactly_once(
    tz, bcd, day, hour, length, timing, policy, trial_days, suspension, plan_change, n
):
    """Whatever the trial, suspension and plan change: the occurrences due by the last run are
    covered by their items exactly on their active time (no gap, no overlap), each key's billed
    total is what it owes, and a re-run proposes nothing."""
    zone = ZoneInfo(tz)
    start = (datetime(2027, 1, 1, hour, tzinfo=zone) + timedelta(days=day)).astimezone(ZoneInfo("UTC"))
    history = [change("activate", start)]
    if suspension:
        history += [
            change("suspend", start + timedelta(days=suspension[0], hours=5)),
            change("resume", start + timedelta(days=suspension[0] + suspension[1], hours=5)),
        ]
    if plan_change:
        plan = {"from_offer": "weekly", "from_version": 1, "to_offer": "plus", "to_version": 1}
        history.append(change("plan_change", start + timedelta(days=plan_change, hours=7), **plan))
    history.sort(key=lambda c: c.effective_at)
    trial_end = start + timedelta(days=trial_days) if trial_days else None
    s = sub(offer="plus" if plan_change else "weekly", start=start, trial_end=trial_end)
    acc = account(bcd=bcd, tz=tz, anchor=date(2027, 1, 1))
    inputs = InvoiceInputs(acc, [(s, history)])
    catalog_offers = weekly(policy, length, timing)
    billed, last = _run(inputs, catalog_offers, start, n)

    again = InvoiceInputs(acc, inputs.subscriptions, billed=tuple(billed))
    assert propose(again, catalog_offers, last).items == ()
    window = window_for(acc, last, 12)
    owed, _ = expected_items(again, catalog_offers, window)
    per_key: dict[str, Decimal] = {}
    for item in owed:
        per_key[item.key] = per_key.get(item.key, Decimal(0)) + item.amount
    paid: dict[str, Decimal] = {}
    for b in billed:
        paid[b.key] = paid.get(b.key, Decimal(0)) + b.amount
    assert {k: v for k, v in paid.items() if v} == {k: v for k, v in per_key.items() if v}

    active = [(g.start, g.end) for g in timeline(s, history) if g.status is Status.ACTIVE]
    assert all(g.status in LIVE or g.status is Status.SUSPENDED for g in timeline(s, history))
    charge = Period(unit="weeks", count=1) if "weeks" in length else Period(unit="days", count=10)
    for occ in overlapping(start, charge, tz, window.start, window.current.end):
        due = occ.start < window.current.end if timing == "in_advance" else occ.end <= window.current.start
        if not due:
            continue
        mine = [
            (i.service_start, i.service_end) for i in owed if i.key.endswith(f"|occ|{occ.start.isoformat()}")
        ]
        total = sum(((e - b) for b, e in mine), timedelta())
        live = _merged(
            [
                (max(a, occ.start), min(b or occ.end, occ.end))
                for a, b in active
                if max(a, occ.start) < min(b or occ.end, occ.end)
            ]
        )
        assert _merged(mine) == live  # covered exactly on its active time ...
        assert total == sum(((e - b) for b, e in live), timedelta())  # ... and only once
