"""Query filters shared by the contexts' repositories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType


def in_values(session: Session, column: Any, values: Iterable[Any], sql_type: Any = BigInteger) -> Any:
    """`column IN values`: one array parameter on PostgreSQL (`= ANY(:values)`), so the driver
    never rewrites a statement with thousands of placeholders and the plan is the same for any
    count; an expanding IN elsewhere. Integer ids travel as an `IdArray`, strings as a
    `TextArray`. (A text parameter cast
    to bigint[] in the statement hid the array from the planner: a join planned for a few payers
    read every line of the run's invoices — measured, not kept.)"""
    if session.get_bind().dialect.name == "postgresql":
        if sql_type is BigInteger:
            return column == any_(bindparam(None, IdArray(int_array(values)), type_=_ARRAY_TEXT))
        if sql_type is String:
            return column == any_(bindparam(None, TextArray(text_array(values)), type_=_ARRAY_TEXT))
        return column == any_(bindparam(None, list(values), type_=ARRAY(sql_type)))
    return column.in_(list(values))


class _ArrayTextType(UserDefinedType[str]):
    """The parameter's SQL type for SQLAlchemy: passed through untouched (no per-item processing,
    no cast in the statement: the connection's dumper says `bigint[]` or `text[]`)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "BIGINT[]"

    def bind_processor(self, dialect: Any) -> None:
        return None


_ARRAY_TEXT = _ArrayTextType()


class IdArray(str):
    """Integer ids in PostgreSQL's array text form, sent as one typed `bigint[]` parameter (the
    dumper `db.engine` registers on each connection): the planner sees the array as it sees a
    list parameter, and the driver sends one string instead of dumping each value in Python."""


class TextArray(str):
    """Strings in PostgreSQL's array text form, sent as one `text[]` parameter (see `IdArray`)."""


def text_array(values: Iterable[str | None]) -> str:
    """PostgreSQL's text form of a text array: each element double-quoted, with its backslashes
    and double quotes escaped; None as an unquoted NULL."""
    return "{" + ",".join("NULL" if v is None else '"' + _escape(v) + '"' for v in values) + "}"


def _escape(value: str) -> str:
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    return value


def int_array(values: Iterable[int | None]) -> str:
    """PostgreSQL's text form of an integer array, `{1,2,NULL}` (the driver's array dumper walks a
    list value by value in Python); `int()` refuses anything else."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
