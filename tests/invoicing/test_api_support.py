"""Helpers of the Customer Bill API tests (no tests here): an app on a database of its own with
API keys, and a few invoices, a credit note and a draft written through the store's API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from telbill.api.app import create_app
from telbill.api.keys import create_key
from telbill.core.clock import TestClock
from telbill.core.settings import Settings
from telbill.db.base import Base
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models
from telbill.invoicing import (
    CreditSpec,
    DocumentAllowance,
    LineCredit,
    TaxCategory,
    create_draft,
    issue_credit_note,
)
from tests.conftest import PG_URL, _drop_pg_database, new_database_url
from tests.invoicing.test_store_support import SELLER, draft_for, issued, ln, new_account, new_clock

BASE = "/tmf-api/customerBillManagement/v4"
TMF678 = "TMF678-CustomerBill-v4.0.0.swagger.json"
FEB = (date(2026, 2, 1), date(2026, 2, 28))


@dataclass
class World:
    client: TestClient
    engine: Engine
    clock: TestClock
    writer: str
    reader: str
    ids: dict[str, int]  # first, second, note, draft, account, other
    numbers: dict[str, str]

    def auth(self, token: str | None = None, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token or self.reader}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **params):  # type: ignore[no-untyped-def]
        return self.client.get(BASE + path, params=params, headers=self.auth())

    def row_counts(self) -> dict[str, int]:
        with make_sessionmaker(self.engine)() as s:
            return {
                t.name: s.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables
            }


def _seed(session, clock: TestClock) -> tuple[dict[str, int], dict[str, str]]:  # type: ignore[no-untyped-def]
    account = new_account(session, clock, payment_terms_days=30, timezone="Europe/Paris", language="fr")
    other = new_account(session, clock, name="Bolt SARL", timezone="America/New_York", language="en")
    # 1028.80 + 20 % VAT (205.76) = 1234.56
    first = issued(session, clock, account, [ln("1", "1", "1028.80", description="Fibre Pro")], kind="a")
    clock.advance(timedelta(days=3))
    second = issued(
        session,
        clock,
        account,
        [ln("1", "2", "10", description="Mobile"), ln("2", "1", "5", rate="5.5"), ln("3", "3", "0.333333")],
        allowances=(DocumentAllowance("Welcome", Decimal("2.00"), TaxCategory.STANDARD, Decimal("20")),),
        kind="b",
    )
    clock.advance(timedelta(days=2))
    note = issue_credit_note(session, clock, second.id, CreditSpec(lines=(LineCredit("2"),)), reason="Outage")
    draft = create_draft(session, clock, draft_for(other, [ln("1", "1", "7.77")], period=FEB))
    ids = {"first": first.id, "second": second.id, "note": note.id, "draft": draft.id,
           "account": account.id, "other": other.id}  # fmt: skip
    numbers = {"first": first.number, "second": second.number, "note": note.number, "account": account.number}
    return ids, numbers


def _open_world(url: str) -> World:
    engine = create_db_engine(url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with session_scope(make_sessionmaker(engine)) as session:
        _, writer = create_key(session, clock, "crm", ["read", "write"])
        _, reader = create_key(session, clock, "dashboard", ["read"])
        ids, numbers = _seed(session, clock)
    app = create_app(Settings(database_url=url, seller=SELLER), engine=engine, clock=clock)
    return World(TestClient(app), engine, clock, writer, reader, ids, numbers)


@pytest.fixture
def world(fresh_db_url: str) -> Iterator[World]:
    """A world of the test's own, for tests that write."""
    w = _open_world(fresh_db_url)
    yield w
    w.engine.dispose()


@pytest.fixture(scope="module")
def read_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world shared by a module's tests that only read."""
    url = new_database_url(tmp_path_factory.mktemp("bills"))
    w = _open_world(url)
    yield w
    w.engine.dispose()
    if PG_URL:
        _drop_pg_database(url)
