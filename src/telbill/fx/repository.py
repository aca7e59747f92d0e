"""Every SQL statement of the exchange rates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, case, or_, select, tuple_
from sqlalchemy.orm import Session

from telbill.fx.model import ExchangeRate


def in_force(session: Session, code: str, accounting: str, on: date) -> ExchangeRate | None:
    """The pair's rate with the latest effective date ≤ `on`, quoted either way round; on the
    same date the rate quoted `code → accounting` wins. Each orientation is a range scan of the
    unique index backwards."""
    r = ExchangeRate
    direct = and_(r.base_currency == code, r.quote_currency == accounting)
    inverse = and_(r.base_currency == accounting, r.quote_currency == code)
    stmt = (
        select(r)
        .where(or_(direct, inverse), r.effective_date <= on)
        .order_by(r.effective_date.desc(), case((direct, 0), else_=1))
        .limit(1)
    )
    return session.scalars(stmt).first()


def existing(
    session: Session, keys: Sequence[tuple[str, str, date]]
) -> dict[tuple[str, str, date], ExchangeRate]:
    r = ExchangeRate
    out: dict[tuple[str, str, date], ExchangeRate] = {}
    for i in range(0, len(keys), 500):
        chunk = list(keys[i : i + 500])
        stmt = select(r).where(tuple_(r.base_currency, r.quote_currency, r.effective_date).in_(chunk))
        for row in session.scalars(stmt):
            out[(row.base_currency, row.quote_currency, row.effective_date)] = row
    return out


def listed(
    session: Session, code: str | None, since: date | None, until: date | None, limit: int
) -> Sequence[ExchangeRate]:
    r = ExchangeRate
    stmt = select(r)
    if code:
        stmt = stmt.where(or_(r.base_currency == code, r.quote_currency == code))
    if since:
        stmt = stmt.where(r.effective_date >= since)
    if until:
        stmt = stmt.where(r.effective_date <= until)
    order = (r.effective_date.desc(), r.base_currency, r.quote_currency)
    return session.scalars(stmt.order_by(*order).limit(limit)).all()
