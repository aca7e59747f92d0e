"""`telbill invoices ...` through the real entry point, on a database of its own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.cli.main import app
from telbill.db.engine import create_db_engine, make_sessionmaker, session_scope
from telbill.db.models import load_all_models
from telbill.invoicing import get_invoice_by_number, store_document
from tests.invoicing.test_store_support import issued, ln, new_account, new_clock

runner = CliRunner()


@pytest.fixture
def db(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    clock = new_clock()
    with session_scope(make_sessionmaker(engine)) as session:
        account = new_account(session, clock)
        first = issued(
            session, clock, account, [ln("1", "1", "100"), ln("2", "2", "10", rate="5.5")], kind="a"
        )
        second = issued(session, clock, account, [ln("1", "1", "50")], kind="b")
        store_document(session, second.id, "pdf", b"%PDF-1.7 stored")
        numbers = (first.number, second.number, account.number)
    yield fresh_db_url, engine, numbers
    engine.dispose()


def run(url, *args):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--database-url", url, "invoices", *args], catch_exceptions=True)


def test_list_show_credit_void_download(db, tmp_path):
    url, engine, (first, second, account) = db
    listed = run(url, "list", "--account", account)
    assert listed.exit_code == 0, listed.output
    assert first in listed.output and second in listed.output

    shown = run(url, "show", first)
    assert shown.exit_code == 0, shown.output
    assert "VAT" in shown.output and "141.10" in shown.output  # 100 + 20 + 20 + 1.10

    credited = run(url, "credit-note", first, "--line", "2:1", "--reason", "Outage")
    assert credited.exit_code == 0, credited.output
    assert "CN-2026-000001" in credited.output

    refused = run(url, "credit-note", first, "--amount", "1000", "--reason", "Too much")
    assert refused.exit_code != 0

    voided = run(url, "void", first, "--reason", "Duplicate")
    assert voided.exit_code == 0, voided.output
    assert "CN-2026-000002" in voided.output
    with Session(engine) as session:
        invoice = get_invoice_by_number(session, first)
        assert invoice.state == "void" and invoice.amount_credited == Decimal("141.10")

    out = tmp_path / "second.pdf"
    downloaded = run(url, "download", second, "--output", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    assert out.read_bytes() == b"%PDF-1.7 stored"
    assert run(url, "list", "--state", "void").output.count(first) == 1


def test_download_renders_and_stores_the_pdf_on_first_request(db, tmp_path):
    url, engine, (first, _, _) = db
    out = tmp_path / "first.pdf"
    downloaded = run(url, "download", first, "--output", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    with Session(engine) as session:
        from telbill.invoicing import get_document

        stored = get_document(session, get_invoice_by_number(session, first).id, "pdf")
        assert stored is not None and stored.data == pdf
