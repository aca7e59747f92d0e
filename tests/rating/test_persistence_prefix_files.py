"""Prefix files of a catalog loaded in the database: read at load time (relative to the catalog
file) into the stored rating section, so database rating sees them."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.catalog import current_rating, load_catalog, parse_catalog_file
from telbill.cli.main import app
from telbill.core.errors import ValidationFailed
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.rating.model import RatedUsage
from telbill.rating.prefix_files import inline_prefix_files
from telbill.rating.service import rate_pending

from .world import CATALOG, add_usage, utc, world

INLINE = '{code: international.uk, prefixes: ["44"]}'
FILED = '{code: international.uk, prefixes: ["44"], prefix_file: sets/uk.csv}'


def catalog_file(tmp_path):
    """The rated world's catalog whose UK set also takes prefixes from `sets/uk.csv` (a header,
    44 again and 353: Ireland priced as the UK)."""
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "uk.csv").write_text("prefix,name\n44,UK\n353,Ireland\n")
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.replace(INLINE, FILED))
    return path


def test_prefix_file_is_stored_inline_and_rates_in_the_database(session, tmp_path):
    """A 150 s call to 353…: before, no set holds it (unknown destination); after loading the
    catalog file, it is in `international.uk`: 3 min, 2 free, 1 paid at 0.60."""
    w = world(session, utc(2026, 3, 20))
    sub = w.order(w.account(currency="EUR"), "plan-a", at=utc(2026, 3, 1))
    path = catalog_file(tmp_path)
    load_catalog(session, w.clock, inline_prefix_files(parse_catalog_file(path), path.parent))
    (uk,) = [s for s in current_rating(session).destination_sets if s.code == "international.uk"]
    assert (uk.prefixes, uk.prefix_file) == (("44", "353"), None)
    add_usage(session, sub, utc(2026, 3, 2, 9), to="353861234567", seconds=150)
    assert rate_pending(session, w.clock).rated == 1
    row = session.query(RatedUsage).one()
    assert (row.destination, row.amount_micros, row.free_quantity) == ("international.uk", 600_000, 120)


def test_catalog_load_command_reads_prefix_files_next_to_the_catalog(fresh_db_url, tmp_path):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    result = CliRunner().invoke(
        app, ["--database-url", fresh_db_url, "catalog", "load", str(catalog_file(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        section = current_rating(s)
    engine.dispose()
    (uk,) = [d for d in section.destination_sets if d.code == "international.uk"]
    assert (uk.prefixes, uk.prefix_file) == (("44", "353"), None)


def test_a_missing_prefix_file_is_refused_at_load(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.replace(INLINE, FILED))
    result = CliRunner().invoke(app, ["catalog", "load", str(path)])
    assert isinstance(result.exception, ValidationFailed)
    assert "rating.destination_sets[2].prefix_file: cannot read" in str(result.exception)
