from datetime import date
from decimal import Decimal

import pytest

from telbill.accounts import (
    BillingAccountCreate,
    ContactCreate,
    CustomerCreate,
    PreferencesUpdate,
    TaxExemption,
    parse_spec,
    rules,
)
from telbill.core.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ("FR40303265045", "FR40303265045"),
        ("fr 40 303 265 045", "FR40303265045"),
        ("DE 136 695 976", "DE136695976"),
        ("BE0403.019.261", "BE0403019261"),
    ],
)
def test_valid_vat_numbers_are_compacted(raw, compact):
    assert rules.vat_number(raw) == compact


@pytest.mark.parametrize("raw", ["FR41303265045", "DE136695977", "BE0403019262"])
def test_vat_numbers_with_a_bad_checksum_are_refused(raw):
    with pytest.raises(ValueError, match="invalid checksum"):
        rules.vat_number(raw)


def test_customer_errors_name_each_field_and_why():
    with pytest.raises(ValidationFailed) as err:
        parse_spec(CustomerCreate, kind="robot", name="", vat_number="DE136695977", country="XX")
    details = "\n".join(err.value.details)
    assert "vat_number: VAT number 'DE136695977' has an invalid checksum" in details
    assert "country: 'XX' is not an ISO 3166-1 alpha-2 country code" in details
    assert "kind:" in details and "name:" in details


def test_customer_defaults_and_french_registration_number():
    spec = parse_spec(
        CustomerCreate, kind="company", name="Acme", country="fr", registration_number="303 265 045"
    )
    assert (spec.country, spec.registration_number, spec.legal_name, spec.segment) == (
        "FR",
        "303265045",
        "Acme",
        "smb",
    )
    person = parse_spec(CustomerCreate, kind="person", name="Ana Ruiz", country="ES")
    assert person.segment == "consumer" and person.vat_number is None
    with pytest.raises(ValidationFailed, match="SIREN"):
        parse_spec(CustomerCreate, kind="company", name="Acme", country="FR", registration_number="303265046")


def test_contact_fields():
    assert rules.email_address("Ana.Ruiz@Example.COM") == "Ana.Ruiz@example.com"
    assert rules.phone_number("06 12 34 56 78", "FR") == "+33612345678"
    assert rules.phone_number("+1 (212) 555-0123", None) == "+12125550123"
    for bad in ("ana@", "ana@example", "a b@example.com"):
        with pytest.raises(ValueError):
            rules.email_address(bad)
    with pytest.raises(ValueError, match="international form"):
        rules.phone_number("06 12 34 56 78", None)
    with pytest.raises(ValidationFailed, match="at least one role"):
        parse_spec(ContactCreate, customer_id=1, name="Ana", roles=())
    with pytest.raises(ValidationFailed, match="customer or a billing account"):
        parse_spec(ContactCreate, name="Ana")


def test_preferences_are_validated_all_at_once():
    with pytest.raises(ValidationFailed) as err:
        parse_spec(
            BillingAccountCreate,
            customer_id=1,
            currency="EUX",
            timezone="Mars/Olympus",
            language="de",
            bill_cycle_day=32,
            cycle="fortnightly",
            payment_terms_days=121,
            invoice_delivery="pigeon",
            communication={"marketing": {"channel": "fax", "opt_in": True}},
        )
    fields = sorted(d.split(":")[0].split(".")[0] for d in err.value.details)
    assert fields == [
        "bill_cycle_day",
        "communication",
        "currency",
        "cycle",
        "invoice_delivery",
        "language",
        "payment_terms_days",
        "timezone",
    ]


def test_credit_limit_is_exact_and_in_the_currency_minor_unit():
    spec = parse_spec(BillingAccountCreate, customer_id=1, currency="JPY", credit_limit="5000")
    assert spec.credit_limit == Decimal("5000")
    with pytest.raises(ValidationFailed, match="more decimals than JPY allows"):
        parse_spec(BillingAccountCreate, customer_id=1, currency="JPY", credit_limit="10.5")
    with pytest.raises(ValidationFailed, match="not as a float"):
        parse_spec(BillingAccountCreate, customer_id=1, credit_limit=10.5)
    with pytest.raises(ValidationFailed, match="negative"):
        parse_spec(PreferencesUpdate, credit_limit="-1")  # checked by the service with the account currency
    assert parse_spec(BillingAccountCreate, customer_id=1, cycle="Quarterly").cycle == "quarterly"


def test_tax_exemption_needs_a_reason():
    with pytest.raises(ValidationFailed, match="needs a reason"):
        parse_spec(TaxExemption, exempt=True)
    ok = parse_spec(
        TaxExemption, reason="Art. 262 ter CGI", certificate_id="C-1", valid_until=date(2027, 1, 1)
    )
    assert ok.exempt


def test_update_knows_which_fields_were_given():
    update = parse_spec(PreferencesUpdate, language="EN", credit_limit=None)
    assert update.changes() == {"language": "en", "credit_limit": None}


def test_supported_languages_and_countries():
    assert set(rules.SUPPORTED_LANGUAGES) >= {"fr", "en"}
    assert rules.country_code(" de ") == "DE"
    for not_a_country in ("EU", "UN", "ZZ", "FRA"):
        with pytest.raises(ValueError):
            rules.country_code(not_a_country)
