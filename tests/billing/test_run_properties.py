"""Properties of the generator over random accounts, timezones (DST included) and lives:
every instant of service is billed exactly once, a repeated run proposes nothing, and every
assembled invoice balances."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.assemble import AssembleRequest, BuyerFacts, assemble
from telbill.billing.charges import period_at_instant
from telbill.billing.generator import InvoiceInputs, propose
from telbill.billing.reconcile import BilledItem
from telbill.billing.taxes import Buyer, EuVatEngine, Seller
from telbill.invoicing.content import Party
from tests.billing.pure_fixtures import account, change, offers, sub, utc

OFFERS = offers()
ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC"]


def _billed(items):
    return [BilledItem(i.key, i.amount, i.account_id, i.subscription_id, i.description, i.service_start,
                       i.service_end) for i in items]  # fmt: skip


def _history(start, end, at):
    history = [change("activate", start)]
    if end <= at:
        history.append(change("cancel", end))
    return history


def _run_all(acc, start, end):
    """Bill every period start from the first due one until after the end; return invoices' items."""
    s = sub(start=start)
    first = period_at_instant(acc, start)
    at = first.start if first.start == start else first.end
    billed, invoices = [], []
    stop = period_at_instant(acc, end).end
    while at <= stop:
        inputs = InvoiceInputs(acc, [(s, _history(start, end, at))], billed=_billed(billed))
        proposal = propose(inputs, OFFERS, at)
        again = propose(
            InvoiceInputs(acc, inputs.subscriptions, billed=_billed(billed + list(proposal.items))),
            OFFERS,
            at,
        )
        assert again.items == (), "a repeated run proposes nothing"
        billed += list(proposal.items)
        invoices.append(proposal)
        at = period_at_instant(acc, at).end
    return billed, s


@given(
    tz=st.sampled_from(ZONES),
    bcd=st.integers(1, 31),
    start_hours=st.integers(0, 365 * 24),
    life_hours=st.integers(1, 150 * 24),
)
def test_every_instant_of_service_is_billed_exactly_once(tz, bcd, start_hours, life_hours):
    acc = account(bcd=bcd, tz=tz, anchor=date(2026, 1, 1))
    start = utc(2026, 1, 1) + timedelta(hours=start_hours)
    end = start + timedelta(hours=life_hours)
    billed, s = _run_all(acc, start, end)
    final_at = period_at_instant(acc, end).end
    inputs = InvoiceInputs(acc, [(s, _history(start, end, final_at))], billed=_billed(billed))
    final = propose(inputs, OFFERS, final_at, lookback=60)
    expected = [i for i in final.expected if i.charge_code == "fee"]
    assert final.items == ()  # what was billed is exactly what is owed
    spans = sorted((i.service_start, i.service_end) for i in expected)
    assert spans[0][0] == start and spans[-1][1] == end
    for (_, a_end), (b_start, _) in pairwise(spans):
        assert a_end == b_start, "no gap and no overlap"
    assert sum(i.amount for i in billed if i.charge_code == "fee") == sum(i.amount for i in expected)


AMOUNTS = st.decimals(min_value=Decimal("-50"), max_value=Decimal("500"), places=2)


@given(
    st.lists(AMOUNTS, min_size=1, max_size=8),
    st.sampled_from(["FR", "DE", "US", "IT"]),
)
def test_every_assembled_invoice_balances(amounts, country):
    from telbill.billing.charges import ProposedItem, window_for
    from telbill.billing.discounts import (
        ActiveDiscount,
        DiscountKind,
        DiscountSource,
        DiscountTerms,
        Duration,
    )

    acc = account()
    window = window_for(acc, utc(2027, 3, 1))
    items = [
        ProposedItem(f"rc|{n}|basic|fee|x", 1, n, "basic", "fee", "recurring", "line", window.current.start,
                     window.current.end, Decimal(1), abs(a), a)
        for n, a in enumerate(amounts)
    ]  # fmt: skip
    party = Party("Buyer", "1 road", "City", "00000", country)
    facts = BuyerFacts(1, "ACC-1", party, Buyer(country), "en", "EUR", "UTC", 30)
    coupon = ActiveDiscount(
        "c1",
        DiscountSource.COUPON,
        "10 %",
        DiscountTerms(DiscountKind.PERCENTAGE, Decimal(10), duration=Duration.FOREVER),
    )
    seller = Party("Seller", "1 rue", "Paris", "75001", "FR", "FR40303265045")
    result = assemble(
        AssembleRequest(items, window, facts, Seller("FR", "FR40303265045"), seller, EuVatEngine(), [coupon])
    )
    c = result.content
    lines = sum((ln.net_amount for ln in c.lines), Decimal(0))
    allowances = sum((a.amount for a in c.allowances), Decimal(0))
    taxes = sum((t.tax_amount for t in c.tax_subtotals), Decimal(0))
    assert lines - allowances + taxes == c.totals.grand_total
    assert c.totals.grand_total >= 0
