"""The invoice state machine, as pure functions over a state and the amounts that decide it.

    draft ──finalise──► finalised ──pay──► partially_paid ──pay──► paid
      │ edit/delete        │  └──────────pay (all)────────────────►  │
      │                    └──void (credit note for all that remains)──► void
      │                 partially_paid ──void──► void
    credit notes apply to finalised, partially_paid and paid invoices

Every other move raises `IllegalTransition`. The amounts are passed in (`Standing`) so the
state after a payment or a credit note is computed, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from telbill.core.errors import IllegalTransition


class InvoiceState(StrEnum):
    DRAFT = "draft"
    FINALISED = "finalised"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


class Action(StrEnum):
    EDIT = "edit"  # replace lines, regenerate, apply account credit
    DELETE = "delete"
    FINALISE = "finalise"
    PAY = "pay"
    CREDIT = "credit"  # a credit note referencing the invoice
    VOID = "void"


_S, _A = InvoiceState, Action
ALLOWED: dict[InvoiceState, frozenset[Action]] = {
    _S.DRAFT: frozenset({_A.EDIT, _A.DELETE, _A.FINALISE}),
    _S.FINALISED: frozenset({_A.PAY, _A.CREDIT, _A.VOID}),
    _S.PARTIALLY_PAID: frozenset({_A.PAY, _A.CREDIT, _A.VOID}),
    _S.PAID: frozenset({_A.CREDIT}),
    _S.VOID: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Standing:
    """What an invoice asks for and what has settled it, all in its currency.

    balance = grand_total − prepaid − paid − credited + refunded, where `refunded` is money given
    back to the customer (as account credit or a refund) when payments and credits exceed the total.
    """

    grand_total: Decimal
    prepaid: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)

    @property
    def balance(self) -> Decimal:
        return self.grand_total - self.prepaid - self.paid - self.credited + self.refunded

    @property
    def creditable(self) -> Decimal:
        """What credit notes may still give back: the total not yet credited."""
        return self.grand_total - self.credited


def require(state: InvoiceState | str, action: Action) -> InvoiceState:
    """The state, if `action` is allowed in it; otherwise IllegalTransition naming both."""
    current = InvoiceState(state)
    if action not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing"
        raise IllegalTransition(f"cannot {action.value} a {current.value} invoice (allowed: {allowed})")
    return current


def after_finalise(state: InvoiceState | str, standing: Standing) -> InvoiceState:
    """A finalised invoice with nothing left to pay (zero total, fully prepaid) is paid at once."""
    require(state, Action.FINALISE)
    return InvoiceState.PAID if standing.balance <= 0 else InvoiceState.FINALISED


def after_payment(state: InvoiceState | str, standing: Standing) -> InvoiceState:
    """`standing` includes the payment just received."""
    require(state, Action.PAY)
    if standing.balance <= 0:
        return InvoiceState.PAID
    if standing.paid > 0:
        return InvoiceState.PARTIALLY_PAID
    return InvoiceState.FINALISED


def after_credit(state: InvoiceState | str, standing: Standing) -> InvoiceState:
    """`standing` includes the credit note just applied.

    Settled by the credit: paid if the customer paid anything (including prepaid account credit),
    void if nothing was ever paid (the credit note cancelled it). Otherwise the state stays.
    """
    current = require(state, Action.CREDIT)
    if standing.credited > standing.grand_total:
        raise IllegalTransition(
            f"credit notes total {standing.credited}, more than the invoice total {standing.grand_total}"
        )
    if current is InvoiceState.PAID or standing.balance > 0:
        return current
    return InvoiceState.PAID if standing.prepaid + standing.paid > 0 else InvoiceState.VOID


def after_void(state: InvoiceState | str, standing: Standing) -> InvoiceState:
    """Void only once a credit note covers everything that remained: `standing` includes it."""
    require(state, Action.VOID)
    if standing.creditable != 0:
        raise IllegalTransition(
            f"an invoice is void only with a credit note for the full remaining amount; "
            f"{standing.creditable} is not credited"
        )
    return InvoiceState.VOID
