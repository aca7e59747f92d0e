"""The Factur-X XML passes the EN 16931 XSD and schematron for every kind of document we issue, and
carries each business term from its source field."""

from __future__ import annotations

import importlib
from dataclasses import replace
from decimal import Decimal

import facturx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from telbill.invoicing.content import DocumentAllowance, DocumentType, InvoiceContent, TaxCategory
from telbill.invoicing.documents import (
    FacturXNotApplicable,
    facturx_xml,
    inexpressible_amounts,
    validate_facturx,
)
from telbill.invoicing.documents.samples import BUYER_DE, balanced, line, sample_invoice

facturx_module = importlib.import_module("telbill.invoicing.documents.facturx_xml")
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"


def values(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def value(xml: bytes, path: str) -> str:
    found = values(xml, path)
    assert len(found) == 1, (path, found)
    return found[0]


def assert_valid(content: InvoiceContent) -> bytes:
    xml = facturx_xml(content)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    report = validate_facturx(xml)
    assert report.errors == (), report.errors
    return xml


def single_rate() -> InvoiceContent:
    return sample_invoice()


def two_rates() -> InvoiceContent:
    return sample_invoice(
        lines=(
            line("1", "Forfait Box Fibre", "1", "29.99", rate="20", unit_code="MON"),
            line("2", "Bouquet TV presse", "1", "9.90", rate="10", unit_code="MON"),
            line("3", "Magazine numérique", "2", "3.49", rate="5.5"),
        )
    )


def reverse_charge() -> InvoiceContent:
    return sample_invoice(
        language="en",
        buyer=BUYER_DE,
        lines=(
            line("1", "SIP trunk 30 channels", "1", "450.00", rate="0", category=TaxCategory.REVERSE_CHARGE),
            line("2", "Outbound minutes", "12000", "0.012", rate="0", category=TaxCategory.REVERSE_CHARGE),
        ),
    )


def exempt() -> InvoiceContent:
    return sample_invoice(
        lines=(
            line("1", "Forfait mobile", "1", "20.00", rate="20"),
            line(
                "2", "Frais de port avancés pour compte", "1", "8.00", rate="0", category=TaxCategory.EXEMPT
            ),
        )
    )


def with_allowance() -> InvoiceContent:
    return sample_invoice(
        allowances=(
            DocumentAllowance("Coupon BIENVENUE -10 %", Decimal("6.51"), TaxCategory.STANDARD, Decimal(20)),
        )
    )


def credit_note() -> InvoiceContent:
    return sample_invoice(
        "AV2025-000007",
        document_type=DocumentType.CREDIT_NOTE,
        preceding_invoice="F2025-000123",
        lines=(line("1", "Avoir : coupure de service du 12 au 14 janvier", "3", "1.29", unit_code="DAY"),),
    )


def yen() -> InvoiceContent:
    return sample_invoice(
        code="JPY",
        language="en",
        lines=(
            line("1", "Mobile plan", "1", "2980", rate="10", code="JPY", unit_code="MON"),
            line("2", "Roaming data", "1.5", "1333", rate="10", code="JPY", unit_code="E34"),
        ),
    )


SCENARIOS = {
    "single rate": single_rate,
    "two rates": two_rates,
    "reverse charge": reverse_charge,
    "exempt": exempt,
    "document allowance": with_allowance,
    "credit note": credit_note,
    "JPY": yen,
}


@pytest.mark.parametrize("build", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_kind_of_document_passes_xsd_and_schematron(build) -> None:
    assert_valid(build())


def test_a_tampered_grand_total_is_reported_by_the_schematron() -> None:
    content = single_rate()
    tampered = replace(
        content, totals=replace(content.totals, grand_total=content.totals.grand_total + Decimal("0.01"))
    )
    report = validate_facturx(facturx_xml(tampered))
    assert not report.ok
    assert {"BR-CO-15", "BR-CO-16"} <= report.rules


def test_a_line_total_that_does_not_add_up_is_reported() -> None:
    content = two_rates()
    tampered = replace(content, totals=replace(content.totals, line_total=content.totals.line_total + 1))
    assert "BR-CO-10" in validate_facturx(facturx_xml(tampered)).rules


def test_a_schema_error_is_reported_without_running_the_schematron() -> None:
    xml = facturx_xml(single_rate()).replace(
        b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Bogus>380</ram:Bogus>"
    )
    report = validate_facturx(xml)
    assert [f.rule for f in report.errors] == ["XSD"]
    assert validate_facturx(b"<not-closed").errors[0].rule == "XML"


def test_header_fields_map_to_their_business_terms() -> None:
    content = single_rate()
    xml = assert_valid(content)
    assert (
        value(xml, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID/text()")
        == "urn:cen.eu:en16931:2017"
    )
    assert (
        value(xml, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID/text()") == content.number
    )  # BT-1
    assert value(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == "380"  # BT-3
    assert (
        value(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString/text()") == "20250201"
    )  # BT-2
    assert value(xml, f"{SETTLEMENT}/ram:InvoiceCurrencyCode/text()") == "EUR"  # BT-5
    assert value(xml, "//ram:BuyerReference/text()") == "ACC-000042"  # BT-10
    assert (
        value(xml, "//ram:SpecifiedTradePaymentTerms/ram:Description/text()") == content.payment_terms
    )  # BT-20
    assert value(xml, "//ram:DueDateDateTime/udt:DateTimeString/text()") == "20250303"  # BT-9
    assert values(xml, f"{SETTLEMENT}/ram:BillingSpecifiedPeriod//udt:DateTimeString/text()") == [
        "20250101",
        "20250131",
    ]
    seller = "//ram:SellerTradeParty"
    assert (
        value(xml, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']/text()") == "FR40303265045"
    )
    assert (
        value(xml, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']/text()") == "303265045"
    )
    assert value(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID/text()") == "FR23334175221"
    assert values(xml, f"{seller}/ram:PostalTradeAddress/*/text()") == [
        "75002",
        "12 rue de la Paix",
        "Bâtiment B",
        "Paris",
        "FR",
    ]
    notes = values(xml, "//ram:IncludedNote/ram:SubjectCode/text()")
    assert notes == ["PMD", "PMT", "AAB"]  # late-payment penalties, 40 EUR indemnity, no early discount


def test_lines_vat_breakdown_and_totals_map_to_their_business_terms() -> None:
    content = two_rates()
    xml = assert_valid(content)
    first = "//ram:IncludedSupplyChainTradeLineItem[1]"
    assert value(xml, f"{first}//ram:LineID/text()") == "1"  # BT-126
    assert value(xml, f"{first}//ram:SpecifiedTradeProduct/ram:Name/text()") == "Forfait Box Fibre"  # BT-153
    assert value(xml, f"{first}//ram:BilledQuantity/@unitCode") == "MON"  # BT-130
    assert value(xml, f"{first}//ram:NetPriceProductTradePrice/ram:ChargeAmount/text()") == "29.99"  # BT-146
    assert value(xml, f"{first}//ram:LineTotalAmount/text()") == "29.99"  # BT-131
    rates = values(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:RateApplicablePercent/text()")
    assert rates == ["20", "10", "5.5"]
    taxes = values(xml, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount/text()")
    assert taxes == ["6.00", "0.99", "0.38"]  # 29.99×20 %, 9.90×10 %, 6.98×5.5 % each rounded half-up
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert value(xml, f"{summation}/ram:GrandTotalAmount/text()") == str(content.totals.grand_total)  # BT-112
    assert value(xml, f"{summation}/ram:TaxTotalAmount/@currencyID") == "EUR"  # BT-110


def test_reverse_charge_and_exemption_carry_their_reasons() -> None:
    xml = assert_valid(reverse_charge())
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert value(xml, f"{tax}/ram:CategoryCode/text()") == "AE"
    assert value(xml, f"{tax}/ram:ExemptionReasonCode/text()") == "VATEX-EU-AE"
    assert "Reverse charge" in value(xml, f"{tax}/ram:ExemptionReason/text()")
    exempt_xml = assert_valid(exempt())
    assert (
        value(exempt_xml, f"{tax}[ram:CategoryCode='E']/ram:ExemptionReason/text()") == "Exonération de TVA."
    )


def test_an_exemption_code_from_the_tax_engine_wins() -> None:
    content = exempt()
    subtotals = tuple(
        replace(s, exemption_reason="Exonération, article 261 C du CGI", exemption_code="VATEX-EU-132")
        if s.category is TaxCategory.EXEMPT
        else s
        for s in content.tax_subtotals
    )
    xml = assert_valid(replace(content, tax_subtotals=subtotals))
    tax = f"{SETTLEMENT}/ram:ApplicableTradeTax[ram:CategoryCode='E']"
    assert value(xml, f"{tax}/ram:ExemptionReasonCode/text()") == "VATEX-EU-132"
    assert value(xml, f"{tax}/ram:ExemptionReason/text()") == "Exonération, article 261 C du CGI"


def test_document_allowance_maps_to_bg20() -> None:
    xml = assert_valid(with_allowance())
    allowance = f"{SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge"
    assert value(xml, f"{allowance}/ram:ChargeIndicator/udt:Indicator/text()") == "false"
    assert value(xml, f"{allowance}/ram:ActualAmount/text()") == "6.51"  # BT-92
    assert value(xml, f"{allowance}/ram:CategoryTradeTax/ram:CategoryCode/text()") == "S"  # BT-95


def test_credit_note_references_the_invoice_it_corrects() -> None:
    xml = assert_valid(credit_note())
    assert value(xml, "//rsm:ExchangedDocument/ram:TypeCode/text()") == "381"
    assert (
        value(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID/text()") == "F2025-000123"
    )  # BT-25
    assert value(xml, "//ram:InvoiceReferencedDocument//qdt:DateTimeString/text()") == "20250101"  # BT-26


def test_yen_amounts_have_no_decimals() -> None:
    xml = assert_valid(yen())
    assert (
        value(xml, "//ram:GrandTotalAmount/text()") == "5478"
    )  # 2980 + 2000 (1.5×1333 = 1999.5 → 2000) = 4980, + 498 VAT


def test_dinar_amounts_in_whole_cents_are_a_valid_e_invoice() -> None:
    """EN 16931 writes at most two decimals (BR-DEC): 45.250 TND is 45.25, which it can write."""
    whole_cents = sample_invoice(code="TND", lines=(line("1", "Forfait", "1", "45.250", code="TND"),))
    assert inexpressible_amounts(whole_cents) == []
    xml = assert_valid(whole_cents)
    assert value(xml, "//ram:GrandTotalAmount/text()") == "54.30"  # 45.250 + 9.050 VAT


def test_dinar_millimes_get_no_e_invoice_with_a_clear_error(monkeypatch) -> None:
    """45.255 TND cannot be written in EN 16931: `facturx_xml` refuses, naming each amount and its
    business term, rather than writing rounded amounts that state another invoice. The schematron
    confirms that the exact amounts would be refused (BR-DEC-*)."""
    millimes = sample_invoice(code="TND", lines=(line("1", "Forfait", "1", "45.255", code="TND"),))
    with pytest.raises(FacturXNotApplicable) as refused:
        facturx_xml(millimes)
    assert "at most two decimals" in str(refused.value) and refused.value.http_status == 422
    assert refused.value.details[:2] == ["BT-131 line 1: 45.255 TND", "BT-116 VAT base S 20%: 45.255 TND"]
    assert "BT-112 total with VAT: 54.306 TND" in refused.value.details  # 45.255 + 9.051
    monkeypatch.setattr(facturx_module, "inexpressible_amounts", lambda content: [])
    report = validate_facturx(facturx_module.facturx_xml(millimes))
    assert {"BR-DEC-23", "BR-DEC-19", "BR-DEC-20", "BR-DEC-14"} <= report.rules


@given(
    prices=st.lists(st.integers(1, 999_999), min_size=1, max_size=4),
    rate=st.sampled_from(["20", "19", "7", "0"]),
)
def test_a_three_decimal_currency_never_gets_an_invalid_e_invoice(prices, rate) -> None:
    """Random TND invoices (prices in millimes): either the XML passes XSD and schematron, or it is
    refused with the amounts that have millimes — never an e-invoice the schematron rejects."""
    category = TaxCategory.STANDARD if rate != "0" else TaxCategory.EXEMPT
    lines = tuple(
        line(str(i), f"Service {i}", "1", str(Decimal(p) / 1000), rate=rate, category=category, code="TND")
        for i, p in enumerate(prices, start=1)
    )
    content = sample_invoice(code="TND", lines=lines)
    problems = inexpressible_amounts(content)
    if problems:
        with pytest.raises(FacturXNotApplicable):
            facturx_xml(content)
        amounts = [Decimal(p.rsplit(": ", 1)[1].removesuffix(" TND")) for p in problems]
        assert all(a != a.quantize(Decimal("0.01")) for a in amounts)
    else:
        assert_valid(content)


RATES = st.sampled_from(
    [
        ("20", TaxCategory.STANDARD),
        ("10", TaxCategory.STANDARD),
        ("5.5", TaxCategory.STANDARD),
        ("0", TaxCategory.EXEMPT),
    ]
)


@given(
    specs=st.lists(st.tuples(st.integers(1, 500), st.integers(1, 999_999), RATES), min_size=1, max_size=6),
    discount=st.integers(0, 500),
    code=st.sampled_from(["EUR", "JPY"]),
)
def test_any_balanced_invoice_passes_the_schematron(specs, discount, code) -> None:
    lines = tuple(
        line(
            str(i + 1),
            f"Service {i}",
            str(qty),
            str(Decimal(cents) / 100),
            rate=rate,
            category=cat,
            code=code,
        )
        for i, (qty, cents, (rate, cat)) in enumerate(specs)
    )
    allowances = ()
    first = lines[0]
    if discount and discount < first.net_amount:
        allowances = (DocumentAllowance("Remise", Decimal(discount), first.tax_category, first.tax_rate),)
    content = balanced(sample_invoice(code=code, lines=lines, allowances=allowances))
    assert validate_facturx(facturx_xml(content)).errors == ()
