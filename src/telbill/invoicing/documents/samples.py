"""Balanced example invoices for tests, the benchmark and the demo: the documents' own fixtures.

`sample_invoice` builds an `InvoiceContent` whose VAT breakdown and totals are computed the EN 16931
way (tax on the per-rate subtotal, rounded half-up to the currency's minor unit), so its Factur-X XML
passes the schematron. The bill run computes real invoices; this only feeds the renderers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from telbill.core.money import currency
from telbill.invoicing.content import (
    DocumentAllowance,
    DocumentType,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    TaxSubtotal,
    Totals,
    UsageSummaryRow,
)
from telbill.invoicing.documents.calls import CallRecord

SELLER = Party(
    name="Télécom Exemple SAS",
    address="12 rue de la Paix\nBâtiment B",
    city="Paris",
    postcode="75002",
    country="FR",
    vat_number="FR40303265045",
    registration_id="303265045",
    email="factures@telecom-exemple.fr",
)
BUYER_FR = Party(
    name="Boulangerie Dupont & Fils SARL",
    address="3 place du Marché",
    city="Lyon",
    postcode="69002",
    country="FR",
    vat_number="FR23334175221",
    registration_id="334175221",
)
BUYER_DE = Party(
    name="Beispiel GmbH",
    address="Hauptstraße 5",
    city="Berlin",
    postcode="10115",
    country="DE",
    vat_number="DE136695976",
)


def line(
    line_id: str,
    description: str,
    quantity: str,
    unit_price: str,
    *,
    rate: str = "20",
    category: TaxCategory = TaxCategory.STANDARD,
    unit_code: str = "C62",
    code: str = "EUR",
    period: tuple[date, date] | None = None,
    kind: str = "recurring",
) -> InvoiceLine:
    """A line whose net amount is quantity × unit price rounded once to the currency."""
    net = _round(Decimal(quantity) * Decimal(unit_price), code)
    return InvoiceLine(
        line_id=line_id,
        description=description,
        quantity=Decimal(quantity),
        unit_code=unit_code,
        unit_price=Decimal(unit_price),
        net_amount=net,
        tax_category=category,
        tax_rate=Decimal(rate),
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        product_code=f"P-{line_id}",
        charge_kind=kind,
    )


def balanced(content: InvoiceContent, prepaid: Decimal = Decimal(0)) -> InvoiceContent:
    """The content with its VAT breakdown (BG-23) and totals (BG-22) computed from lines and allowances."""
    bases: dict[tuple[TaxCategory, Decimal], Decimal] = defaultdict(Decimal)
    for item in content.lines:
        bases[(item.tax_category, item.tax_rate)] += item.net_amount
    for allowance in content.allowances:
        bases[(allowance.tax_category, allowance.tax_rate)] -= allowance.amount
    subtotals = tuple(
        TaxSubtotal(category, rate, base, _round(base * rate / 100, content.currency))
        for (category, rate), base in bases.items()
    )
    line_total = sum((item.net_amount for item in content.lines), Decimal(0))
    allowance_total = sum((a.amount for a in content.allowances), Decimal(0))
    tax_total = sum((s.tax_amount for s in subtotals), Decimal(0))
    basis = line_total - allowance_total
    grand = basis + tax_total
    totals = Totals(line_total, allowance_total, basis, tax_total, grand, prepaid, grand - prepaid)
    return replace(content, tax_subtotals=subtotals, totals=totals)


def sample_invoice(
    number: str = "F2025-000123",
    *,
    language: str = "fr",
    code: str = "EUR",
    buyer: Party = BUYER_FR,
    lines: tuple[InvoiceLine, ...] | None = None,
    allowances: tuple[DocumentAllowance, ...] = (),
    document_type: DocumentType = DocumentType.INVOICE,
    preceding_invoice: str | None = None,
) -> InvoiceContent:
    """A one-period telecom invoice: a plan, an option, usage; French B2B unless told otherwise."""
    start, end = date(2025, 1, 1), date(2025, 1, 31)
    if lines is None:
        lines = (
            line("1", "Forfait Pro 100 Go", "1", "39.99", unit_code="MON", code=code, period=(start, end)),
            line("2", "Option International", "1", "10.00", unit_code="MON", code=code, period=(start, end)),
            line("3", "Appels hors forfait", "125.5", "0.12", unit_code="MIN", code=code, kind="usage"),
        )
    content = InvoiceContent(
        number=number,
        document_type=document_type,
        issue_date=date(2025, 2, 1),
        due_date=date(2025, 3, 3),
        currency=code,
        language=language,
        seller=SELLER,
        buyer=buyer,
        buyer_reference="ACC-000042",
        period_start=start,
        period_end=end,
        lines=lines,
        allowances=allowances,
        tax_subtotals=(),
        totals=Totals(*(Decimal(0),) * 5),
        payment_terms=_terms(language),
        late_payment_text=_late(language),
        preceding_invoice=preceding_invoice,
        preceding_invoice_date=date(2025, 1, 1) if preceding_invoice else None,
        usage_summary=(
            UsageSummaryRow("voice", "France", 42, Decimal(7530), "SEC", _round(Decimal("15.06"), code)),
            UsageSummaryRow("sms", "France", 120, Decimal(120), "C62", Decimal(0)),
            UsageSummaryRow("data", "France", 310, Decimal("18432.5"), "4L", Decimal(0)),
        ),
    )
    return balanced(content)


def varied_invoices(count: int, seed: int = 7) -> list[InvoiceContent]:
    """`count` different one-page invoices (languages, line counts, rates, allowances) for the benchmark."""
    rng = random.Random(seed)
    contents = []
    for index in range(count):
        n_lines = rng.randint(2, 8)
        lines = tuple(
            line(
                str(i + 1),
                f"Service {rng.choice('ABCDEFGH')}-{rng.randint(1, 999)}",
                str(rng.randint(1, 40)),
                str(Decimal(rng.randint(1, 9999)) / 100),
                rate=rng.choice(("20", "20", "10", "5.5")),
                unit_code="C62",
            )
            for i in range(n_lines)
        )
        allowances = ()
        if rng.random() < 0.3:
            allowances = (
                DocumentAllowance(
                    "Remise fidélité", Decimal("5.00"), TaxCategory.STANDARD, lines[0].tax_rate
                ),
            )
        contents.append(
            sample_invoice(
                f"F2025-{index:06d}", language=rng.choice(("fr", "en")), lines=lines, allowances=allowances
            )
        )
    return contents


def sample_calls(count: int, seed: int = 11) -> list[CallRecord]:
    """A plausible detailed call list, masked numbers, over January 2025 in Paris time."""
    rng = random.Random(seed)
    paris = timezone(timedelta(hours=1))
    start = datetime(2025, 1, 1, 8, 0, tzinfo=paris)
    records = []
    for index in range(count):
        kind = rng.choice(("voice", "voice", "sms", "data"))
        quantity, unit = {
            "voice": (Decimal(rng.randint(5, 3600)), "SEC"),
            "sms": (Decimal(1), "C62"),
            "data": (Decimal(rng.randint(1, 5000)) / 10, "4L"),
        }[kind]
        records.append(
            CallRecord(
                started_at=start + timedelta(minutes=7 * index + rng.randint(0, 6)),
                usage_type=kind,
                destination=rng.choice(("France mobile", "France fixe", "Europe", "Internet")),
                called_number=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} XX XX",
                quantity=quantity,
                unit=unit,
                amount=Decimal(rng.randint(0, 300)) / 100,
            )
        )
    return records


def _round(value: Decimal, code: str) -> Decimal:
    return value.quantize(currency(code).quantum, rounding=ROUND_HALF_UP)


def _terms(language: str) -> str:
    if language == "fr":
        return "Paiement à 30 jours par prélèvement SEPA."
    return "Payment within 30 days by SEPA direct debit."


def _late(language: str) -> str:
    if language == "fr":
        return (
            "Pénalités de retard : trois fois le taux d'intérêt légal, exigibles le lendemain de l'échéance."
        )
    return (
        "Late payment penalties: three times the French legal interest rate, from the day after the due date."
    )
