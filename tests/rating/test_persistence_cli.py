"""`telbill demo` on a small operator mediates and rates a day of traffic; the database-backed
`rate run`, `rate explain ID` and `rerate` commands work on what it left."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.cli.main import app
from telbill.db.engine import create_db_engine
from telbill.rating.model import RatedUsage


def test_demo_rates_a_day_of_traffic_and_the_commands_work_on_it(fresh_db_url):
    runner = CliRunner()
    args = ["--database-url", fresh_db_url]
    keep = [] if fresh_db_url.startswith("sqlite") else ["--keep"]
    result = runner.invoke(app, [*args, "demo", "--accounts", "30", "--seed", "7", *keep])
    assert result.exit_code == 0, result.output
    assert "Mediation run 1" in result.output
    assert "records in = rated + failed" in result.output
    assert "Revenue by usage type and destination" in result.output
    engine = create_db_engine(fresh_db_url)
    with Session(engine) as s:
        rated = s.scalar(select(func.count()).select_from(RatedUsage))
        some = s.scalar(select(RatedUsage.usage_record_id).where(RatedUsage.pricing == "tariff").limit(1))
        some = some or s.scalar(select(RatedUsage.usage_record_id).limit(1))
    engine.dispose()
    assert rated and rated > 100
    again = runner.invoke(app, [*args, "rate", "run"])
    assert again.exit_code == 0, again.output
    explained = runner.invoke(app, [*args, "rate", "explain", str(some)])
    assert explained.exit_code == 0, explained.output
    assert "→ scope" in explained.output and "stored (rated usage" in explained.output
    missing = runner.invoke(app, [*args, "rate", "explain", "999999999"])
    assert missing.exit_code != 0
    rerated = runner.invoke(app, [*args, "rerate", "--from", "2000-01-01", "--to", "2100-01-01"])
    assert rerated.exit_code == 0, rerated.output
    assert "replaced 0" in rerated.output
