"""VAT rates of the 27 EU member states, with their changes since 2021, as data.

Source: European Commission, "VAT rates applied in the Member States of the European Union"
(Taxes in Europe Database, situation at 1 July 2025), and the national announcements of the
changes listed (EE 2024 and 2025, FI 2024, IE 2021, LU 2023-2024, RO 2025, SK 2025).
Table checked 2025-08. Supplies before 2021-01-01 are outside the table and refused.
A new rate is one more `(effective_from, rate)` pair; past rates stay, so old supplies keep them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from telbill.core.errors import ValidationFailed

TABLE_START = date(2021, 1, 1)


def _d(text: str) -> Decimal:
    return Decimal(text)


_S = TABLE_START

# Standard rate history per member state (ISO 3166-1 alpha-2; Greece is GR here, EL in VAT numbers).
STANDARD: dict[str, tuple[tuple[date, Decimal], ...]] = {
    "AT": ((_S, _d("20")),),
    "BE": ((_S, _d("21")),),
    "BG": ((_S, _d("20")),),
    "CY": ((_S, _d("19")),),
    "CZ": ((_S, _d("21")),),
    "DE": ((_S, _d("19")),),
    "DK": ((_S, _d("25")),),
    "EE": ((_S, _d("20")), (date(2024, 1, 1), _d("22")), (date(2025, 7, 1), _d("24"))),
    "ES": ((_S, _d("21")),),
    "FI": ((_S, _d("24")), (date(2024, 9, 1), _d("25.5"))),
    "FR": ((_S, _d("20")),),
    "GR": ((_S, _d("24")),),
    "HR": ((_S, _d("25")),),
    "HU": ((_S, _d("27")),),
    "IE": ((_S, _d("21")), (date(2021, 3, 1), _d("23"))),
    "IT": ((_S, _d("22")),),
    "LT": ((_S, _d("21")),),
    "LU": ((_S, _d("17")), (date(2023, 1, 1), _d("16")), (date(2024, 1, 1), _d("17"))),
    "LV": ((_S, _d("21")),),
    "MT": ((_S, _d("18")),),
    "NL": ((_S, _d("21")),),
    "PL": ((_S, _d("23")),),
    "PT": ((_S, _d("23")),),
    "RO": ((_S, _d("19")), (date(2025, 8, 1), _d("21"))),
    "SE": ((_S, _d("25")),),
    "SI": ((_S, _d("22")),),
    "SK": ((_S, _d("20")), (date(2025, 1, 1), _d("23"))),
}

MEMBER_STATES = frozenset(STANDARD)

# Reduced rate on electronically supplied publications (e-books, online press), where a state
# applies one to them; other states charge the standard rate. Only rates in force over the
# whole table period are listed.
DIGITAL_PUBLICATION: dict[str, Decimal] = {
    "AT": _d("10"),
    "DE": _d("7"),
    "ES": _d("4"),
    "FR": _d("5.5"),
    "IT": _d("4"),
    "LU": _d("3"),
    "NL": _d("9"),
    "PT": _d("6"),
}


def standard_rate(country: str, on: date) -> Decimal:
    """The standard VAT rate (percent) of a member state on a supply date."""
    history = STANDARD.get(country)
    if history is None:
        raise ValidationFailed(f"{country!r} is not an EU member state (no VAT rate)")
    if on < TABLE_START:
        raise ValidationFailed(f"no VAT rates before {TABLE_START.isoformat()}, supply date {on.isoformat()}")
    rate = history[0][1]
    for effective_from, value in history:
        if effective_from <= on:
            rate = value
    return rate


def digital_publication_rate(country: str, on: date) -> Decimal:
    """Reduced rate for e-publications where the state has one, else its standard rate."""
    standard = standard_rate(country, on)
    return DIGITAL_PUBLICATION.get(country, standard)
