"""Gapless numbering: formats, series per document type and year, rollback and concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from telbill.core.clock import TestClock
from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models
from telbill.invoicing import DocumentType, configure_series, create_draft, finalise
from telbill.invoicing.numbering import allocate_number, check_format, counter_year, format_number
from tests.invoicing.test_store_support import SELLER, draft_for, ln, new_account, new_clock


@pytest.fixture
def clock():
    return new_clock()


@pytest.fixture
def account(session, clock):
    return new_account(session, clock)


def test_formats():
    assert format_number("INV-{year}-{seq:06d}", 2026, 42) == "INV-2026-000042"
    assert counter_year("INV-{year}-{seq:06d}", date(2026, 5, 1)) == 2026
    assert counter_year("F{seq:08d}", date(2026, 5, 1)) == 0
    for bad in ("INV-{year}", "INV-{seq}-{month}", "{seq:d", "X" * 40 + "{seq}"):
        with pytest.raises(ValidationFailed):
            check_format(bad)


def test_numbers_follow_each_other_per_series(session, clock):
    numbers = [allocate_number(session, "INV", DocumentType.INVOICE, date(2026, 1, 5)) for _ in range(3)]
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert allocate_number(session, "CN", DocumentType.CREDIT_NOTE, date(2026, 1, 5)) == "CN-2026-000001"
    assert allocate_number(session, "INV", DocumentType.INVOICE, date(2027, 1, 1)) == "INV-2027-000001"
    with pytest.raises(Conflict):
        allocate_number(session, "INV", DocumentType.CREDIT_NOTE, date(2026, 1, 5))
    with pytest.raises(NotFound):
        allocate_number(session, "NOPE", DocumentType.INVOICE, date(2026, 1, 5))


def test_configured_series(session, clock):
    configure_series(session, "SHOP", DocumentType.INVOICE, "S{seq:05d}")  # one counter for all years
    assert allocate_number(session, "SHOP", DocumentType.INVOICE, date(2026, 12, 31)) == "S00001"
    assert allocate_number(session, "SHOP", DocumentType.INVOICE, date(2027, 1, 1)) == "S00002"
    with pytest.raises(Conflict):
        configure_series(session, "SHOP", DocumentType.INVOICE, "T{seq:05d}")
    configure_series(session, "INV", DocumentType.INVOICE, "F{year}/{seq:04d}", year=2028)
    assert allocate_number(session, "INV", DocumentType.INVOICE, date(2028, 3, 1)) == "F2028/0001"
    assert (
        allocate_number(session, "INV", DocumentType.INVOICE, date(2029, 3, 1)) == "F2029/0001"
    )  # latest format
    with pytest.raises(ValidationFailed):
        configure_series(session, "INV", DocumentType.INVOICE, "F{year}/{seq:04d}")  # which year?


def test_a_rolled_back_finalisation_leaves_no_hole(session, clock, account):
    first = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], kind="a"))
    second = create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], kind="b"))
    session.flush()
    savepoint = session.begin_nested()
    assert finalise(session, clock, first.id, SELLER).number == "INV-2026-000001"
    savepoint.rollback()
    assert finalise(session, clock, second.id, SELLER).number == "INV-2026-000001"
    session.refresh(first)
    assert (first.state, first.number) == ("draft", None)
    assert finalise(session, clock, first.id, SELLER).number == "INV-2026-000002"


def _prepare(url: str, drafts: int) -> list[int]:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with session_scope(make_sessionmaker(engine)) as session:
        account = new_account(session, clock)
        ids = [
            create_draft(session, clock, draft_for(account, [ln("1", "1", "10")], kind=f"k{i}")).id
            for i in range(drafts)
        ]
    engine.dispose()
    return ids


def test_concurrent_finalisations_get_exactly_1_to_n(fresh_db_url):
    """Workers on their own connections finalise at the same time; some roll back on purpose."""
    ids = _prepare(fresh_db_url, 40)
    engine = create_db_engine(fresh_db_url, echo=False)
    clock = TestClock(datetime(2026, 2, 1, 6, tzinfo=UTC))
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(chunk: list[int]) -> None:
        try:
            start.wait()
            for n, invoice_id in enumerate(chunk):
                conn = engine.connect()
                if engine.dialect.name == "sqlite":
                    conn.info["immediate"] = True  # BEGIN IMMEDIATE: take the write lock first
                session = Session(bind=conn)
                try:
                    finalise(session, clock, invoice_id, SELLER)
                    if n % 5 == 4:
                        raise RuntimeError("crash before commit")
                    session.commit()
                except RuntimeError:
                    session.rollback()
                finally:
                    session.close()
                    conn.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with engine.connect() as conn:
        numbers = conn.execute(text("SELECT number FROM invoices WHERE number IS NOT NULL")).scalars().all()
        drafts = conn.execute(text("SELECT count(*) FROM invoices WHERE state = 'draft'")).scalar_one()
    engine.dispose()
    assert drafts == 8  # every fifth finalisation rolled back
    assert sorted(numbers) == [f"INV-2026-{n:06d}" for n in range(1, 33)]


def test_sequence_objects_are_not_used():
    """The numbering module uses no database sequence (sequences leave holes on rollback)."""
    import inspect

    from telbill.invoicing import numbering, repository

    for module in (numbering, repository):
        assert "Sequence(" not in inspect.getsource(module)
