"""The invoice state machine: every state × action, and the state each settlement leads to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from telbill.core.errors import IllegalTransition
from telbill.invoicing.lifecycle import (
    ALLOWED,
    Action,
    InvoiceState,
    Standing,
    after_credit,
    after_finalise,
    after_payment,
    after_void,
    require,
)

S, A = InvoiceState, Action
D = Decimal
EXPECTED = {
    (S.DRAFT, A.EDIT), (S.DRAFT, A.DELETE), (S.DRAFT, A.FINALISE),
    (S.FINALISED, A.PAY), (S.FINALISED, A.CREDIT), (S.FINALISED, A.VOID),
    (S.PARTIALLY_PAID, A.PAY), (S.PARTIALLY_PAID, A.CREDIT), (S.PARTIALLY_PAID, A.VOID),
    (S.PAID, A.CREDIT),
}  # fmt: skip


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_and_action(state, action):
    if (state, action) in EXPECTED:
        assert require(state, action) is state
    else:
        with pytest.raises(IllegalTransition, match=f"cannot {action.value} a {state.value} invoice"):
            require(state, action)


def test_table_matches_the_specification():
    assert {(s, a) for s, actions in ALLOWED.items() for a in actions} == EXPECTED


def test_finalise():
    assert after_finalise("draft", Standing(D("10"))) is S.FINALISED
    assert after_finalise("draft", Standing(D("0"))) is S.PAID
    assert after_finalise("draft", Standing(D("10"), prepaid=D("10"))) is S.PAID
    with pytest.raises(IllegalTransition):
        after_finalise("paid", Standing(D("10")))


def test_payments():
    assert after_payment("finalised", Standing(D("10"), paid=D("4"))) is S.PARTIALLY_PAID
    assert after_payment("partially_paid", Standing(D("10"), paid=D("10"))) is S.PAID
    assert after_payment("finalised", Standing(D("10"), prepaid=D("3"), paid=D("7"))) is S.PAID
    for state in ("draft", "paid", "void"):
        with pytest.raises(IllegalTransition):
            after_payment(state, Standing(D("10"), paid=D("1")))


def test_credit_notes():
    assert after_credit("finalised", Standing(D("10"), credited=D("4"))) is S.FINALISED
    assert after_credit("finalised", Standing(D("10"), credited=D("10"))) is S.VOID  # cancelled, nothing paid
    assert after_credit("partially_paid", Standing(D("10"), paid=D("4"), credited=D("6"))) is S.PAID
    assert after_credit("paid", Standing(D("10"), paid=D("10"), credited=D("3"), refunded=D("3"))) is S.PAID
    with pytest.raises(IllegalTransition, match="more than the invoice total"):
        after_credit("finalised", Standing(D("10"), credited=D("11")))
    for state in ("draft", "void"):
        with pytest.raises(IllegalTransition):
            after_credit(state, Standing(D("10"), credited=D("1")))


def test_void_only_with_a_credit_note_for_the_full_remaining_amount():
    assert after_void("finalised", Standing(D("10"), credited=D("10"))) is S.VOID
    assert (
        after_void("partially_paid", Standing(D("10"), paid=D("4"), credited=D("10"), refunded=D("4")))
        is S.VOID
    )
    with pytest.raises(IllegalTransition, match="full remaining amount"):
        after_void("finalised", Standing(D("10"), credited=D("9.99")))
    for state in ("draft", "paid", "void"):
        with pytest.raises(IllegalTransition):
            after_void(state, Standing(D("10"), credited=D("10")))


def test_balance_and_creditable():
    standing = Standing(D("100"), prepaid=D("10"), paid=D("50"), credited=D("60"), refunded=D("20"))
    assert standing.balance == D("0") and standing.creditable == D("40")
