"""Exchange rates the operator maintains (`fx_rates`), and the rate in force for a currency pair on
a date: the invoice store freezes it with the VAT in the seller's accounting currency (BT-6,
BT-111) when an invoice is in another currency."""

from telbill.fx.rates import Rate, Reject, checked_rate, convert, parse_rates
from telbill.fx.service import (
    ImportSummary,
    MissingExchangeRate,
    import_rates,
    list_rates,
    rate_in_force,
    rates_in_force,
    record_rates,
)

__all__ = [
    "ImportSummary",
    "MissingExchangeRate",
    "Rate",
    "Reject",
    "checked_rate",
    "convert",
    "import_rates",
    "list_rates",
    "parse_rates",
    "rate_in_force",
    "rates_in_force",
    "record_rates",
]
