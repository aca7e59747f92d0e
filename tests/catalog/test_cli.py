"""`telbill catalog ...` via the real entry point: exit codes, no tracebacks, failed loads write nothing."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from telbill.catalog.model import CatalogOfferVersion
from telbill.cli.main import main
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from tests.catalog.texts import BASE, WITH_V2


def telbill(*args: str) -> tuple[int, str]:
    """Run `telbill ARGS` as the console script does; return (exit code, stdout + stderr with
    whitespace collapsed, since Rich wraps long lines)."""
    runner = CliRunner()
    with runner.isolation() as (_out, _err, mixed):
        argv, sys.argv = sys.argv, ["telbill", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = argv
        return code, " ".join(mixed.getvalue().decode().split())


@pytest.fixture
def db(fresh_db_url):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    yield fresh_db_url, engine
    engine.dispose()


def versions_in(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(CatalogOfferVersion))


def test_validate_needs_no_database_and_reports_problems_with_exit_2(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    code, out = telbill("catalog", "validate", str(good))
    assert code == 0 and "valid" in out and "2 offers" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace('"10.00"', "10.5"))
    code, out = telbill("catalog", "validate", str(bad))
    assert code == 2
    assert "10.5 is a float" in out and "Traceback" not in out
    code, out = telbill("catalog", "validate", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such catalog file" in out


def test_load_twice_then_show_and_export_round_trip(db, tmp_path):
    url, _ = db
    source = tmp_path / "cat.yaml"
    source.write_text(WITH_V2)
    code, out = telbill("--database-url", url, "catalog", "load", str(source))
    assert code == 0, out
    assert "fibre-a v2" in out
    code, out = telbill("--database-url", url, "catalog", "load", str(source))
    assert code == 0 and "nothing to do" in out
    code, out = telbill("--database-url", url, "catalog", "show")
    assert code == 0 and "plan-a" in out and "fibre-a" in out
    code, out = telbill("--database-url", url, "catalog", "show", "plan-a")
    assert code == 0 and "graduated" in out and "version 1" in out
    exported = tmp_path / "export.yaml"
    code, out = telbill("--database-url", url, "catalog", "export", "--output", str(exported))
    assert code == 0, out
    code, out = telbill("--database-url", url, "catalog", "load", str(exported))
    assert code == 0 and "nothing to do" in out


def test_a_refused_load_exits_2_and_changes_nothing(db, tmp_path):
    url, engine = db
    first = tmp_path / "v1.yaml"
    first.write_text(BASE)
    assert telbill("--database-url", url, "catalog", "load", str(first))[0] == 0
    before = versions_in(engine)
    edited = tmp_path / "edited.yaml"
    edited.write_text(WITH_V2.replace('"10.00"', '"12.00"'))  # appends fibre-a v2 but also edits plan-a v1
    code, out = telbill("--database-url", url, "catalog", "load", str(edited))
    assert code == 2
    assert "is published and cannot change" in out and "Traceback" not in out
    assert versions_in(engine) == before


def test_show_unknown_offer_exits_2(db):
    url, _ = db
    code, out = telbill("--database-url", url, "catalog", "show", "nope")
    assert code == 2 and "no offer with code 'nope'" in out
