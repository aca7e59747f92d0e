"""Network identifiers of a subscription, normalised so that the same line is always spelt the same.

MSISDNs are stored in E.164 with the leading `+` (phonenumbers); IMSIs are 14–15 digits,
ICCIDs 18–22 digits (19 with the Luhn digit is usual); line ids are free text.
"""

from __future__ import annotations

import re

import phonenumbers

from telbill.core.errors import ValidationFailed

TYPES = ("msisdn", "imsi", "iccid", "line_id")


def normalise(identifier_type: str, value: str) -> str:
    """The canonical spelling, or ValidationFailed saying what is wrong."""
    if identifier_type not in TYPES:
        raise ValidationFailed(
            f"unknown service identifier type {identifier_type!r} (use {', '.join(TYPES)})"
        )
    text = value.strip()
    if identifier_type == "msisdn":
        return _msisdn(text)
    if identifier_type == "imsi" and not re.fullmatch(r"\d{14,15}", text):
        raise ValidationFailed(f"IMSI {value!r} must be 14 or 15 digits")
    if identifier_type == "iccid":
        text = text.upper()
        if not re.fullmatch(r"\d{18,22}F?", text):
            raise ValidationFailed(f"ICCID {value!r} must be 18 to 22 digits")
    if identifier_type == "line_id" and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,39}", text):
        raise ValidationFailed(f"line id {value!r} must be 1 to 40 letters, digits or _ . : / -")
    return text


def _msisdn(text: str) -> str:
    candidate = text if text.startswith("+") else "+" + text.removeprefix("00")
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(
            f"MSISDN {text!r} is not an international number (e.g. +33612345678)"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ValidationFailed(f"MSISDN {text!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
