"""One line of the detailed call list that a customer may ask to receive with the invoice.

The list is an optional input of the renderer, not part of `InvoiceContent`: it is traffic data,
kept only as long as the bill can be contested, while the invoice is kept ten years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A rated usage event as printed on the call list.

    `started_at` is aware and already in the account's timezone: it is printed as given.
    `called_number` is printed as given, so the caller masks digits when the customer asked for it.
    `unit` is UN/ECE rec 20 (`SEC`, `MIN`, `C62`, `4L`, ...) or a short label; seconds print as a duration.
    """

    started_at: datetime
    usage_type: str  # voice | sms | data | ...
    destination: str  # e.g. "France mobile", "Roaming EU"
    called_number: str
    quantity: Decimal
    unit: str
    amount: Decimal  # net of VAT, in the invoice currency
