"""Query filters shared by the contexts' repositories."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def in_values(session: Session, column: Any, values: Iterable[Any], sql_type: Any = BigInteger) -> Any:
    """`column IN values`: one array parameter on PostgreSQL (`= ANY(:values)`), so the driver
    never rewrites a statement with thousands of placeholders and the plan is the same for any
    count; an expanding IN elsewhere. (Sending the ids as one text literal cast to bigint[] saved
    the driver's array dumping but hid the array's size from the planner: a join planned for a
    few payers read every line of the run's invoices — measured, reverted.)"""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(sql_type)))
    return column.in_(list(values))


def int_array(values: Iterable[int | None]) -> str:
    """PostgreSQL's text form of an integer array, `{1,2,NULL}`, for a statement that only joins
    on it by key (`unnest`): the driver's array dumper walks a list value by value in Python;
    `int()` refuses anything else."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
