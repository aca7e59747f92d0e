"""Rollover of tariff-charge allowances across billing periods, in the persisted path."""

from __future__ import annotations

from sqlalchemy import select

from telbill.mediation.model import UsageRecord
from telbill.rating.model import AllowanceBalance, RatedUsage
from telbill.rating.rerate import rerate
from telbill.rating.service import rate_pending
from tests.scenarios.world import World

from .world import CATALOG, add_usage, utc

UK = "447700900123"
PLAIN = "{code: intl-minutes, usage_type: voice, quantity: 2, unit: minutes, scope: [international]}"


def rolling(max_quantity: int = 3, max_cycles: int = 1) -> str:
    """Plan A with 5 free international minutes a month rolling over."""
    rule = f"rollover: {{max_quantity: {max_quantity}, max_cycles: {max_cycles}}}"
    return CATALOG.replace(
        PLAIN,
        "{code: intl-minutes, usage_type: voice, quantity: 5, unit: minutes, "
        f"{rule}, scope: [international]}}",
    )


def balances(session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(AllowanceBalance.bucket_id, AllowanceBalance.opening, AllowanceBalance.remaining)
    ).all()
    return {b.split(":", 2)[2]: (o, r) for b, o, r in rows}


def amounts(session) -> list[tuple[int, int, str, int]]:
    rows = session.execute(
        select(
            RatedUsage.charged_quantity,
            RatedUsage.free_quantity,
            RatedUsage.bucket_ids,
            RatedUsage.amount_micros,
        )
        .where(RatedUsage.superseded_by.is_(None))
        .order_by(RatedUsage.start_time)
    ).all()
    return [(c, f, b.count("@") if b else 0, a) for c, f, b, a in rows]


GOLDEN_BALANCES = {
    "20260301T0000Z": (300, 240),
    "20260401T0000Z": (300, 300),
    "20260401T0000Z@20260301T0000Z": (180, 120),
    "20260501T0000Z": (300, 0),
    "20260501T0000Z@20260401T0000Z": (180, 0),
}
GOLDEN_AMOUNTS = [(60, 60, 0, 0), (60, 60, 1, 0), (600, 480, 1, 1_200_000)]


def _three_months(session, rate_each_month: bool):
    """5 free minutes a month (UK at 0.60/min, whole minutes), rollover capped at 3 minutes for
    one cycle. March: 60 s → 240 s left, 180 roll into April. April: 60 s drawn from the rolled
    chunk first (120 left, which expires at April's end); the grant is untouched, so 180 of its
    300 roll into May. May: 600 s = rolled 180 + grant 300 free, 120 s paid = 1.20 EUR."""
    w = World(session, rolling(), utc(2026, 5, 20))
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    for at, seconds in ((utc(2026, 3, 5), 60), (utc(2026, 4, 5), 60), (utc(2026, 5, 5), 600)):
        add_usage(session, sub, at, to=UK, seconds=seconds)
        if rate_each_month:
            rate_pending(session, w.clock)
    rate_pending(session, w.clock)
    return w


def test_rollover_golden_rated_month_by_month(session):
    _three_months(session, rate_each_month=True)
    assert balances(session) == GOLDEN_BALANCES
    assert amounts(session) == GOLDEN_AMOUNTS


def test_rollover_golden_rated_in_one_pass_and_rerated(session):
    w = _three_months(session, rate_each_month=False)
    assert balances(session) == GOLDEN_BALANCES
    assert amounts(session) == GOLDEN_AMOUNTS
    report = rerate(session, w.clock, utc(2026, 3, 1), utc(2026, 5, 20))
    assert (report.replaced, report.unchanged) == (0, 3)
    assert balances(session) == GOLDEN_BALANCES


def test_rerating_an_earlier_period_rolls_its_new_balance(session):
    """March's call is found to be 240 s instead of 60 s (March left 60 s): re-rating March and
    April rolls 60 s into April instead of 180; April's 60 s call empties that chunk."""
    w = _three_months(session, rate_each_month=True)
    row = session.execute(select(RatedUsage.usage_record_id).order_by(RatedUsage.start_time)).first()
    session.get(UsageRecord, row[0]).duration_s = 240
    session.flush()
    rerate(session, w.clock, utc(2026, 3, 1), utc(2026, 5, 1))
    got = balances(session)
    assert got["20260301T0000Z"] == (300, 60)
    assert got["20260401T0000Z@20260301T0000Z"] == (60, 0)
    assert got["20260401T0000Z"] == (300, 300)


def test_two_cycles_keep_older_chunks_and_cap_the_total(session):
    """max 4 minutes for two cycles, nothing used: April gets 240 s from March; May gets 240 s
    from April's grant, and nothing more from March's chunk (the cap is full, newest kept)."""
    w = World(session, rolling(max_quantity=4, max_cycles=2), utc(2026, 5, 20))
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    add_usage(session, sub, utc(2026, 5, 5), to=UK, seconds=60)
    rate_pending(session, w.clock)
    got = balances(session)
    assert got["20260501T0000Z@20260401T0000Z"] == (240, 180)
    assert got["20260501T0000Z@20260301T0000Z"] == (0, 0)
    assert got["20260501T0000Z"] == (300, 300)


def test_a_family_pool_rolls_over(session):
    """A pool of 5 minutes per member (two members: 600 s a month), rollover max 3 minutes.
    March: the parent calls 60 s → 540 left, 180 roll into April. April: the child's 900 s =
    15 min draws the rolled 180 s first, then 600 of the pool: 780 free, 120 s paid = 1.20 EUR."""
    w = World(
        session,
        rolling().replace("quantity: 5, unit: minutes,", "quantity: 5, unit: minutes, shared: family,"),
        utc(2026, 4, 20),
    )
    parent = w.account(currency="EUR")
    child = w.account(currency="EUR", parent_id=parent)
    mine = w.order(parent, "plan-a", at=utc(2026, 3, 1))
    theirs = w.order(child, "plan-a", at=utc(2026, 3, 1))
    add_usage(session, mine, utc(2026, 3, 5), to=UK, seconds=60)
    add_usage(session, theirs, utc(2026, 4, 5), to=UK, seconds=900)
    rate_pending(session, w.clock)
    got = balances(session)
    assert got == {
        "20260301T0000Z": (600, 540),
        "20260401T0000Z": (600, 0),
        "20260401T0000Z@20260301T0000Z": (180, 0),
    }
    assert amounts(session)[-1] == (900, 780, 1, 1_200_000)
