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
    count; an expanding IN elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(sql_type)))
    return column.in_(list(values))
