"""Amounts, dates and quantities are formatted by Babel for the document's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from telbill.core.errors import ValidationFailed
from telbill.invoicing.content import TaxCategory
from telbill.invoicing.documents.i18n import LABELS, Formatter, locale_for


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_money_follows_the_language_and_the_currency_minor_unit() -> None:
    fr, en = Formatter("fr", "EUR"), Formatter("en", "EUR")
    assert plain(fr.money(Decimal("1234.56"))) == "1 234,56 €"
    assert en.money(Decimal("1234.56")) == "€1,234.56"
    assert en.money(Decimal("-16.45")) == "-€16.45"
    assert Formatter("en", "JPY").money(Decimal(5478)) == "JP¥5,478"
    assert plain(Formatter("fr", "TND").money(Decimal("45.255"))) == "45,255 TND"


def test_unit_prices_keep_their_extra_decimals() -> None:
    assert plain(Formatter("fr", "EUR").price(Decimal("0.0125"))) == "0,0125 €"
    assert plain(Formatter("fr", "EUR").price(Decimal("12"))) == "12,00 €"


def test_dates_rates_and_quantities() -> None:
    fr, en = Formatter("fr", "EUR"), Formatter("en", "EUR")
    assert fr.date(date(2025, 2, 1)) == "1 février 2025"
    assert en.date(date(2025, 2, 1)) == "1 February 2025"
    assert plain(fr.percent(Decimal("5.50"))) == "5,5 %"
    assert en.percent(Decimal("20")) == "20%"
    assert fr.quantity(Decimal(7530), "SEC") == "2:05:30"
    assert fr.quantity(Decimal(59), "SEC") == "0:59"
    assert plain(fr.quantity(Decimal("18432.5"), "4L")) == "18 432,5 Mo"
    assert en.quantity(Decimal(1), "MON") == "1\u00a0month"
    assert en.quantity(Decimal(3), "C62") == "3"
    paris = timezone(timedelta(hours=1))
    assert en.instant(datetime(2025, 1, 3, 14, 5, 9, tzinfo=paris)) == "03/01/2025 14:05:09"


def test_regional_tags_keep_their_region_and_other_languages_are_refused() -> None:
    assert locale_for("fr-BE") == "fr_BE"
    assert locale_for("en") == "en_GB"
    assert Formatter("fr-BE", "EUR").label("invoice") == "Facture"
    with pytest.raises(ValidationFailed):
        Formatter("de", "EUR").label("invoice")


def test_both_languages_have_the_same_labels_and_a_mention_for_each_exempt_category() -> None:
    assert LABELS["fr"].keys() == LABELS["en"].keys()
    for language in ("fr", "en"):
        fmt = Formatter(language, "EUR")
        assert fmt.mention(TaxCategory.STANDARD) is None
        for category in (TaxCategory.REVERSE_CHARGE, TaxCategory.EXEMPT, TaxCategory.NOT_SUBJECT):
            assert fmt.mention(category)
