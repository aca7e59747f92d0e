"""Value types shared by the catalog specs: exact amounts, price points per currency, periods, codes.

Floats are refused with a message that says to quote the number: a YAML `19.99` is a binary float
before we ever see it, and the same rule holds for models built in Python, so one rule covers both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from telbill.core.clock import ensure_utc
from telbill.core.errors import TelbillError
from telbill.core.money import currency

CODE_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"

# A path inside a spec, relative to the model that found the problem: ("tiers", 2, "from").
Issue = tuple[tuple[str | int, ...], str]


class Spec(BaseModel):
    """Base of every catalog spec: immutable, unknown keys refused, aliases accepted by name too."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def rules_broken(issues: Sequence[Issue]) -> PydanticCustomError:
    """One validation error carrying several precise issues; the parser expands them into details."""
    summary = "; ".join(f"{format_path(p)}: {m}" if p else m for p, m in issues)
    return PydanticCustomError("catalog_rules", "{summary}", {"summary": summary, "issues": list(issues)})


def format_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("not_a_number", "expected a number, got a boolean")
    if isinstance(value, float):
        raise PydanticCustomError(
            "float_not_allowed",
            '{value} is a float, which is not exact; quote it as a string: "{value}"',
            {"value": repr(value)},
        )
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise PydanticCustomError(
                "not_a_decimal", "not a decimal number: '{value}'", {"value": value}
            ) from None
        if not result.is_finite():
            raise PydanticCustomError("not_finite", "must be a finite number, got {value}", {"value": value})
        return result
    return value


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise PydanticCustomError("negative", "must not be negative, got {value}", {"value": str(value)})
    return value


_as_text = PlainSerializer(lambda d: str(d), return_type=str, when_used="json")

# Exact decimal amounts and quantities (ints or quoted strings; floats refused).
Amount = Annotated[Decimal, BeforeValidator(_exact_decimal), _as_text]
NonNegative = Annotated[Decimal, BeforeValidator(_exact_decimal), AfterValidator(_non_negative), _as_text]
Quantity = NonNegative
Count = Annotated[int, Field(strict=True, ge=1)]
Days = Annotated[int, Field(strict=True, ge=0)]


def _code(value: str) -> str:
    if not re.fullmatch(CODE_PATTERN, value):
        raise PydanticCustomError(
            "bad_code",
            "'{value}' is not a valid code: use 1 to 64 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
            {"value": value},
        )
    return value


Code = Annotated[str, AfterValidator(_code)]


def _currency_code(value: Any) -> Any:
    if isinstance(value, str):
        try:
            currency(value)
        except TelbillError:
            raise PydanticCustomError(
                "unknown_currency",
                "unknown currency code '{code}' (expected an ISO 4217 code such as EUR)",
                {"code": value},
            ) from None
    return value


CurrencyCode = Annotated[str, AfterValidator(_currency_code)]


def _not_empty(value: dict[str, Decimal]) -> dict[str, Decimal]:
    if not value:
        raise PydanticCustomError("no_prices", "needs a price in at least one currency")
    return value


# Price points: one amount per currency, e.g. {EUR: "19.99", GBP: "17.99"}.
PricePoints = Annotated[dict[CurrencyCode, NonNegative], AfterValidator(_not_empty)]


def price_in(points: dict[str, Decimal], code: str) -> Decimal:
    """The price in one currency, or a clear error naming the currencies that exist."""
    try:
        return points[code]
    except KeyError:
        known = ", ".join(sorted(points)) or "none"
        raise TelbillError(f"no price in {code} (priced in {known})") from None


class PeriodUnit(StrEnum):
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    QUARTERS = "quarters"
    YEARS = "years"


class Period(Spec):
    """A calendar length, `{unit: months, count: 1}`; billing lays it on the account's calendar."""

    unit: PeriodUnit
    count: Count = 1

    def in_months(self) -> int | None:
        """Whole months in this period, or None for day/week periods."""
        return {"months": 1, "quarters": 3, "years": 12}.get(self.unit.value, 0) * self.count or None


def _instant(value: Any) -> Any:
    """A bare date means 00:00 UTC (the document converts dates in its own timezone first)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        from datetime import UTC

        return datetime.combine(value, time(0), tzinfo=UTC)
    return value


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "naive_datetime",
            "{value} has no timezone; add one (e.g. Z or +01:00) or give a bare date",
            {"value": value.isoformat()},
        )
    return ensure_utc(value)


# An aware instant, stored in UTC; a date is midnight (see CatalogDocument.timezone).
Instant = Annotated[datetime, BeforeValidator(_instant), AfterValidator(_to_utc)]
