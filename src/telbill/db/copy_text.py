"""Rows as PostgreSQL COPY text, formatted by us in one pass and sent in large chunks.

psycopg's `Copy.write_row` formats value by value through its dumpers, in Python (about 1.5 µs a
value); the bill run writes tens of values per invoice. Here each value goes through one
lookup on its exact type, and a chunk of rows goes to the server as one string.

Text format rules (PostgreSQL COPY, text format): columns separated by a tab, rows by a newline,
NULL as `\\N`, and backslash, tab, newline and carriage return escaped with a backslash. Numbers
and ISO 8601 dates and times are read by the column's input function (`numeric` accepts the
exponent form `str(Decimal)` may give). JSON columns take the JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

_CHUNK_ROWS = 5000


def _str(value: str) -> str:
    # `in` scans in C; `str.translate` with a table maps character by character (slow on the
    # kilobytes of an invoice's content JSON)
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def _json(value: Any) -> str:
    return _str(json.dumps(value))


def _bool(value: bool) -> str:
    return "t" if value else "f"


_FORMATS: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "\\N",
    str: _str,
    int: str,
    Decimal: str,
    bool: _bool,
    datetime: datetime.isoformat,
    date: date.isoformat,
    dict: _json,
    list: _json,
}


def format_value(value: Any) -> str:
    """One value as COPY text; an unknown type is an error, never a silent `str()`."""
    fmt = _FORMATS.get(type(value))
    if fmt is not None:
        return fmt(value)
    if isinstance(value, Enum):
        return format_value(value.value)
    if isinstance(value, bool | int | Decimal | str | datetime | date):  # subclasses
        for kind in (bool, int, Decimal, str, datetime, date):
            if isinstance(value, kind):
                return _FORMATS[kind](value)
    raise TypeError(f"cannot write a {type(value).__name__} by COPY: {value!r}")


_SPECIAL = ("\\", "\t", "\n", "\r")
_NONE = type(None)


def _column(values: Sequence[Any]) -> Sequence[str]:
    """One column's values as COPY text. A column of one type (NULLs aside) is formatted with one
    function found once, a column without NULLs by `map` (the loop in C), and strings none of
    which holds a character to escape are taken as they are (one join to look). Anything else
    goes value by value."""
    kinds = set(map(type, values))
    nulls = _NONE in kinds
    kinds.discard(_NONE)
    if not kinds:
        return ["\\N"] * len(values)
    if len(kinds) == 1 and (fmt := _FORMATS.get(kind := kinds.pop())) is not None:
        if kind is str:
            present = [v for v in values if v is not None] if nulls else values
            joined = "".join(present)
            if not any(c in joined for c in _SPECIAL):
                return ["\\N" if v is None else v for v in values] if nulls else values
        if nulls:
            return ["\\N" if v is None else fmt(v) for v in values]
        return list(map(fmt, values))
    formats, fallback = _FORMATS, format_value
    return [(formats.get(type(v)) or fallback)(v) for v in values]


def format_rows(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as COPY text lines (each ending with a newline), formatted column by column."""
    if not rows:
        return ""
    columns = [_column(values) for values in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def copy_text(session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY `rows` (values in `columns` order) into `table` on the session's connection."""
    if not rows:
        return
    raw = session.connection().connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for first in range(0, len(rows), _CHUNK_ROWS):
            copy.write(format_rows(rows[first : first + _CHUNK_ROWS]))
