"""Core values shared by every context: money, time, errors, settings. No I/O here."""

from telbill.core.clock import Clock, SystemClock, TestClock, ensure_utc, utc
from telbill.core.errors import (
    Conflict,
    CurrencyMismatch,
    IllegalTransition,
    NotFound,
    TelbillError,
    ValidationFailed,
)
from telbill.core.money import Currency, Money, Rounding, currency

__all__ = [
    "Clock",
    "Conflict",
    "Currency",
    "CurrencyMismatch",
    "IllegalTransition",
    "Money",
    "NotFound",
    "Rounding",
    "SystemClock",
    "TelbillError",
    "TestClock",
    "ValidationFailed",
    "currency",
    "ensure_utc",
    "utc",
]
