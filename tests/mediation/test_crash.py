"""A process killed mid-import, then rerun, leaves the same database as one clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.synth.cdrs import demo_subscribers, generate_cdrs, write_cdrs

from ..conftest import PG_URL, _drop_pg_database, new_database_url

SCRIPT = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
import polars as pl
from sqlalchemy.orm import Session
from telbill.core.clock import TestClock
from telbill.db.engine import create_db_engine
from telbill.mediation.schema import INTERVAL_SCHEMA
from telbill.mediation.service import import_file
from telbill.mediation.sources import BUILTIN_SOURCES

url, slow, *files = sys.argv[1:]
engine = create_db_engine(url)
t0 = datetime(2026, 1, 1, tzinfo=UTC)
subs = [line.split() for line in Path(files[0]).parent.joinpath("subs.txt").read_text().splitlines()]
intervals = pl.DataFrame([("msisdn", m, t0, None, i + 1, i + 1) for i, (m,) in enumerate(subs)],
                         schema=INTERVAL_SCHEMA, orient="row")
clock = TestClock(datetime(2026, 2, 1, tzinfo=UTC))
pause = (lambda n: time.sleep(0.05)) if slow == "slow" else None
for f in files:
    with Session(engine) as session:
        source = BUILTIN_SOURCES["telbill-csv"]
        import_file(session, clock, Path(f), source, intervals, batch_size=50, progress=pause)
        session.commit()
    print("committed", f, flush=True)
"""


def _snapshot(url: str) -> dict[str, object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {
            "files": conn.execute(
                text("select name, status, records_in, accepted from mediation_files order by name")
            ).all(),
            "usage": conn.execute(
                text(
                    "select u.record_id, f.name, u.line_no from usage_records u"
                    " join mediation_files f on f.id = u.file_id order by 1, 2"
                )
            ).all(),
            "partials": conn.execute(text("select record_id, status from partial_records order by 1")).all(),
            "suspense": conn.execute(
                text(
                    "select f.name, s.line_no, s.reason, s.status from suspense_records s"
                    " join mediation_files f on f.id = s.file_id order by 1, 2"
                )
            ).all(),
        }
    engine.dispose()
    return out


def _run(url: str, slow: str, files: list[Path], script: Path) -> subprocess.Popen[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, str(script), url, slow, *map(str, files)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.slow
def test_killed_import_then_rerun_equals_one_clean_run(fresh_db_url, tmp_path):
    subs = demo_subscribers(6, seed=2)
    data = tmp_path / "in"
    files = []
    for day in range(3):
        frame = generate_cdrs(subs, days=1, seed=day, start=datetime(2026, 1, 10 + day, tzinfo=UTC),
                              fault_share="0.1", events_per_day=40)  # fmt: skip
        files.append(write_cdrs(frame, data, "csv", stem=f"day{day}"))
    (data / "subs.txt").write_text("\n".join(s.msisdn for s in subs[:5]))
    script = tmp_path / "importer.py"
    script.write_text(SCRIPT)
    clean_url = new_database_url(tmp_path)
    try:
        for url in (fresh_db_url, clean_url):
            engine = create_db_engine(url)
            load_all_models().metadata.create_all(engine)
            engine.dispose()
        proc = _run(fresh_db_url, "slow", files, script)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("committed"), proc.stderr.read() if proc.stderr else ""
        time.sleep(0.3)  # well inside the second file
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        partial = _snapshot(fresh_db_url)
        assert [f[0] for f in partial["files"]] == ["day0.csv"]
        rerun = _run(fresh_db_url, "fast", files, script)
        assert rerun.wait() == 0, rerun.stderr.read() if rerun.stderr else ""
        clean = _run(clean_url, "fast", files, script)
        assert clean.wait() == 0
        assert _snapshot(fresh_db_url) == _snapshot(clean_url)
    finally:
        if PG_URL:
            _drop_pg_database(clean_url)
