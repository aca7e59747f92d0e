"""`telbill mediate watch DIR --once`: each new file imported once, filed away, a table per look."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from telbill.cli.context import console
from telbill.cli.main import app
from telbill.db.engine import create_db_engine
from telbill.db.models import load_all_models
from telbill.mediation.model import MediationFile, SuspenseRecord

from .conftest import write

LINE = "{rid},voice,0612345678,,0142685300,2026-01-10 10:00:00,60,,,,,,"


def _count(url: str, what) -> int:
    engine = create_db_engine(url)
    with Session(engine) as s:
        n = s.scalar(select(func.count()).select_from(what))
    engine.dispose()
    return int(n or 0)


def test_watch_once_imports_new_files_once_and_moves_them(fresh_db_url, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "width", 160)  # the whole table, unwrapped
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    engine.dispose()
    inbox, done, bad = tmp_path / "in", tmp_path / "done", tmp_path / "bad"
    inbox.mkdir()
    write(inbox / "a.csv", LINE.format(rid="a1"), LINE.format(rid="a2"))
    write(inbox / "b.csv", LINE.format(rid="b1"))
    (inbox / "c.csv").write_text("")  # empty: rejected
    (inbox / "d.csv.part").write_text("still being written")
    runner = CliRunner()
    args = ["--database-url", fresh_db_url, "mediate", "watch", str(inbox), "--once"]
    moves = ["--move-to", str(done), "--rejected-to", str(bad)]
    first = runner.invoke(app, [*args, *moves])
    assert first.exit_code == 0, first.output
    assert "a.csv" in first.output and "b.csv" in first.output and "EMPTY_FILE" in first.output
    assert "✗" not in first.output
    assert sorted(p.name for p in done.iterdir()) == ["a.csv", "b.csv"]
    assert [p.name for p in bad.iterdir()] == ["c.csv"]
    assert [p.name for p in inbox.iterdir()] == ["d.csv.part"]
    assert _count(fresh_db_url, SuspenseRecord) == 3  # nobody is subscribed: all suspended, none lost

    shutil.copy(done / "a.csv", inbox / "a-again.csv")  # the same content under another name
    second = runner.invoke(app, [*args, *moves])
    assert second.exit_code == 0, second.output
    assert "skipped" in second.output
    assert _count(fresh_db_url, SuspenseRecord) == 3
    assert _count(fresh_db_url, MediationFile) == 3

    third = runner.invoke(app, args)  # nothing new; files are left where they are without --move-to
    assert "no new files" in third.output


def test_mediate_paths_still_imports(fresh_db_url, tmp_path):
    engine = create_db_engine(fresh_db_url)
    load_all_models().metadata.create_all(engine)
    engine.dispose()
    path = write(tmp_path / "x.csv", LINE.format(rid="x1"))
    result = CliRunner().invoke(app, ["--database-url", fresh_db_url, "mediate", str(path)])
    assert result.exit_code == 0, result.output
    assert "x.csv" in result.output and "Mediation run" in result.output
    assert path.exists()
