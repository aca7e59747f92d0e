"""What an invoice or credit note says, as plain frozen data: the contract between the bill run
(which computes it), the invoice store (which freezes it) and the renderers (PDF, Factur-X).

Amounts are Decimals in the invoice currency, already rounded to its minor unit, except
`unit_price` which may carry more decimals (EN 16931 allows it). Line amounts are net of VAT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from telbill.core.records import quick_init


class DocumentType(StrEnum):
    INVOICE = "380"  # UNTDID 1001 commercial invoice
    CREDIT_NOTE = "381"


class TaxCategory(StrEnum):
    """UNCL 5305 VAT category codes used by EN 16931."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


@quick_init
@dataclass(frozen=True, slots=True)
class Party:
    name: str
    address: str
    city: str
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    vat_number: str | None = None
    registration_id: str | None = None  # SIREN for French sellers/buyers
    email: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class InvoiceLine:
    line_id: str
    description: str
    quantity: Decimal
    # UN/ECE rec 20: C62 unit, MON month, MIN minute, SEC second, E48 service unit, 4L megabyte, E34 gigabyte
    unit_code: str
    unit_price: Decimal
    net_amount: Decimal  # rounded once: quantity × unit_price (× proration) rounded to the minor unit
    tax_category: TaxCategory
    tax_rate: Decimal  # percent, e.g. Decimal("20")
    period_start: date | None = None
    period_end: date | None = None  # inclusive last day, as EN 16931 expects
    product_code: str | None = None
    charge_kind: str = "recurring"  # recurring | usage | one_time | proration | adjustment


@dataclass(frozen=True, slots=True)
class DocumentAllowance:
    """A document-level discount (EN 16931 BG-20), e.g. a coupon on the whole invoice."""

    reason: str
    amount: Decimal  # positive, net of VAT
    tax_category: TaxCategory
    tax_rate: Decimal


@quick_init
@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    """One VAT breakdown row (BG-23): tax is computed on the per-rate subtotal, then rounded."""

    category: TaxCategory
    rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None
    exemption_code: str | None = None  # BT-121 VATEX code, e.g. VATEX-EU-AE for reverse charge


@quick_init
@dataclass(frozen=True, slots=True)
class Totals:
    line_total: Decimal  # BT-106 sum of line net amounts
    allowance_total: Decimal  # BT-107
    tax_basis_total: Decimal  # BT-109 = line_total − allowance_total
    tax_total: Decimal  # BT-110
    grand_total: Decimal  # BT-112 = tax_basis_total + tax_total
    prepaid: Decimal = Decimal(0)  # BT-113
    due_payable: Decimal = Decimal(0)  # BT-115 = grand_total − prepaid


@quick_init
@dataclass(frozen=True, slots=True)
class UsageSummaryRow:
    usage_type: str
    destination: str
    events: int
    quantity: Decimal
    unit: str
    amount: Decimal


@quick_init
@dataclass(frozen=True, slots=True)
class AccountingVat:
    """The VAT total in the seller's VAT accounting currency, for a document in another currency:
    EN 16931 BT-6 (`currency`) and BT-111 (`tax_total`), with the exchange rate used
    (`1 rate_base = rate rate_quote`, as its source quoted it, in force from `rate_date`)."""

    currency: str  # BT-6
    tax_total: Decimal  # BT-111: BT-110 converted, rounded half-up once to the currency's minor unit
    rate: Decimal
    rate_base: str
    rate_quote: str
    rate_date: date
    rate_source: str


@dataclass(frozen=True, slots=True)
class InvoiceContent:
    number: str
    document_type: DocumentType
    issue_date: date
    due_date: date
    currency: str
    language: str  # "fr" | "en"
    seller: Party
    buyer: Party
    buyer_reference: str  # the billing account number (BT-10)
    period_start: date
    period_end: date  # inclusive
    lines: tuple[InvoiceLine, ...]
    allowances: tuple[DocumentAllowance, ...]
    tax_subtotals: tuple[TaxSubtotal, ...]
    totals: Totals
    payment_terms: str
    late_payment_text: str
    preceding_invoice: str | None = None  # credit notes reference the invoice they correct (BT-25)
    preceding_invoice_date: date | None = None  # issue date of that invoice (BT-26)
    usage_summary: tuple[UsageSummaryRow, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    # only when `currency` is not the seller's VAT accounting currency (BT-6, BT-111)
    accounting_vat: AccountingVat | None = None
