"""What callers hand to the invoice store: drafts, credit-note specs, finalisation policy, filters.

Frozen dataclasses (no I/O). `draft_key` derives the idempotency key of a draft from its business
identity, so a retried bill run finds the invoice it already wrote instead of writing a second one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from telbill.billing.taxes import Exemption
from telbill.core.errors import ValidationFailed
from telbill.core.records import quick_init
from telbill.invoicing.content import (
    DocumentAllowance,
    DocumentType,
    InvoiceLine,
    TaxCategory,
    UsageSummaryRow,
)

KEY_VERSION = "v1"
INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def draft_key(account_id: int, period_start: date, period_end: date, series: str, kind: str) -> str:
    """`v1:` + SHA-256 of (account, period, series, kind): one invoice per account, period and kind.

    Versioned so that a change of the identity's definition never collides with old keys.
    """
    identity = (
        f"{KEY_VERSION}|{account_id}|{period_start.isoformat()}|{period_end.isoformat()}|{series}|{kind}"
    )
    return f"{KEY_VERSION}:{hashlib.sha256(identity.encode()).hexdigest()}"


@quick_init
@dataclass(frozen=True, slots=True)
class LineSource:
    """Where a line came from, so re-rating and disputes can trace it."""

    subscription_id: int | None = None
    usage_aggregate_id: int | None = None
    source_ref: str | None = None


@dataclass(frozen=True)
class DraftInvoice:
    """A draft for one account and service period; `period_end` is the inclusive last day (EN 16931).

    `kind` separates documents of the same account and period (a cycle invoice and a one-off
    invoice). `payer_account_id` defaults to the account that pays for this one (`payer_of`);
    `currency` to the payer's currency.
    """

    account_id: int
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]
    allowances: tuple[DocumentAllowance, ...] = ()
    kind: str = "cycle"
    series: str | None = None  # default: INV for invoices, CN for credit notes
    document_type: DocumentType = DocumentType.INVOICE
    currency: str | None = None
    payer_account_id: int | None = None
    sources: Mapping[str, LineSource] = field(default_factory=dict)  # by line_id
    exemptions: Mapping[TaxCategory, Exemption] = field(default_factory=dict)
    usage_summary: tuple[UsageSummaryRow, ...] = ()
    notes: tuple[str, ...] = ()
    preceding_invoice_id: int | None = None
    idempotency_key: str | None = None  # default: draft_key(...)
    # by line_id: each line's share of `allowances` as the caller allocated them (the bill run's
    # discounts); empty: each rate's allowances over its lines by net (`invoicing.shares`)
    allowance_shares: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.period_end < self.period_start:
            raise ValidationFailed(f"period ends ({self.period_end}) before it starts ({self.period_start})")

    @property
    def series_code(self) -> str:
        if self.series:
            return self.series
        return CREDIT_NOTE_SERIES if self.document_type is DocumentType.CREDIT_NOTE else INVOICE_SERIES

    @cached_property
    def key(self) -> str:
        """Hashed once per draft (the write path asks for it several times)."""
        if self.idempotency_key:
            return self.idempotency_key
        return draft_key(self.account_id, self.period_start, self.period_end, self.series_code, self.kind)


class BelowMinimum(StrEnum):
    CARRY_FORWARD = "carry_forward"  # keep the draft, its lines go on the next period's invoice
    FINALISE = "finalise"  # issue it anyway


@dataclass(frozen=True)
class FinalisePolicy:
    """What `finalise` does with a zero or small invoice.

    finalise_zero: True issues a zero invoice (numbered, immediately paid); False holds the draft.
    minimum_amount: a grand total strictly between 0 and this is "below minimum", handled by
    `below_minimum`. Credit notes are never held.
    """

    finalise_zero: bool = True
    minimum_amount: Decimal = Decimal(0)
    below_minimum: BelowMinimum = BelowMinimum.CARRY_FORWARD


@dataclass(frozen=True)
class LineCredit:
    """Credit part of one invoice line (by its `line_id`): a quantity, a net amount, or all of it."""

    line_id: str
    quantity: Decimal | None = None
    amount: Decimal | None = None  # net of VAT

    def __post_init__(self) -> None:
        if self.quantity is not None and self.amount is not None:
            raise ValidationFailed(f"line {self.line_id}: credit a quantity or an amount, not both")


@dataclass(frozen=True)
class CreditSpec:
    """A partial credit note: chosen lines, or a net amount spread over the invoice's VAT rates.

    Neither: the full remaining amount. Amounts are net of VAT; VAT is added per rate.
    """

    lines: tuple[LineCredit, ...] = ()
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        if self.lines and self.amount is not None:
            raise ValidationFailed("a credit note credits chosen lines or an amount, not both")
        if self.amount is not None and self.amount <= 0:
            raise ValidationFailed(f"credit amount must be positive, got {self.amount}")

    @property
    def is_full(self) -> bool:
        return not self.lines and self.amount is None


@dataclass(frozen=True)
class InvoiceFilters:
    account_id: int | None = None
    state: str | None = None
    document_type: DocumentType | None = None
    number_prefix: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    limit: int = 100
    offset: int = 0
