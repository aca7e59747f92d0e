"""Taxes: EU VAT place-of-supply rules for a French operator, rate history, per-rate rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from telbill.billing.taxes import (
    REVERSE_CHARGE,
    Buyer,
    BuyerKind,
    EuVatEngine,
    Exemption,
    FixedRateEngine,
    Seller,
    TaxClass,
    has_valid_vat_number,
    tax_on,
)
from telbill.billing.vat_rates import MEMBER_STATES, standard_rate
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money
from telbill.invoicing.content import TaxCategory

SELLER = Seller("FR", "FR40303265045")
ON = date(2027, 3, 1)
ENGINE = EuVatEngine()
TELECOM = TaxClass.TELECOM_SERVICE


def decide(buyer: Buyer, tax_class: TaxClass = TELECOM, on: date = ON):
    return ENGINE.decide(SELLER, buyer, tax_class, on)


def test_the_table_has_the_27_member_states():
    assert len(MEMBER_STATES) == 27
    assert "GB" not in MEMBER_STATES and "GR" in MEMBER_STATES


def test_domestic_consumer_pays_french_vat():
    d = decide(Buyer("FR"))
    assert (d.category, d.rate, d.exemption) == (TaxCategory.STANDARD, Decimal("20"), None)


def test_consumer_in_another_state_pays_its_rate_through_oss():
    d = decide(Buyer("DE"))
    assert (d.category, d.rate) == (TaxCategory.STANDARD, Decimal("19"))
    assert "One-Stop Shop" in d.rule
    assert decide(Buyer("HU")).rate == Decimal("27")


def test_business_in_another_state_with_a_valid_number_is_reverse_charged():
    d = decide(Buyer("DE", "DE 136 695 976", BuyerKind.COMPANY))
    assert (d.category, d.rate, d.exemption) == (TaxCategory.REVERSE_CHARGE, Decimal(0), REVERSE_CHARGE)
    assert "Autoliquidation" in d.exemption.reason and "Reverse charge" in d.exemption.reason
    assert d.exemption.code == "VATEX-EU-AE"


def test_greek_business_files_its_number_as_el():
    assert decide(Buyer("GR", "EL094259216", BuyerKind.COMPANY)).category is TaxCategory.REVERSE_CHARGE


def test_business_in_the_same_state_pays_the_normal_rate():
    d = decide(Buyer("FR", "FR40303265045", BuyerKind.COMPANY))
    assert (d.category, d.rate) == (TaxCategory.STANDARD, Decimal("20"))


@pytest.mark.parametrize(
    "vat_number",
    [None, "DE136695977", "FR40303265045"],  # none, bad check digit, number of another state
)
def test_business_without_a_valid_number_of_its_state_is_taxed_like_a_consumer(vat_number):
    d = decide(Buyer("DE", vat_number, BuyerKind.COMPANY))
    assert (d.category, d.rate) == (TaxCategory.STANDARD, Decimal("19"))


def test_a_person_with_a_vat_number_is_still_a_consumer():
    assert decide(Buyer("DE", "DE136695976", BuyerKind.PERSON)).category is TaxCategory.STANDARD


def test_exempt_customer_gets_e_with_its_reason():
    embassy = Exemption("Exonération art. 151 Directive 2006/112/EC (mission diplomatique)", "VATEX-EU-151")
    d = decide(Buyer("FR", exemption=embassy))
    assert (d.category, d.rate, d.exemption) == (TaxCategory.EXEMPT, Decimal(0), embassy)


def test_customer_outside_the_eu():
    service = decide(Buyer("CH"))
    assert (service.category, service.rate) == (TaxCategory.NOT_SUBJECT, Decimal(0))
    assert service.exemption and service.exemption.code == "VATEX-EU-O"
    device = decide(Buyer("US"), TaxClass.DEVICE)
    assert (device.category, device.exemption.code) == (TaxCategory.EXPORT, "VATEX-EU-G")


def test_device_to_a_business_in_another_state_is_an_intra_community_supply():
    d = decide(Buyer("IT", "IT00743110157", BuyerKind.COMPANY), TaxClass.DEVICE)
    assert (d.category, d.rate, d.exemption.code) == (TaxCategory.INTRA_EU, Decimal(0), "VATEX-EU-IC")
    assert decide(Buyer("IT"), TaxClass.DEVICE).rate == Decimal("22")


def test_reduced_rate_for_digital_publications_where_the_state_has_one():
    assert decide(Buyer("FR"), TaxClass.DIGITAL_PUBLICATION).rate == Decimal("5.5")
    assert decide(Buyer("DE"), TaxClass.DIGITAL_PUBLICATION).rate == Decimal("7")
    assert decide(Buyer("DK"), TaxClass.DIGITAL_PUBLICATION).rate == Decimal("25")


def test_rate_follows_the_supply_date():
    assert standard_rate("FI", date(2024, 8, 31)) == Decimal("24")
    assert standard_rate("FI", date(2024, 9, 1)) == Decimal("25.5")
    assert standard_rate("EE", date(2025, 6, 30)) == Decimal("22")
    assert standard_rate("EE", date(2025, 7, 1)) == Decimal("24")
    assert standard_rate("SK", date(2025, 1, 1)) == Decimal("23")
    assert standard_rate("LU", date(2023, 6, 1)) == Decimal("16")
    with pytest.raises(ValidationFailed, match="no VAT rates before"):
        standard_rate("FR", date(2020, 12, 31))


def test_seller_outside_the_eu_is_refused():
    with pytest.raises(ValidationFailed, match="seller in an EU member state"):
        ENGINE.decide(Seller("CH"), Buyer("FR"), TELECOM, ON)


def test_vat_number_check_is_offline_format_and_check_digits():
    assert has_valid_vat_number(Buyer("BE", "BE0403170701", BuyerKind.COMPANY))
    assert not has_valid_vat_number(Buyer("BE", "BE0403170702", BuyerKind.COMPANY))


def test_fixed_rate_engine():
    engine = FixedRateEngine(Decimal("8.5"))
    d = engine.decide(SELLER, Buyer("US"), TELECOM, ON)
    assert (d.category, d.rate) == (TaxCategory.STANDARD, Decimal("8.5"))
    assert FixedRateEngine(Decimal(0)).decide(SELLER, Buyer("FR"), TELECOM, ON).category is TaxCategory.ZERO
    exempt = Buyer("FR", exemption=Exemption("exempt body"))
    assert engine.decide(SELLER, exempt, TELECOM, ON).category is TaxCategory.EXEMPT


def test_tax_is_rounded_half_up_on_the_subtotal():
    """Three lines of 0.05 EUR at 20 %: per line 0.01 each = 0.03, on the subtotal 0.15 × 20 % = 0.03;
    0.125 EUR × 20 % = 0.025 → 0.03 (half-up); JPY 1,234 × 10 % = 123.4 → 123."""
    assert tax_on(Money.of("0.15", "EUR"), Decimal("20")) == Money.of("0.03", "EUR")
    assert tax_on(Money.of("0.125", "EUR"), Decimal("20")) == Money.of("0.03", "EUR")
    assert tax_on(Money.of("1234", "JPY"), Decimal("10")) == Money.of("123", "JPY")
    assert tax_on(Money.of("-0.125", "EUR"), Decimal("20")) == Money.of("-0.03", "EUR")
