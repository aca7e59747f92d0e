"""Field rules for customers, contacts and billing preferences: pure checks that normalise or explain.

Each function returns the normalised value or raises ValueError with a sentence that says why;
schemas turn those into per-field validation errors. No I/O.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

import phonenumbers
from babel import Locale
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren, siret

from telbill.core.clock import zone
from telbill.core.errors import TelbillError
from telbill.core.money import currency

SUPPORTED_LANGUAGES = ("en", "fr")
CUSTOMER_KINDS = ("person", "company")
SEGMENTS = ("consumer", "smb", "enterprise", "wholesale", "public")
CONTACT_ROLES = ("billing", "technical", "legal")
MESSAGE_TYPES = ("invoice_ready", "payment_reminder", "dunning", "marketing", "service_notice")
CHANNELS = ("email", "sms", "post", "none")
DELIVERY_METHODS = ("email", "portal", "paper")
ACCOUNT_STATUSES = ("active", "closed")
RESPONSIBILITIES = ("self", "parent")
MAX_PAYMENT_TERMS_DAYS = 120

# CLDR territories that are not ISO 3166-1 alpha-2 country codes (XK, Kosovo, is kept: widely used).
_NOT_COUNTRIES = {"AC", "CP", "DG", "EA", "IC", "TA", "EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"}
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@cache
def _countries() -> frozenset[str]:
    codes = Locale("en").territories
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES)


def country_code(value: str) -> str:
    code = value.strip().upper()
    if code not in _countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (such as FR, DE, US)")
    return code


def vat_number(value: str) -> str:
    """An EU VAT number (with its country prefix), checked with python-stdnum and compacted."""
    try:
        return eu_vat.validate(value)
    except stdnum_errors.InvalidChecksum:
        raise ValueError(f"VAT number {value!r} has an invalid checksum") from None
    except stdnum_errors.InvalidComponent:
        raise ValueError(
            f"VAT number {value!r} has no known EU country prefix (such as FR, DE, BE)"
        ) from None
    except stdnum_errors.InvalidLength:
        raise ValueError(f"VAT number {value!r} has the wrong length for its country") from None
    except stdnum_errors.ValidationError as exc:
        raise ValueError(f"VAT number {value!r} is not valid: {exc}") from None


def registration_number(value: str, country: str) -> str:
    """A French SIREN (9 digits) or SIRET (14) is checked; other countries' numbers are kept as written."""
    text = value.strip()
    if country != "FR":
        if not text:
            raise ValueError("company registration number is empty")
        return text
    compact = siren.compact(text)
    try:
        return siret.validate(compact) if len(compact) == 14 else siren.validate(compact)
    except stdnum_errors.ValidationError:
        raise ValueError(f"{value!r} is not a valid SIREN (9 digits) or SIRET (14 digits)") from None


def email_address(value: str) -> str:
    text = value.strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError(f"{value!r} is not an email address")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def phone_number(value: str, default_region: str | None) -> str:
    """E.164 (+33612345678). A national number needs a default region, taken from the address country."""
    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        hint = (
            "" if default_region else " (write it in international form +CC..., or give an address country)"
        )
        raise ValueError(f"{value!r} is not a phone number{hint}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{value!r} is not a valid phone number for {default_region or 'its country'}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def language(value: str) -> str:
    code = value.strip().lower()
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"language {value!r} is not supported (supported: {', '.join(SUPPORTED_LANGUAGES)})")
    return code


def timezone_name(value: str) -> str:
    try:
        zone(value)
    except TelbillError as exc:
        raise ValueError(exc.message) from None
    return value


def currency_code(value: str) -> str:
    try:
        return currency(value.strip().upper()).code
    except TelbillError as exc:
        raise ValueError(exc.message) from None


def credit_limit(amount: Decimal, code: str) -> Decimal:
    """Non-negative and written in the currency's minor unit (no EUR 10.005)."""
    if amount < 0:
        raise ValueError(f"credit limit must not be negative, got {amount}")
    quantum = currency(code).quantum
    if amount != amount.quantize(quantum):
        raise ValueError(f"credit limit {amount} has more decimals than {code} allows")
    return amount.quantize(quantum)


def one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    text = value.strip().lower()
    if text not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return text


def default_communication() -> dict[str, dict[str, object]]:
    """Every message type by email and opted in, except marketing, which needs an explicit opt-in."""
    return {t: {"channel": "email", "opt_in": t != "marketing"} for t in MESSAGE_TYPES}
