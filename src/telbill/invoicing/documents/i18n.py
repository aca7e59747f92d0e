"""Labels, legal mentions and number/date formatting for the invoice documents, in French and English.

Every string the PDF shows comes from here or from the invoice content; amounts and dates go through
Babel with the document's locale, so `1 234,56 €` in French and `€1,234.56` in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from telbill.core.errors import ValidationFailed
from telbill.invoicing.content import TaxCategory

# Babel locale used for each supported document language.
LOCALES = {"fr": "fr_FR", "en": "en_GB"}

LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "number": "Numéro",
        "issue_date": "Date d'émission",
        "due_date": "Date d'échéance",
        "period": "Période de facturation",
        "account": "Compte client",
        "preceding_invoice": "Avoir sur la facture",
        "seller": "Émetteur",
        "buyer": "Facturé à",
        "vat_number": "N° TVA",
        "siren": "SIREN",
        "description": "Désignation",
        "line_period": "Période",
        "quantity": "Qté",
        "unit_price": "P.U. HT",
        "vat": "TVA",
        "net_amount": "Montant HT",
        "allowances": "Remises",
        "vat_breakdown": "Récapitulatif de la TVA",
        "category": "Catégorie",
        "rate": "Taux",
        "taxable": "Base HT",
        "tax": "Montant TVA",
        "line_total": "Total des lignes HT",
        "allowance_total": "Remises HT",
        "tax_basis_total": "Total HT",
        "tax_total": "Total TVA",
        "grand_total": "Total TTC",
        "prepaid": "Déjà réglé",
        "due_payable": "Net à payer",
        "credit_total": "Montant de l'avoir TTC",
        "payment_terms": "Conditions de paiement",
        "usage_summary": "Récapitulatif des consommations",
        "usage_type": "Type",
        "destination": "Destination",
        "events": "Nombre",
        "call_list": "Détail des communications",
        "date_time": "Date et heure",
        "called_number": "Numéro",
        "amount": "Montant HT",
        "page": "Page",
        "of": "sur",
        "legal": "Mentions légales",
        "recovery_indemnity": "Indemnité forfaitaire pour frais de recouvrement en cas de retard de "
        "paiement : {amount} (art. L441-10 et D441-5 du Code de commerce).",
        "no_early_discount": "Pas d'escompte pour paiement anticipé.",
        "accounting_vat": "TVA en {currency} : {amount} "
        "(taux 1 {base} = {rate} {quote} du {date}, {source}).",
        "accounting_vat_total": "Total TVA en {currency}",
        "reverse_charge": "Autoliquidation : TVA due par le preneur "
        "(article 196 de la directive 2006/112/CE).",
        "exempt": "Exonération de TVA.",
        "intra_eu": "Exonération de TVA, livraison intracommunautaire "
        "(article 138 de la directive 2006/112/CE).",
        "export": "Exonération de TVA, exportation hors UE (article 146 de la directive 2006/112/CE).",
        "not_subject": "Opération hors du champ d'application de la TVA.",
        "cat_S": "Taux normal",
        "cat_Z": "Taux zéro",
        "cat_E": "Exonéré",
        "cat_AE": "Autoliquidation",
        "cat_K": "Intracommunautaire",
        "cat_G": "Export",
        "cat_O": "Hors champ",
        "usage_voice": "Appels",
        "usage_sms": "SMS",
        "usage_mms": "MMS",
        "usage_data": "Données",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "period": "Billing period",
        "account": "Account",
        "preceding_invoice": "Credit note for invoice",
        "seller": "From",
        "buyer": "Bill to",
        "vat_number": "VAT no.",
        "siren": "SIREN",
        "description": "Description",
        "line_period": "Period",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "vat": "VAT",
        "net_amount": "Net amount",
        "allowances": "Discounts",
        "vat_breakdown": "VAT summary",
        "category": "Category",
        "rate": "Rate",
        "taxable": "Taxable amount",
        "tax": "VAT amount",
        "line_total": "Lines total excl. VAT",
        "allowance_total": "Discounts excl. VAT",
        "tax_basis_total": "Total excl. VAT",
        "tax_total": "Total VAT",
        "grand_total": "Total incl. VAT",
        "prepaid": "Already paid",
        "due_payable": "Amount due",
        "credit_total": "Credit note total incl. VAT",
        "payment_terms": "Payment terms",
        "usage_summary": "Usage summary",
        "usage_type": "Type",
        "destination": "Destination",
        "events": "Count",
        "call_list": "Call details",
        "date_time": "Date and time",
        "called_number": "Number",
        "amount": "Net amount",
        "page": "Page",
        "of": "of",
        "legal": "Legal notices",
        "recovery_indemnity": "Fixed compensation for recovery costs in case of late payment: {amount} "
        "(French Commercial Code, art. L441-10 and D441-5).",
        "no_early_discount": "No discount for early payment.",
        "accounting_vat": "VAT in {currency}: {amount} (rate 1 {base} = {rate} {quote} of {date}, {source}).",
        "accounting_vat_total": "Total VAT in {currency}",
        "reverse_charge": "Reverse charge: VAT to be accounted for by the recipient "
        "(Article 196 of Council Directive 2006/112/EC).",
        "exempt": "Exempt from VAT.",
        "intra_eu": "Exempt from VAT, intra-Community supply (Article 138 of Council Directive 2006/112/EC).",
        "export": "Exempt from VAT, export outside the EU (Article 146 of Council Directive 2006/112/EC).",
        "not_subject": "Not subject to VAT.",
        "cat_S": "Standard rate",
        "cat_Z": "Zero rate",
        "cat_E": "Exempt",
        "cat_AE": "Reverse charge",
        "cat_K": "Intra-Community",
        "cat_G": "Export",
        "cat_O": "Not subject",
        "usage_voice": "Calls",
        "usage_sms": "SMS",
        "usage_mms": "MMS",
        "usage_data": "Data",
    },
}

# The legal mention printed (and used as BT-120 when the content gives none) per VAT category.
CATEGORY_MENTION = {
    TaxCategory.REVERSE_CHARGE: "reverse_charge",
    TaxCategory.EXEMPT: "exempt",
    TaxCategory.INTRA_EU: "intra_eu",
    TaxCategory.EXPORT: "export",
    TaxCategory.NOT_SUBJECT: "not_subject",
}

# UN/ECE rec 20 codes (2P kilobyte, 4L megabyte, E34 gigabyte) and their printed symbol.
_UNITS = {
    "fr": {
        "MIN": "min",
        "HUR": "h",
        "2P": "ko",
        "4L": "Mo",
        "E34": "Go",
        "MON": "mois",
        "DAY": "j",
        "C62": "",
    },
    "en": {
        "MIN": "min",
        "HUR": "h",
        "2P": "kB",
        "4L": "MB",
        "E34": "GB",
        "MON": "month",
        "DAY": "d",
        "C62": "",
    },
}
_SECONDS = {"SEC", "s"}


def base_language(language: str) -> str:
    """`fr`, `fr-BE` and `fr_FR` all speak French; anything else than French or English is refused."""
    base = language.replace("-", "_").split("_")[0].lower()
    if base not in LABELS:
        raise ValidationFailed(
            f"unsupported document language {language!r}", details=[f"supported: {sorted(LABELS)}"]
        )
    return base


def locale_for(language: str) -> str:
    """A regional tag (`fr_BE`) is kept for Babel; a bare language gets its default region."""
    tag = language.replace("-", "_")
    return tag if "_" in tag else LOCALES[base_language(language)]


@dataclass(frozen=True, slots=True)
class Formatter:
    """Formats the values of one document: one language, one currency."""

    language: str
    currency: str

    @property
    def lang(self) -> str:
        return base_language(self.language)

    @property
    def locale(self) -> str:
        return locale_for(self.language)

    def label(self, key: str) -> str:
        return LABELS[self.lang][key]

    def money(self, amount: Decimal, currency: str | None = None) -> str:
        return format_currency(amount, currency or self.currency, locale=self.locale)

    def price(self, amount: Decimal) -> str:
        """Unit prices may carry more decimals than the currency: keep them, at least the currency's."""
        return format_currency(amount, self.currency, locale=self.locale, decimal_quantization=False)

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def exact(self, value: Decimal) -> str:
        """Every digit as written, trailing zeros too (a quoted rate: 1.0830 stays 1,0830)."""
        places = max(0, -int(value.as_tuple().exponent))  # type: ignore[arg-type]
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(value, format=pattern, locale=self.locale, decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        """`rate` is in percent (20 means 20 %), printed without trailing zeros."""
        return format_decimal(rate.normalize(), locale=self.locale) + (
            "\u00a0%" if self.lang == "fr" else "%"
        )

    def date(self, value: date) -> str:
        return format_date(value, "long", locale=self.locale)

    def short_date(self, value: date) -> str:
        return format_date(value, "short", locale=self.locale)

    def instant(self, value: datetime) -> str:
        return format_datetime(value, "dd/MM/yyyy HH:mm:ss", tzinfo=value.tzinfo, locale=self.locale)

    def quantity(self, value: Decimal, unit: str) -> str:
        """Seconds print as a duration (1:02:03); other units as a number and a short unit label."""
        if unit in _SECONDS:
            total = int(value)
            hours, rest = divmod(total, 3600)
            return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
        label = _UNITS[self.lang].get(unit, unit)
        text = self.number(value)
        return f"{text}\u00a0{label}" if label else text

    def usage_type(self, usage_type: str) -> str:
        return LABELS[self.lang].get(f"usage_{usage_type.lower()}", usage_type)

    def category(self, category: TaxCategory) -> str:
        return self.label(f"cat_{category.value}")

    def mention(self, category: TaxCategory) -> str | None:
        key = CATEGORY_MENTION.get(category)
        return self.label(key) if key else None
