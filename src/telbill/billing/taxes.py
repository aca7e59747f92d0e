"""Taxes: which VAT category and rate a line gets, and how much tax a per-rate subtotal carries.

A `TaxEngine` decides per line (seller, buyer, tax class, supply date) → `TaxDecision`. Tax is
then computed once per (category, rate) on the subtotal of that rate and rounded half-up to the
currency's minor unit (EN 16931: BT-117 = round(BT-116 × BT-119 / 100)), never per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from stdnum.eu import vat as eu_vat

from telbill.billing.vat_rates import MEMBER_STATES, digital_publication_rate, standard_rate
from telbill.core.errors import ValidationFailed
from telbill.core.money import Money, Rounding, currency
from telbill.invoicing.content import TaxCategory

TAX_ROUNDING = Rounding.HALF_UP


class TaxClass(StrEnum):
    """What a line sells, as far as VAT cares."""

    TELECOM_SERVICE = "telecom_service"  # taxed where the customer is (art. 58 / 44 Directive)
    ELECTRONIC_SERVICE = "electronic_service"  # same place-of-supply rules as telecom
    DIGITAL_PUBLICATION = "digital_publication"  # e-books, online press: reduced rate where one exists
    DEVICE = "device"  # goods: handsets, routers, SIM cards


class BuyerKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Exemption:
    """Why no VAT is charged: text for the invoice (BT-120) and VATEX code (BT-121)."""

    reason: str
    code: str | None = None


REVERSE_CHARGE = Exemption("Autoliquidation – Reverse charge (art. 196 Directive 2006/112/EC)", "VATEX-EU-AE")
INTRA_EU_SUPPLY = Exemption(
    "Livraison intracommunautaire exonérée – Intra-Community supply (art. 138 Directive 2006/112/EC)",
    "VATEX-EU-IC",
)
EXPORT = Exemption(
    "Exportation exonérée – Export outside the EU (art. 146 Directive 2006/112/EC)", "VATEX-EU-G"
)
NOT_SUBJECT = Exemption("Hors champ de la TVA de l'UE – Not subject to EU VAT", "VATEX-EU-O")

DEFAULT_EXEMPTIONS: dict[TaxCategory, Exemption] = {
    TaxCategory.REVERSE_CHARGE: REVERSE_CHARGE,
    TaxCategory.INTRA_EU: INTRA_EU_SUPPLY,
    TaxCategory.EXPORT: EXPORT,
    TaxCategory.NOT_SUBJECT: NOT_SUBJECT,
    TaxCategory.EXEMPT: Exemption("Exonération de TVA – Exempt from VAT"),
}


@dataclass(frozen=True, slots=True)
class Seller:
    country: str  # ISO 3166-1 alpha-2
    vat_number: str | None = None


@dataclass(frozen=True, slots=True)
class Buyer:
    country: str
    vat_number: str | None = None
    kind: BuyerKind = BuyerKind.PERSON
    exemption: Exemption | None = None  # e.g. a diplomatic mission or an exempt body


@dataclass(frozen=True, slots=True)
class TaxDecision:
    category: TaxCategory
    rate: Decimal  # percent
    exemption: Exemption | None = None
    rule: str = ""  # which rule decided, for the audit trail


class TaxEngine(Protocol):
    def decide(self, seller: Seller, buyer: Buyer, tax_class: TaxClass, supply_date: date) -> TaxDecision:
        """The VAT category, rate and exemption of one line."""
        ...


def vat_prefix(country: str) -> str:
    """The VAT number prefix of a member state (Greece files as EL)."""
    return "EL" if country == "GR" else country


def has_valid_vat_number(buyer: Buyer) -> bool:
    """Format and check digits of the buyer's EU VAT number, issued by the buyer's own state.

    An offline check: the VIES confirmation that the number is active is the caller's job.
    """
    if not buyer.vat_number:
        return False
    compact = eu_vat.compact(buyer.vat_number)
    return compact[:2] == vat_prefix(buyer.country) and bool(eu_vat.is_valid(compact))


def _exempt(buyer: Buyer) -> TaxDecision | None:
    if buyer.exemption is None:
        return None
    return TaxDecision(TaxCategory.EXEMPT, Decimal(0), buyer.exemption, "exempt customer")


class EuVatEngine:
    """EU VAT for a seller established in a member state.

    Services (telecom, electronic, publications) are taxed where the customer is: a business
    with a valid VAT number of another member state self-assesses (reverse charge, AE 0 %);
    any other EU customer pays the rate of its own country (B2C via the One-Stop Shop; same
    country B2B at the normal rate); customers outside the EU are out of scope (O).
    Goods (devices) to another member state's business are an intra-Community supply (K),
    outside the EU an export (G), else taxed at the customer's country rate (distance sales, OSS).
    The €10,000 micro-business threshold for OSS is not modelled: operators are above it.
    """

    def decide(self, seller: Seller, buyer: Buyer, tax_class: TaxClass, supply_date: date) -> TaxDecision:
        if seller.country not in MEMBER_STATES:
            raise ValidationFailed(f"EU VAT needs a seller in an EU member state, got {seller.country!r}")
        exempt = _exempt(buyer)
        if exempt:
            return exempt
        in_eu = buyer.country in MEMBER_STATES
        cross_border_b2b = (
            in_eu
            and buyer.kind is BuyerKind.COMPANY
            and buyer.country != seller.country
            and has_valid_vat_number(buyer)
        )
        if tax_class is TaxClass.DEVICE:
            if not in_eu:
                return _untaxed(TaxCategory.EXPORT, EXPORT, "export of goods outside the EU")
            if cross_border_b2b:
                return _untaxed(TaxCategory.INTRA_EU, INTRA_EU_SUPPLY, "intra-Community supply")
        elif not in_eu:
            return _untaxed(TaxCategory.NOT_SUBJECT, NOT_SUBJECT, "service to a non-EU customer")
        elif cross_border_b2b:
            return _untaxed(TaxCategory.REVERSE_CHARGE, REVERSE_CHARGE, "B2B service, reverse charge")
        return TaxDecision(
            TaxCategory.STANDARD, _rate(buyer.country, tax_class, supply_date), None, _where(seller, buyer)
        )


def _untaxed(category: TaxCategory, exemption: Exemption, rule: str) -> TaxDecision:
    return TaxDecision(category, Decimal(0), exemption, rule)


def _rate(country: str, tax_class: TaxClass, on: date) -> Decimal:
    if tax_class is TaxClass.DIGITAL_PUBLICATION:
        return digital_publication_rate(country, on)
    return standard_rate(country, on)


def _where(seller: Seller, buyer: Buyer) -> str:
    if buyer.country == seller.country:
        return f"domestic supply, {buyer.country} rate"
    return f"taxed where the customer is ({buyer.country} rate, One-Stop Shop)"


@dataclass(frozen=True, slots=True)
class FixedRateEngine:
    """One rate for every line (a single-country operator, or tests). Exempt customers stay exempt."""

    rate: Decimal

    def decide(self, seller: Seller, buyer: Buyer, tax_class: TaxClass, supply_date: date) -> TaxDecision:
        exempt = _exempt(buyer)
        if exempt:
            return exempt
        if self.rate < 0:
            raise ValidationFailed(f"a tax rate cannot be negative, got {self.rate}")
        category = TaxCategory.STANDARD if self.rate > 0 else TaxCategory.ZERO
        return TaxDecision(category, self.rate, None, "fixed rate")


def tax_on(taxable: Money, rate: Decimal) -> Money:
    """Tax of one per-rate subtotal: round(taxable × rate / 100), half-up, to the minor unit."""
    return Money(tax_amount(taxable.amount, rate, currency(taxable.currency).quantum), taxable.currency)


_HUNDRED = Decimal(100)


def tax_amount(taxable: Decimal, rate: Decimal, quantum: Decimal) -> Decimal:
    """`tax_on` on plain Decimals (the same operations: × rate, ÷ 100, rounded once)."""
    return (taxable * rate / _HUNDRED).quantize(quantum, rounding=TAX_ROUNDING.decimal_mode)
