"""Query filters shared by the contexts' repositories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Text, any_, bindparam, cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def in_values(session: Session, column: Any, values: Iterable[Any], sql_type: Any = BigInteger) -> Any:
    """`column IN values`: one array parameter on PostgreSQL (`= ANY(:values)`), so the driver
    never rewrites a statement with thousands of placeholders and the plan is the same for any
    count; an expanding IN elsewhere. Integer ids travel as one array literal (`int_array`)."""
    if session.get_bind().dialect.name == "postgresql":
        if sql_type is BigInteger:
            return column == any_(cast(bindparam(None, int_array(values), type_=Text), ARRAY(BigInteger)))
        return column == any_(bindparam(None, list(values), type_=ARRAY(sql_type)))
    return column.in_(list(values))


def int_array(values: Iterable[int | None]) -> str:
    """PostgreSQL's text form of an integer array, `{1,2,NULL}`: the driver's array dumper walks a
    list value by value in Python (a few % of a bill-run batch); `int()` refuses anything else."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
