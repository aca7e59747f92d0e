from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from telbill.api.app import create_app
from telbill.api.keys import create_key
from telbill.core.clock import TestClock
from telbill.core.settings import Settings
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models


@pytest.fixture
def api_env(fresh_db_url: str) -> Iterator[dict]:
    """An app on an empty database of its own, with a write key and a read-only key."""
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = TestClock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    with session_scope(make_sessionmaker(engine)) as session:
        _, writer = create_key(session, clock, "crm", ["read", "write"])
        _, reader = create_key(session, clock, "dashboard", ["read"])
    app = create_app(Settings(database_url=fresh_db_url), engine=engine, clock=clock)
    yield {"app": app, "engine": engine, "clock": clock, "writer": writer, "reader": reader}
    engine.dispose()


@pytest.fixture
def client(api_env: dict) -> TestClient:
    return TestClient(api_env["app"])
