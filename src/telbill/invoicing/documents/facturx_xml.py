"""The Factur-X EN 16931 e-invoice (UN/CEFACT CII D16B) of an `InvoiceContent`, written with lxml.

Element order follows the profile's XSD; the BT/BG numbers in comments are those of EN 16931.
Amounts are written as they are in the content (already rounded by the bill run): nothing is
recomputed here, so the schematron checks the bill run's arithmetic, not ours.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from telbill.core.errors import ValidationFailed
from telbill.core.money import currency
from telbill.invoicing.content import (
    DocumentAllowance,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    TaxSubtotal,
)
from telbill.invoicing.documents.i18n import Formatter

GUIDELINE_ID = "urn:cen.eu:en16931:2017"
RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "qdt": QDT, "ram": RAM, "udt": UDT}

# BT-121 VATEX codes for the categories whose reason is fixed by the category itself, used when the
# subtotal carries no `exemption_code` of its own.
VATEX_CODES = {
    TaxCategory.REVERSE_CHARGE: "VATEX-EU-AE",
    TaxCategory.INTRA_EU: "VATEX-EU-IC",
    TaxCategory.EXPORT: "VATEX-EU-G",
    TaxCategory.NOT_SUBJECT: "VATEX-EU-O",
}
_CENT = Decimal("0.01")
_NEEDS_REASON = frozenset(
    {
        TaxCategory.EXEMPT,
        TaxCategory.REVERSE_CHARGE,
        TaxCategory.INTRA_EU,
        TaxCategory.EXPORT,
        TaxCategory.NOT_SUBJECT,
    }
)


class FacturXNotApplicable(ValidationFailed):
    """The document has amounts EN 16931 cannot write (more than two decimals, rules BR-DEC-*)."""

    code = "facturx_not_applicable"


def inexpressible_amounts(content: InvoiceContent) -> list[str]:
    """The amounts (with their business term) that have a digit beyond the cent: in a currency of
    three decimals (TND, KWD, …) an amount in millimes such as 45.255; 45.250 is fine (45.25)."""
    if currency(content.currency).quantum >= _CENT:
        return []
    t = content.totals
    named = [
        *((f"BT-131 line {ln.line_id}", ln.net_amount) for ln in content.lines),
        *((f"BT-92 allowance {a.reason!r}", a.amount) for a in content.allowances),
        *((f"BT-116 VAT base {s.category.value} {s.rate}%", s.taxable_amount) for s in content.tax_subtotals),
        *((f"BT-117 VAT {s.category.value} {s.rate}%", s.tax_amount) for s in content.tax_subtotals),
        ("BT-106 lines total", t.line_total),
        ("BT-107 allowances total", t.allowance_total),
        ("BT-109 total without VAT", t.tax_basis_total),
        ("BT-110 VAT total", t.tax_total),
        ("BT-112 total with VAT", t.grand_total),
        ("BT-113 paid amount", t.prepaid),
        ("BT-115 amount due", t.due_payable),
    ]
    return [f"{name}: {value} {content.currency}" for name, value in named if value != value.quantize(_CENT)]


def facturx_xml(content: InvoiceContent) -> bytes:
    """The CII XML (UTF-8, with declaration) to embed in the PDF as `factur-x.xml`.

    Raises `FacturXNotApplicable` when an amount has a digit beyond the cent: EN 16931 cannot
    write it, and an e-invoice with rounded amounts would state another invoice than the one issued.
    """
    currency(content.currency)  # an unknown code is a ValidationFailed here, not a schematron finding
    problems = inexpressible_amounts(content)
    if problems:
        raise FacturXNotApplicable(
            f"{content.number or 'the document'}: no Factur-X for this {content.currency} document — "
            "EN 16931 allows at most two decimals in amounts (BR-DEC) and these have more; the "
            "document is issued as a PDF/A-3 without an e-invoice",
            details=problems,
        )
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _sub(root, "rsm", "ExchangedDocumentContext")
    _text(_sub(context, "ram", "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE_ID)
    _document_header(root, content)
    transaction = _sub(root, "rsm", "SupplyChainTradeTransaction")
    for line in content.lines:
        _line(transaction, line)
    _agreement(transaction, content)
    _delivery(transaction, content)
    _settlement(transaction, content)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- small builders ----------------------------------------------------------------------------


def _sub(parent: etree._Element, prefix: str, name: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attrs)


def _text(parent: etree._Element, name: str, value: str, **attrs: str) -> etree._Element:
    element = _sub(parent, "ram", name, **attrs)
    element.text = value
    return element


def amount(value: Decimal) -> str:
    """Fixed-point text, never an exponent, never `-0`; zeros past the cent are dropped (BR-DEC-*)."""
    if value.as_tuple().exponent < -2 and value == value.quantize(_CENT):  # type: ignore[operator]
        value = value.quantize(_CENT)
    return format(value + 0, "f")


def _date(parent: etree._Element, name: str, value: date, prefix: str = "udt") -> None:
    holder = _sub(parent, "ram", name)
    _sub(holder, prefix, "DateTimeString", format="102").text = value.strftime("%Y%m%d")


def _tax(
    parent: etree._Element, category: TaxCategory, rate: Decimal, name: str = "ApplicableTradeTax"
) -> None:
    tax = _sub(parent, "ram", name)
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", category.value)
    if category is not TaxCategory.NOT_SUBJECT:
        _text(tax, "RateApplicablePercent", amount(rate))


# --- document parts ----------------------------------------------------------------------------


def _document_header(root: etree._Element, content: InvoiceContent) -> None:
    header = _sub(root, "rsm", "ExchangedDocument")
    _text(header, "ID", content.number)  # BT-1
    _text(header, "TypeCode", content.document_type.value)  # BT-3
    _date(header, "IssueDateTime", content.issue_date)  # BT-2
    for subject, note in _notes(content):  # BG-1
        included = _sub(header, "ram", "IncludedNote")
        _text(included, "Content", note)  # BT-22
        if subject:
            _text(included, "SubjectCode", subject)  # BT-21


def _notes(content: InvoiceContent) -> list[tuple[str | None, str]]:
    """Free notes, then the French B2B mentions with their UNTDID 4451 subject codes."""
    fmt = Formatter(content.language, content.currency)
    notes: list[tuple[str | None, str]] = [(None, note) for note in content.notes]
    if content.late_payment_text:
        notes.append(("PMD", content.late_payment_text))
    if needs_recovery_indemnity(content):
        notes.append(("PMT", recovery_indemnity_text(fmt)))
        notes.append(("AAB", fmt.label("no_early_discount")))
    if content.accounting_vat is not None:  # the rate has no business term: said in a note
        notes.append(("TXD", accounting_vat_text(content, fmt)))
    return notes


def accounting_vat_text(content: InvoiceContent, fmt: Formatter) -> str:
    """ "VAT in EUR: €18.47 (rate 1 USD = 0.9234 EUR of 1 February 2027, ECB)"."""
    vat = content.accounting_vat
    assert vat is not None
    return fmt.label("accounting_vat").format(
        currency=vat.currency,
        amount=fmt.money(vat.tax_total, vat.currency),
        base=vat.rate_base,
        rate=fmt.exact(vat.rate),
        quote=vat.rate_quote,
        date=fmt.date(vat.rate_date),
        source=vat.rate_source,
    )


def needs_recovery_indemnity(content: InvoiceContent) -> bool:
    """The 40 EUR indemnity applies between businesses when the seller is in France."""
    return content.seller.country == "FR" and is_business(content.buyer)


def is_business(party: Party) -> bool:
    return bool(party.vat_number or party.registration_id)


def recovery_indemnity_text(fmt: Formatter) -> str:
    return fmt.label("recovery_indemnity").format(amount=fmt.money(Decimal(40), "EUR"))


def _line(transaction: etree._Element, line: InvoiceLine) -> None:
    item = _sub(transaction, "ram", "IncludedSupplyChainTradeLineItem")  # BG-25
    _text(_sub(item, "ram", "AssociatedDocumentLineDocument"), "LineID", line.line_id)  # BT-126
    product = _sub(item, "ram", "SpecifiedTradeProduct")
    if line.product_code:
        _text(product, "SellerAssignedID", line.product_code)  # BT-155
    _text(product, "Name", line.description)  # BT-153
    agreement = _sub(item, "ram", "SpecifiedLineTradeAgreement")
    price = _sub(agreement, "ram", "NetPriceProductTradePrice")
    _text(price, "ChargeAmount", amount(line.unit_price))  # BT-146
    delivery = _sub(item, "ram", "SpecifiedLineTradeDelivery")
    _text(delivery, "BilledQuantity", amount(line.quantity), unitCode=line.unit_code)  # BT-129, BT-130
    settlement = _sub(item, "ram", "SpecifiedLineTradeSettlement")
    _tax(settlement, line.tax_category, line.tax_rate)  # BT-151, BT-152
    if line.period_start or line.period_end:  # BG-26
        period = _sub(settlement, "ram", "BillingSpecifiedPeriod")
        if line.period_start:
            _date(period, "StartDateTime", line.period_start)  # BT-134
        if line.period_end:
            _date(period, "EndDateTime", line.period_end)  # BT-135
    summation = _sub(settlement, "ram", "SpecifiedTradeSettlementLineMonetarySummation")
    _text(summation, "LineTotalAmount", amount(line.net_amount))  # BT-131


def _agreement(transaction: etree._Element, content: InvoiceContent) -> None:
    agreement = _sub(transaction, "ram", "ApplicableHeaderTradeAgreement")
    _text(agreement, "BuyerReference", content.buyer_reference)  # BT-10
    _party(agreement, "SellerTradeParty", content.seller)  # BG-4
    _party(agreement, "BuyerTradeParty", content.buyer)  # BG-7


def _party(parent: etree._Element, name: str, party: Party) -> None:
    element = _sub(parent, "ram", name)
    _text(element, "Name", party.name)  # BT-27 / BT-44
    if party.registration_id:  # BT-30 / BT-47, SIREN is ISO 6523 ICD 0002
        _text(
            _sub(element, "ram", "SpecifiedLegalOrganization"), "ID", party.registration_id, schemeID="0002"
        )
    address = _sub(element, "ram", "PostalTradeAddress")  # BG-5 / BG-8
    if party.postcode:
        _text(address, "PostcodeCode", party.postcode)
    for tag, text in zip(("LineOne", "LineTwo", "LineThree"), _address_lines(party.address), strict=False):
        _text(address, tag, text)
    if party.city:
        _text(address, "CityName", party.city)
    _text(address, "CountryID", party.country)
    if party.email:  # BT-34 / BT-49
        _text(_sub(element, "ram", "URIUniversalCommunication"), "URIID", party.email, schemeID="EM")
    if party.vat_number:  # BT-31 / BT-48
        _text(_sub(element, "ram", "SpecifiedTaxRegistration"), "ID", party.vat_number, schemeID="VA")


def _address_lines(address: str) -> list[str]:
    """At most three lines; extra lines are joined into the third."""
    lines = [part.strip() for part in address.splitlines() if part.strip()]
    return [*lines[:2], ", ".join(lines[2:])] if len(lines) > 3 else lines


def _delivery(transaction: etree._Element, content: InvoiceContent) -> None:
    delivery = _sub(transaction, "ram", "ApplicableHeaderTradeDelivery")
    categories = {subtotal.category for subtotal in content.tax_subtotals}
    if TaxCategory.INTRA_EU in categories:  # BR-IC-12 wants the deliver-to country (BT-80)
        ship_to = _sub(delivery, "ram", "ShipToTradeParty")
        _text(_sub(ship_to, "ram", "PostalTradeAddress"), "CountryID", content.buyer.country)


def _settlement(transaction: etree._Element, content: InvoiceContent) -> None:
    settlement = _sub(transaction, "ram", "ApplicableHeaderTradeSettlement")
    if content.accounting_vat is not None:
        _text(settlement, "TaxCurrencyCode", content.accounting_vat.currency)  # BT-6
    _text(settlement, "InvoiceCurrencyCode", content.currency)  # BT-5
    fmt = Formatter(content.language, content.currency)
    for subtotal in content.tax_subtotals:
        _vat_breakdown(settlement, subtotal, content.currency, fmt)
    period = _sub(settlement, "ram", "BillingSpecifiedPeriod")  # BG-14
    _date(period, "StartDateTime", content.period_start)  # BT-73
    _date(period, "EndDateTime", content.period_end)  # BT-74
    for allowance in content.allowances:
        _allowance(settlement, allowance)
    terms = _sub(settlement, "ram", "SpecifiedTradePaymentTerms")
    if content.payment_terms:
        _text(terms, "Description", content.payment_terms)  # BT-20
    _date(terms, "DueDateDateTime", content.due_date)  # BT-9
    _totals(settlement, content)
    if content.preceding_invoice:  # BG-3
        reference = _sub(settlement, "ram", "InvoiceReferencedDocument")
        _text(reference, "IssuerAssignedID", content.preceding_invoice)  # BT-25
        if content.preceding_invoice_date:
            _date(reference, "FormattedIssueDateTime", content.preceding_invoice_date, prefix="qdt")  # BT-26


def _vat_breakdown(settlement: etree._Element, subtotal: TaxSubtotal, currency: str, fmt: Formatter) -> None:
    tax = _sub(settlement, "ram", "ApplicableTradeTax")  # BG-23
    _text(tax, "CalculatedAmount", amount(subtotal.tax_amount))  # BT-117
    _text(tax, "TypeCode", "VAT")
    if subtotal.category in _NEEDS_REASON:  # BT-120
        _text(tax, "ExemptionReason", subtotal.exemption_reason or fmt.mention(subtotal.category) or "")
    _text(tax, "BasisAmount", amount(subtotal.taxable_amount))  # BT-116
    _text(tax, "CategoryCode", subtotal.category.value)  # BT-118
    code = subtotal.exemption_code or VATEX_CODES.get(subtotal.category)
    if code and subtotal.category in _NEEDS_REASON:
        _text(tax, "ExemptionReasonCode", code)  # BT-121
    if subtotal.category is not TaxCategory.NOT_SUBJECT:
        _text(tax, "RateApplicablePercent", amount(subtotal.rate))  # BT-119


def _allowance(settlement: etree._Element, allowance: DocumentAllowance) -> None:
    element = _sub(settlement, "ram", "SpecifiedTradeAllowanceCharge")  # BG-20
    _sub(_sub(element, "ram", "ChargeIndicator"), "udt", "Indicator").text = "false"
    _text(element, "ActualAmount", amount(allowance.amount))  # BT-92
    _text(element, "Reason", allowance.reason)  # BT-97
    _tax(element, allowance.tax_category, allowance.tax_rate, name="CategoryTradeTax")  # BT-95, BT-96


def _totals(settlement: etree._Element, content: InvoiceContent) -> None:
    totals = content.totals
    summation = _sub(settlement, "ram", "SpecifiedTradeSettlementHeaderMonetarySummation")  # BG-22
    _text(summation, "LineTotalAmount", amount(totals.line_total))  # BT-106
    _text(summation, "ChargeTotalAmount", "0")  # BT-108: no document-level charges
    _text(summation, "AllowanceTotalAmount", amount(totals.allowance_total))  # BT-107
    _text(summation, "TaxBasisTotalAmount", amount(totals.tax_basis_total))  # BT-109
    _text(summation, "TaxTotalAmount", amount(totals.tax_total), currencyID=content.currency)  # BT-110
    if content.accounting_vat is not None:  # BT-111, in the VAT accounting currency (BR-53)
        vat = content.accounting_vat
        _text(summation, "TaxTotalAmount", amount(vat.tax_total), currencyID=vat.currency)
    _text(summation, "GrandTotalAmount", amount(totals.grand_total))  # BT-112
    _text(summation, "TotalPrepaidAmount", amount(totals.prepaid))  # BT-113
    _text(summation, "DuePayableAmount", amount(totals.due_payable))  # BT-115
