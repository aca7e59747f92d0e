"""`telbill invoices render` through the real entry point: renders what is missing, then nothing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from telbill.cli.main import app
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models
from telbill.invoicing import get_document
from tests.invoicing.test_store_support import issued, ln, new_account, new_clock

runner = CliRunner()


@pytest.mark.slow
def test_render_all_missing_then_nothing(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with session_scope(make_sessionmaker(engine)) as session:
        account = new_account(session, clock)
        invoice_id = issued(session, clock, account, [ln("1", "1", "100")], kind="a").id
    args = ["--database-url", fresh_db_url, "invoices", "render"]
    refused = runner.invoke(app, args, catch_exceptions=True)
    assert refused.exit_code != 0
    first = runner.invoke(app, [*args, "--all-missing", "--workers", "1"], catch_exceptions=True)
    assert first.exit_code == 0, first.output
    assert "rendered and stored 1 " in first.output
    with session_scope(make_sessionmaker(engine)) as session:
        assert get_document(session, invoice_id, "pdf").data.startswith(b"%PDF")
    again = runner.invoke(app, [*args, "--all-missing"], catch_exceptions=True)
    assert again.exit_code == 0 and "no issued document is missing" in again.output
    engine.dispose()
