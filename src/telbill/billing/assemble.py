"""Proposed items + discounts + taxes + totals → the content of an invoice, without a number (pure).

Each item becomes one `InvoiceLine` (already rounded), taxed by the engine for its tax class
(seller, buyer, supply date), discounted by `apply_discounts`, totalled by `compute_totals`.
Lines of a consolidated child name its account. A negative total is issued as a credit note.

Credit for unused time (negative proration lines) follows the operator's choice: a line on
this invoice (default), or taken off the invoice and returned as an account credit or a refund
request for the caller to record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from telbill.billing.charges import ProposedItem, Window
from telbill.billing.discounts import ActiveDiscount, DiscountApplication, apply_discounts
from telbill.billing.taxes import Buyer, BuyerKind, Exemption, Seller, TaxClass, TaxEngine
from telbill.billing.totals import as_credit_note, compute_totals, document_type_for
from telbill.billing.usage import UsageAggregate
from telbill.core.records import quick_init
from telbill.invoicing.content import (
    DocumentAllowance,
    DocumentType,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    UsageSummaryRow,
)

_TICK = timedelta(microseconds=1)
LATE_PAYMENT_TEXT = (
    "Late payment: interest at three times the legal rate and a fixed recovery fee of 40 EUR "
    "(art. L441-10 Code de commerce)."
)


class CreditHandling(StrEnum):
    """Where credit for unused time goes."""

    INVOICE_LINE = "invoice_line"
    ACCOUNT_CREDIT = "account_credit"
    REFUND = "refund"


@quick_init
@dataclass(frozen=True, slots=True)
class BuyerFacts:
    """The paying account and its customer, as the invoice shows them."""

    account_id: int
    account_number: str
    party: Party
    buyer: Buyer
    language: str
    currency: str
    timezone: str
    payment_terms_days: int


@dataclass(frozen=True)
class Assembled:
    """An invoice ready for the store: content (number empty) and what the store keeps beside it."""

    content: InvoiceContent
    sources: Mapping[str, ProposedItem]  # by line_id
    exemptions: Mapping[TaxCategory, Exemption]
    applications: tuple[DiscountApplication, ...]
    credit_out: Decimal = Decimal(0)  # credit moved off the invoice (account credit or refund)
    credit_items: tuple[ProposedItem, ...] = field(default_factory=tuple)
    cycle_number: int = 1
    owners: Mapping[str, int] = field(default_factory=dict)  # discount id → child account holding it
    # line id → its share of the allowances, as the discounts allocated them (`invoicing.shares`)
    allowance_shares: Mapping[str, Decimal] = field(default_factory=dict)


@lru_cache(maxsize=65536)
def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """Remembered: the same few period bounds recur on every line of a run."""
    return instant.astimezone(tz).date()


def _line_dates(item: ProposedItem, tz: ZoneInfo) -> tuple[date, date]:
    start = local_day(item.service_start, tz)
    end = local_day(item.service_end - _TICK, tz) if item.service_end > item.service_start else start
    return start, max(start, end)


def _tax_class(name: str) -> TaxClass:
    return TaxClass(name) if name in TaxClass._value2member_map_ else TaxClass.TELECOM_SERVICE


def to_lines(
    items: Sequence[ProposedItem],
    facts: BuyerFacts,
    seller: Seller,
    engine: TaxEngine,
    supply: date,
    children: Mapping[int, str],
) -> tuple[list[InvoiceLine], dict[TaxCategory, Exemption]]:
    tz = ZoneInfo(facts.timezone)
    lines, exemptions = [], {}
    decisions: dict[str, Any] = {}  # one decision per tax class: same seller, buyer and supply date
    for n, item in enumerate(items, start=1):
        decision = decisions.get(item.tax_class)
        if decision is None:
            decision = engine.decide(seller, facts.buyer, _tax_class(item.tax_class), supply)
            decisions[item.tax_class] = decision
        if decision.exemption:
            exemptions[decision.category] = decision.exemption
        start, end = _line_dates(item, tz)
        prefix = f"{children[item.account_id]} · " if item.account_id in children else ""
        lines.append(
            InvoiceLine(
                line_id=f"L{n}",
                description=f"{prefix}{item.description}"[:500],
                quantity=item.quantity,
                unit_code=item.unit_code,
                unit_price=_display_price(item.unit_price),
                net_amount=item.amount,
                tax_category=decision.category,
                tax_rate=decision.rate,
                period_start=start,
                period_end=end,
                product_code=item.offer_code or None,
                charge_kind=_charge_kind(item.kind),
            )
        )
    return lines, exemptions


_CHARGE_KINDS = {"minimum": "adjustment", "trial": "recurring"}


_MICRO = Decimal("0.000001")
_DISPLAY_PRICES: dict[Decimal, Decimal] = {}


def _display_price(price: Decimal) -> Decimal:
    """|price| to the micro, normalised (BT-146), remembered by value: a run has few prices.
    Equal Decimals with other exponents (9.99, 9.990) give the same normalised result."""
    shown = _DISPLAY_PRICES.get(price)
    if shown is None:
        if len(_DISPLAY_PRICES) > 65536:
            _DISPLAY_PRICES.clear()
        shown = _DISPLAY_PRICES[price] = abs(price).quantize(_MICRO).normalize()
    return shown


def _charge_kind(kind: str) -> str:
    return _CHARGE_KINDS.get(kind, kind)


def usage_summary(used: Sequence[UsageAggregate], currency: str) -> tuple[UsageSummaryRow, ...]:
    """Usage by type and destination (amounts as rated, for information)."""
    rows: dict[tuple[str, str, str], list[Decimal]] = {}
    for u in used:
        acc = rows.setdefault((u.usage_type, u.destination or "all", u.unit), [Decimal(0)] * 3)
        acc[0] += u.events
        acc[1] += u.quantity
        acc[2] += Decimal(u.amount_micros) / Decimal(1_000_000)
    return tuple(
        UsageSummaryRow(t, d, int(v[0]), v[1], unit, v[2].quantize(Decimal("0.01")))
        for (t, d, unit), v in sorted(rows.items())
    )


def _split_credits(
    items: Sequence[ProposedItem], handling: CreditHandling
) -> tuple[list[ProposedItem], list[ProposedItem]]:
    if handling is CreditHandling.INVOICE_LINE:
        return list(items), []
    credits = [i for i in items if i.kind == "proration" and i.amount < 0]
    return [i for i in items if not (i.kind == "proration" and i.amount < 0)], credits


@dataclass(frozen=True)
class AssembleRequest:
    items: Sequence[ProposedItem]
    window: Window
    facts: BuyerFacts
    seller: Seller
    seller_party: Party
    engine: TaxEngine
    discounts: Sequence[ActiveDiscount] = ()
    cycle_number: int = 1
    used: Sequence[UsageAggregate] = ()
    children: Mapping[int, str] = field(default_factory=dict)
    credit_handling: CreditHandling = CreditHandling.INVOICE_LINE
    prepaid: Decimal = Decimal(0)
    child_discounts: Mapping[int, Sequence[ActiveDiscount]] = field(default_factory=dict)


def assemble(req: AssembleRequest) -> Assembled:
    """The invoice content for these items (number left empty: the store assigns it)."""
    facts, tz = req.facts, ZoneInfo(req.facts.timezone)
    kept, credits = _split_credits(req.items, req.credit_handling)
    issue = local_day(req.window.current.start, tz)
    lines, exemptions = to_lines(kept, facts, req.seller, req.engine, issue, req.children)
    result = apply_discounts(lines, req.discounts, req.cycle_number, currency_code=facts.currency)
    allowances: tuple[DocumentAllowance, ...] = result.allowances
    applications = result.applications
    allocations = list(result.allocations)
    owners: dict[str, int] = {}
    for child, found in req.child_discounts.items():
        extra = _child_discounts(
            lines, kept, child, found, result.allocations, req.cycle_number, facts.currency
        )
        if extra is not None:
            allowances += extra.allowances
            applications += extra.applications
            allocations += extra.allocations
            owners.update({a.discount_id: child for a in extra.applications})
    subtotals, totals = compute_totals(lines, allowances, facts.currency, exemptions=exemptions)
    doc_type = document_type_for(totals)
    out_lines: tuple[InvoiceLine, ...] = tuple(lines)
    if doc_type is DocumentType.CREDIT_NOTE:
        out_lines, allowances = as_credit_note(lines, allowances)
        subtotals, totals = compute_totals(out_lines, allowances, facts.currency, exemptions=exemptions)
    elif req.prepaid:
        prepaid = min(req.prepaid, totals.grand_total)
        subtotals, totals = compute_totals(
            lines, allowances, facts.currency, exemptions=exemptions, prepaid=prepaid
        )
    content = InvoiceContent(
        number="",
        document_type=doc_type,
        issue_date=issue,
        due_date=issue + timedelta(days=facts.payment_terms_days),
        currency=facts.currency,
        language=facts.language,
        seller=req.seller_party,
        buyer=facts.party,
        buyer_reference=facts.account_number,
        period_start=issue,
        period_end=local_day(req.window.current.end - _TICK, tz),
        lines=out_lines,
        allowances=allowances,
        tax_subtotals=subtotals,
        totals=totals,
        payment_terms=f"Payment within {facts.payment_terms_days} days",
        late_payment_text=LATE_PAYMENT_TEXT,
        usage_summary=usage_summary(req.used, facts.currency),
    )
    sources = {line.line_id: item for line, item in zip(lines, kept, strict=True)}
    credit_out = -sum((c.amount for c in credits), Decimal(0))
    shares = _shares(allocations, -1 if doc_type is DocumentType.CREDIT_NOTE else 1)
    return Assembled(
        content, sources, exemptions, applications, credit_out, tuple(credits), req.cycle_number, owners,
        shares,
    )  # fmt: skip


def _shares(allocations: Sequence[Any], sign: int) -> dict[str, Decimal]:
    """Each line's share of the allowances (the sum of the discounts' parts on it), signed like
    the document's amounts."""
    out: dict[str, Decimal] = {}
    for a in allocations:
        out[a.line_id] = out.get(a.line_id, Decimal(0)) + a.amount * sign
    return out


def _child_discounts(
    lines: Sequence[InvoiceLine],
    items: Sequence[ProposedItem],
    child: int,
    found: Sequence[ActiveDiscount],
    taken: Sequence[Any],
    cycle: int,
    code: str,
) -> Any:
    """A consolidated child's own discounts (its coupons), on its own lines, after the payer's
    discounts took their part of those lines."""
    off: dict[str, Decimal] = {}
    for a in taken:
        off[a.line_id] = off.get(a.line_id, Decimal(0)) + a.amount
    own = [
        replace(ln, net_amount=ln.net_amount - off.get(ln.line_id, Decimal(0)))
        for ln, item in zip(lines, items, strict=True)
        if item.account_id == child
    ]
    if not own or not found:
        return None
    return apply_discounts(own, found, cycle, currency_code=code)


def buyer_kind(customer_kind: str) -> BuyerKind:
    return BuyerKind.COMPANY if customer_kind == "company" else BuyerKind.PERSON
