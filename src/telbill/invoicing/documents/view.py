"""What the Typst template prints, as plain JSON-ready data: every value already a formatted string.

The template only lays out; wording, legal mentions and Babel formatting are decided here, so the
template never formats a number and untrusted text reaches Typst as data, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from babel import Locale

from telbill.core.money import currency
from telbill.invoicing.content import DocumentType, InvoiceContent, InvoiceLine, Party, TaxCategory
from telbill.invoicing.documents.calls import CallRecord
from telbill.invoicing.documents.facturx_xml import (
    accounting_vat_text,
    needs_recovery_indemnity,
    recovery_indemnity_text,
)
from telbill.invoicing.documents.i18n import LABELS, Formatter


def document_view(content: InvoiceContent, call_list: Sequence[CallRecord] | None = None) -> dict[str, Any]:
    currency(content.currency)  # refuse an unknown code before printing it
    fmt = Formatter(content.language, content.currency)
    credit = content.document_type is DocumentType.CREDIT_NOTE
    return {
        "lang": fmt.lang,
        "title": fmt.label("credit_note" if credit else "invoice"),
        "number": content.number,
        "labels": LABELS[fmt.lang],
        "seller": _party(content.seller, fmt),
        "buyer": _party(content.buyer, fmt),
        "meta": _meta(content, fmt),
        "lines": [_line(item, fmt) for item in content.lines],
        "allowances": [
            {"reason": a.reason, "rate": fmt.percent(a.tax_rate), "amount": fmt.money(-a.amount)}
            for a in content.allowances
        ],
        "vat": [
            {
                "category": fmt.category(s.category),
                "rate": "" if s.category is TaxCategory.NOT_SUBJECT else fmt.percent(s.rate),
                "taxable": fmt.money(s.taxable_amount),
                "tax": fmt.money(s.tax_amount),
            }
            for s in content.tax_subtotals
        ],
        "totals": _totals(content, fmt, credit),
        "mentions": _mentions(content, fmt),
        "usage": [
            {
                "type": fmt.usage_type(row.usage_type),
                "destination": row.destination,
                "events": fmt.number(Decimal(row.events)),
                "quantity": fmt.quantity(row.quantity, row.unit),
                "amount": fmt.money(row.amount),
            }
            for row in content.usage_summary
        ],
        "calls": [_call(record, fmt) for record in call_list or ()],
        "footer": _footer(content.seller, fmt),
    }


def _party(party: Party, fmt: Formatter) -> dict[str, Any]:
    ids = []
    if party.registration_id:
        ids.append(f"{fmt.label('siren')} {party.registration_id}")
    if party.vat_number:
        ids.append(f"{fmt.label('vat_number')} {party.vat_number}")
    return {
        "name": party.name,
        "lines": [*address_lines(party, fmt)],
        "ids": ids,
        "email": party.email or "",
    }


def address_lines(party: Party, fmt: Formatter) -> list[str]:
    country = Locale.parse(fmt.locale).territories.get(party.country, party.country)
    lines = [part.strip() for part in party.address.splitlines() if part.strip()]
    return [*lines, f"{party.postcode} {party.city}", country]


def _meta(content: InvoiceContent, fmt: Formatter) -> list[list[str]]:
    rows = [
        [fmt.label("number"), content.number],
        [fmt.label("issue_date"), fmt.date(content.issue_date)],
        [fmt.label("due_date"), fmt.date(content.due_date)],
        [
            fmt.label("period"),
            f"{fmt.short_date(content.period_start)} – {fmt.short_date(content.period_end)}",
        ],
        [fmt.label("account"), content.buyer_reference],
    ]
    if content.preceding_invoice:
        reference = content.preceding_invoice
        if content.preceding_invoice_date:
            reference += f" ({fmt.short_date(content.preceding_invoice_date)})"
        rows.append([fmt.label("preceding_invoice"), reference])
    return rows


def _line(item: InvoiceLine, fmt: Formatter) -> dict[str, str]:
    period = ""
    if item.period_start and item.period_end:
        period = f"{fmt.short_date(item.period_start)} – {fmt.short_date(item.period_end)}"
    return {
        "description": item.description,
        "period": period,
        "quantity": fmt.quantity(item.quantity, item.unit_code),
        "unit_price": fmt.price(item.unit_price),
        "rate": "" if item.tax_category is TaxCategory.NOT_SUBJECT else fmt.percent(item.tax_rate),
        "net": fmt.money(item.net_amount),
    }


def _totals(content: InvoiceContent, fmt: Formatter, credit: bool) -> list[dict[str, Any]]:
    totals = content.totals
    rows: list[tuple[str, Decimal, bool]] = []
    if content.allowances:
        rows += [
            ("line_total", totals.line_total, False),
            ("allowance_total", -totals.allowance_total, False),
        ]
    rows += [
        ("tax_basis_total", totals.tax_basis_total, False),
        ("tax_total", totals.tax_total, False),
        ("credit_total" if credit else "grand_total", totals.grand_total, True),
    ]
    if totals.prepaid:
        rows.append(("prepaid", -totals.prepaid, False))
    if totals.prepaid or not credit:
        rows.append(("due_payable", totals.due_payable, True))
    out = [
        {"label": fmt.label(key), "value": fmt.money(value), "strong": strong} for key, value, strong in rows
    ]
    vat = content.accounting_vat
    if vat is not None:  # after the VAT total (BT-111 beside BT-110)
        at = next(i for i, (key, _, _) in enumerate(rows) if key == "tax_total") + 1
        label = fmt.label("accounting_vat_total").format(currency=vat.currency)
        out.insert(at, {"label": label, "value": fmt.money(vat.tax_total, vat.currency), "strong": False})
    return out


def _mentions(content: InvoiceContent, fmt: Formatter) -> list[str]:
    """Payment terms, category mentions (reverse charge, exemptions), penalties, notes."""
    colon = "\u00a0: " if fmt.lang == "fr" else ": "
    mentions = [f"{fmt.label('payment_terms')}{colon}{content.payment_terms}"]
    for subtotal in content.tax_subtotals:
        text = subtotal.exemption_reason or fmt.mention(subtotal.category)
        if text and text not in mentions:
            mentions.append(text)
    if content.late_payment_text:
        mentions.append(content.late_payment_text)
    if needs_recovery_indemnity(content):
        mentions += [recovery_indemnity_text(fmt), fmt.label("no_early_discount")]
    if content.accounting_vat is not None:
        mentions.append(accounting_vat_text(content, fmt))
    return mentions + list(content.notes)


def _call(record: CallRecord, fmt: Formatter) -> list[str]:
    return [
        fmt.instant(record.started_at),
        fmt.usage_type(record.usage_type),
        record.destination,
        record.called_number,
        fmt.quantity(record.quantity, record.unit),
        fmt.money(record.amount),
    ]


def _footer(seller: Party, fmt: Formatter) -> str:
    parts = [seller.name, ", ".join(address_lines(seller, fmt)[:-1])]
    if seller.registration_id:
        parts.append(f"{fmt.label('siren')} {seller.registration_id}")
    if seller.vat_number:
        parts.append(f"{fmt.label('vat_number')} {seller.vat_number}")
    return " · ".join(parts)
