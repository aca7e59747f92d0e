"""Manual credit notes in reconciliation (pure): what they gave back per key, and the repair rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telbill.billing.manual_credits import BilledLine, ManualNote, NoteLine, credited_by_key
from telbill.billing.reconcile import BilledItem, owed_difference, reconcile
from tests.billing.pure_fixtures import utc

D = Decimal
CENT = D("0.01")
S20 = ("S", D("20"))
S55 = ("S", D("5.5"))


@pytest.mark.parametrize(
    ("expected", "billed", "credited", "repair", "story"),
    [
        (D(20), D(20), D(0), D(0), "billed as owed"),
        (D(20), D(20), D(5), D(0), "goodwill is not billed again"),
        (D(0), D(20), D(20), D(0), "voided, then cancelled: not credited twice"),
        (D("13.57"), D(20), D(5), D("-1.43"), "partly credited, then cancelled: only the rest"),
        (D("13.57"), D(20), D(10), D(0), "credited more than the unused time: nothing"),
        (D(35), D(30), D(5), D(5), "more service: billed, goodwill kept"),
        (D("13.57"), D(20), D(0), D("-6.43"), "no manual credit: the usual repair"),
        (D(0), D(-10), D(0), D(10), "a credit no longer owed is billed back"),
    ],
)
def test_owed_difference(expected, billed, credited, repair, story):
    assert owed_difference(expected, billed, credited) == repair, story


def _billed(key, amount):  # type: ignore[no-untyped-def]
    return BilledItem(key, amount, 1, 7, "Basic — fee", utc(2027, 2, 1), utc(2027, 3, 1))


def test_a_key_no_longer_proposed_is_credited_only_for_what_is_still_paid():
    key = "rc|7|basic|fee|2027-02-01T00:00:00+00:00"
    items = reconcile([], [_billed(key, D(20))], utc(2027, 1, 1), {key: D("15.00")})
    assert [(i.key, i.amount) for i in items] == [(key, D("-5.00"))]
    assert reconcile([], [_billed(key, D(20))], utc(2027, 1, 1), {key: D(20)}) == []


def test_line_credits_go_to_their_lines():
    lines = [BilledLine(1, "a", D("20.00"), S20), BilledLine(2, "b", D("10.00"), S20)]
    notes = [ManualNote((NoteLine(1, D("5.00"), S20),), {S20: D("5.00")})]
    assert credited_by_key(lines, {S20: D("30.00")}, notes, CENT) == {"a": D("5.00")}


def test_an_amount_goes_to_the_lines_of_its_rate_by_what_each_still_has():
    """20.00 (a) and 10.00 (b) at 20 %, 5.00 (c) at 5.5 %. Line a credited 5.00, then 9.00 spread
    at 20 % (what remained there: 25.00 — a 15.00, b 10.00): a 9 × 15/25 = 5.40, b 3.60; then all
    that remains (16.00 at 20 %, 5.00 at 5.5 %) gives back every line entirely."""
    lines = [
        BilledLine(1, "a", D("20.00"), S20),
        BilledLine(2, "b", D("10.00"), S20),
        BilledLine(3, "c", D("5.00"), S55),
    ]
    base = {S20: D("30.00"), S55: D("5.00")}
    first = ManualNote((NoteLine(1, D("5.00"), S20),), {S20: D("5.00")})
    spread = ManualNote((NoteLine(None, D("9.00"), S20),), {S20: D("9.00")})
    assert credited_by_key(lines, base, [first, spread], CENT) == {"a": D("10.40"), "b": D("3.60")}
    rest = ManualNote(
        (NoteLine(None, D("16.00"), S20), NoteLine(None, D("5.00"), S55)), {S20: D("16.00"), S55: D("5.00")}
    )
    assert credited_by_key(lines, base, [first, spread, rest], CENT) == {"a": D(20), "b": D(10), "c": D(5)}


def test_with_a_document_discount_all_that_remains_gives_back_whole_lines():
    """A 20.00 line and a 2.00 discount: the rate's base is 18.00. Crediting all of it (18.00)
    gives the line back entirely: the customer paid nothing for it in the end."""
    lines = [BilledLine(1, "a", D("20.00"), S20)]
    notes = [ManualNote((NoteLine(None, D("18.00"), S20),), {S20: D("18.00")})]
    assert credited_by_key(lines, {S20: D("18.00")}, notes, CENT) == {"a": D("20.00")}


def test_a_mirror_gives_back_negative_lines_too_and_keyless_lines_are_not_reported():
    """+20.00 (a), a −10.00 repair (b) and a hand-made 4.00 line without key: a full mirror credit
    gives back +20.00 of a and −10.00 of b; the keyless line is not reported."""
    lines = [
        BilledLine(1, "a", D("20.00"), S20),
        BilledLine(2, "b", D("-10.00"), S20),
        BilledLine(3, None, D("4.00"), S20),
    ]
    mirror = ManualNote(
        (NoteLine(1, D("20.00"), S20), NoteLine(2, D("-10.00"), S20), NoteLine(3, D("4.00"), S20)),
        {S20: D("14.00")},
    )
    assert credited_by_key(lines, {S20: D("14.00")}, [mirror], CENT) == {"a": D("20.00"), "b": D("-10.00")}


amounts = st.integers(0, 100_000).map(lambda c: Decimal(c) / 100)


@given(expected=amounts, billed=amounts, credited_share=st.fractions(0, 1))
def test_after_the_repair_the_customer_pays_between_owed_minus_credited_and_owed(
    expected, billed, credited_share
):
    """Whatever was billed and credited by hand: after the repair the customer pays at most what is
    owed and at least what is owed minus the operator's credit, and a second run repairs nothing."""
    credited = (billed * credited_share.numerator / credited_share.denominator).quantize(CENT)
    repair = owed_difference(expected, billed, credited)
    pays = billed - credited + repair
    assert expected - credited <= pays <= expected
    assert owed_difference(expected, billed + repair, credited) == 0


def test_line_credits_of_a_discounted_line_count_as_the_line_billed():
    """Two 50.00 lines with 10.00 each of a 20.00 promotion (base 80.00). Crediting line a in full
    gives back its 40.00 charged: the whole 50.00 line as billed. 10.00 of line b's 40.00 is a
    quarter of it: 12.50 as billed. A mirror of the invoice (lines and their shares repeated)
    gives back whole lines."""
    lines = [
        BilledLine(1, "a", D("50.00"), S20, D("10.00")),
        BilledLine(2, "b", D("50.00"), S20, D("10.00")),
    ]
    whole = ManualNote((NoteLine(1, D("40.00"), S20),), {S20: D("40.00")})
    part = ManualNote((NoteLine(2, D("10.00"), S20),), {S20: D("10.00")})
    assert credited_by_key(lines, {S20: D("80.00")}, [whole, part], CENT) == {
        "a": D("50.00"),
        "b": D("12.50"),
    }
    mirror = ManualNote(
        (NoteLine(1, D("50.00"), S20, D("10.00")), NoteLine(2, D("50.00"), S20, D("10.00"))),
        {S20: D("80.00")},
    )
    assert credited_by_key(lines, {S20: D("80.00")}, [mirror], CENT) == {"a": D("50.00"), "b": D("50.00")}
