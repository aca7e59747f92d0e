"""Database fixtures: SQLite by default, PostgreSQL when TELBILL_TEST_DATABASE_URL is set.

Each test gets a session inside a transaction that is rolled back, so tests never see each
other's rows. Tests that must commit (CLI, crash tests) ask for `fresh_db_url`: an empty
database of their own. Any test touching the database is marked `db` and runs on both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("default")

PG_URL = os.environ.get("TELBILL_TEST_DATABASE_URL")
DB_FIXTURES = {"session", "engine", "db_url", "fresh_db_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _create_pg_database() -> str:
    base = make_url(PG_URL)
    name = f"telbill_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    base = make_url(PG_URL)
    name = make_url(url).database
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(tmp_dir: os.PathLike[str]) -> str:
    if PG_URL:
        return _create_pg_database()
    return f"sqlite:///{os.fspath(tmp_dir)}/telbill-{uuid.uuid4().hex[:8]}.db"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = new_database_url(tmp_path_factory.mktemp("db"))
    yield url
    if PG_URL:
        _drop_pg_database(url)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_db_engine(db_url)
    load_all_models().metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one outer transaction, rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def fresh_db_url(tmp_path: os.PathLike[str]) -> Iterator[str]:
    """An empty database of the test's own (no tables): for migrations, CLI and crash tests."""
    url = new_database_url(tmp_path)
    yield url
    if PG_URL:
        _drop_pg_database(url)
