"""Exchange rates as plain data, the conversion into the VAT accounting currency, and the rate files
an operator imports (pure: text in, rates and rejects out).

A rate says `1 base = rate quote`, exactly as its source quotes it: the ECB publishes
`1 EUR = 1.0830 USD`, an operator may write `1 USD = 0.9234 EUR`. Neither is inverted when it is
stored (an inverse is not exact); `convert` multiplies or divides, and rounds once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from telbill.core.errors import ValidationFailed
from telbill.core.money import currency

# Enough digits that the quotient of a division is exact far beyond any minor unit before rounding.
_WIDE = Context(prec=60)
SIMPLE_HEADER = ("date", "base", "quote", "rate")


@dataclass(frozen=True, slots=True)
class Rate:
    """`1 base = rate quote` from `effective_date` on (until a later rate of the pair)."""

    base: str
    quote: str
    rate: Decimal
    effective_date: date
    source: str

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    def describes(self, code: str, accounting: str) -> bool:
        return {self.base, self.quote} == {code, accounting} and code != accounting


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def convert(amount: Decimal, rate: Rate, code: str, accounting: str) -> Decimal:
    """`amount` (in `code`) in the accounting currency, rounded half-up once to its minor unit."""
    if not rate.describes(code, accounting):
        raise ValidationFailed(f"a {rate.pair} rate does not convert {code} into {accounting}")
    exact = _WIDE.multiply(amount, rate.rate) if rate.base == code else _WIDE.divide(amount, rate.rate)
    return exact.quantize(currency(accounting).quantum, rounding=ROUND_HALF_UP)


def checked_rate(base: str, quote: str, rate: Decimal | str, effective_date: date, source: str) -> Rate:
    """A rate whose codes are ISO 4217, distinct, and whose value is a positive finite Decimal."""
    base, quote = base.strip().upper(), quote.strip().upper()
    currency(base)
    currency(quote)
    if base == quote:
        raise ValidationFailed(f"a rate converts between two currencies, got {base}/{quote}")
    value = _decimal(rate)
    if not source.strip():
        raise ValidationFailed("a rate names its source (ECB, a bank, manual …)")
    return Rate(base, quote, value, effective_date, source.strip()[:40])


def _decimal(raw: Decimal | str) -> Decimal:
    if isinstance(raw, float):  # never a float: a rate is what the source wrote
        raise ValidationFailed("a rate is a Decimal or its text, never a float")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(raw.strip())
    except InvalidOperation:
        raise ValidationFailed(f"not a number: {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValidationFailed(f"a rate is a positive number, got {raw!r}")
    return value


# --- files -----------------------------------------------------------------------------------


def parse_rates(text: str, source: str | None = None) -> tuple[list[Rate], list[Reject]]:
    """Rates of a CSV file, in one of two layouts, told apart by the header:

    - `date,base,quote,rate[,source]` — one rate a line (`source` defaults to the one given, else
      "manual");
    - the ECB's reference rates, daily (`Date, USD, JPY, …` then `24 January 2025, 1.0472, …`) or
      historical (`Date,USD,…` then `2025-01-24,1.0472,…`): `1 EUR = value CUR`, `N/A` and empty
      cells skipped; `source` defaults to "ECB".
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [
        (n, [cell.strip() for cell in row])
        for n, row in enumerate(rows, start=1)
        if any(c.strip() for c in row)
    ]
    if not rows:
        return [], [Reject(1, "the file is empty")]
    _, header = rows[0]
    names = [cell.lower() for cell in header]
    if tuple(names[:4]) == SIMPLE_HEADER:
        return _simple(rows[1:], names, source or "manual")
    if names and names[0] == "date":
        return _ecb(rows[1:], header, source or "ECB")
    return [], [
        Reject(1, f"unknown header {header!r}: expected 'date,base,quote,rate[,source]' or an ECB file")
    ]


def _simple(
    rows: list[tuple[int, list[str]]], names: list[str], source: str
) -> tuple[list[Rate], list[Reject]]:
    good, rejects = [], []
    has_source = len(names) > 4 and names[4] == "source"
    for n, row in rows:
        try:
            if len(row) < 4:
                raise ValidationFailed(f"expected {', '.join(SIMPLE_HEADER)}, got {len(row)} values")
            own = row[4] if has_source and len(row) > 4 and row[4] else source
            good.append(checked_rate(row[1], row[2], row[3], _day(row[0]), own))
        except ValidationFailed as exc:
            rejects.append(Reject(n, exc.message))
    return good, rejects


def _ecb(
    rows: list[tuple[int, list[str]]], header: list[str], source: str
) -> tuple[list[Rate], list[Reject]]:
    good, rejects = [], []
    codes = [code.upper() for code in header[1:]]
    for n, row in rows:
        try:
            day = _day(row[0])
        except ValidationFailed as exc:
            rejects.append(Reject(n, exc.message))
            continue
        for code, cell in zip(codes, row[1:], strict=False):
            if not code or not cell or cell.upper() == "N/A":
                continue
            try:
                good.append(checked_rate("EUR", code, cell, day, source))
            except ValidationFailed as exc:
                rejects.append(Reject(n, f"{code}: {exc.message}"))
    return good, rejects


def _day(text: str) -> date:
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d %B %Y").date()):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValidationFailed(f"not a date: {text!r} (expected 2025-01-24 or 24 January 2025)")
