"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from telbill.db.engine import create_db_engine
from telbill.db.migrate import current, upgrade
from telbill.db.models import load_all_models


def test_upgrade_from_empty_matches_the_models(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    try:
        upgrade(engine)
        assert current(engine) is not None
        metadata = load_all_models().metadata
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    try:
        upgrade(engine)
        first = current(engine)
        upgrade(engine)
        assert current(engine) == first
    finally:
        engine.dispose()


def test_upgrade_installs_the_invoice_immutability_triggers(fresh_db_url):
    from sqlalchemy import text

    engine = create_db_engine(fresh_db_url)
    try:
        upgrade(engine)
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            if engine.dialect.name == "sqlite"
            else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        )
        with engine.connect() as conn:
            names = {row[0] for row in conn.execute(text(query))}
        assert any("invoice" in n for n in names), names
    finally:
        engine.dispose()
