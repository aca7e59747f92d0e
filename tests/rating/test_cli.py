"""`telbill rate` prices a file with no database; `telbill rate explain` shows the steps."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from telbill.cli.main import app

from .golden import GOLDEN
from .helpers import usage


def write_inputs(tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("rating:\n" + "\n".join("  " + line for line in GOLDEN.splitlines()), encoding="utf-8")
    batch = usage(
        {"id": "cross", "at": "2026-03-02T19:59:00+01:00", "dur": 120},
        {"id": "nowhere", "to": "99", "at": "2026-03-02T10:00:00+01:00", "dur": 60},
        {"id": "data", "type": "data", "at": "2026-03-02T10:00:00+01:00", "bytes": 1_000_001},
    )
    batch.write_csv(tmp_path / "usage.csv")
    batch.write_parquet(tmp_path / "usage.parquet")
    return catalog


def test_rate_a_csv_file(tmp_path):
    catalog = write_inputs(tmp_path)
    out = tmp_path / "rated.csv"
    args = ["rate", "--catalog", str(catalog), "--input", str(tmp_path / "usage.csv"), "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--tariff", "golden"])
    assert result.exit_code == 0, result.output
    rated = pl.read_csv(out)
    assert dict(rated.select("record_id", "amount_micros").iter_rows()) == {
        "cross": 900_000,
        "data": 1_100_000,
    }
    rejects = pl.read_csv(tmp_path / "rated.rejects.csv")
    assert rejects.select("record_id", "reject_reason").row(0) == ("nowhere", "no_tariff_for_destination")
    assert "2.000000 EUR" in result.output


def test_rate_parquet_in_small_batches(tmp_path):
    catalog = write_inputs(tmp_path)
    out = tmp_path / "rated.parquet"
    args = [
        "rate",
        "--catalog",
        str(catalog),
        "--input",
        str(tmp_path / "usage.parquet"),
        "--output",
        str(out),
    ]
    result = CliRunner().invoke(app, [*args, "--tariff", "golden", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(pl.read_parquet(out)["amount_micros"].to_list()) == [900_000, 1_100_000]


def test_explain_one_record(tmp_path):
    catalog = write_inputs(tmp_path)
    args = ["rate", "explain", "--catalog", str(catalog), "--input", str(tmp_path / "usage.csv")]
    result = CliRunner().invoke(app, [*args, "--record-id", "cross", "--tariff", "golden"])
    assert result.exit_code == 0, result.output
    assert "part [0, 60) of the event in band day" in result.output
    assert result.output.strip().endswith("amount 900000 micros EUR")


def test_unknown_tariff_is_a_clear_error(tmp_path):
    catalog = write_inputs(tmp_path)
    args = [
        "rate",
        "--catalog",
        str(catalog),
        "--input",
        str(tmp_path / "usage.csv"),
        "--output",
        str(tmp_path / "o.csv"),
    ]
    result = CliRunner().invoke(app, [*args, "--tariff", "nope"])
    assert result.exit_code != 0
    assert "unknown tariff 'nope'" in str(result.exception)


def test_a_full_catalog_file_is_validated_whole(tmp_path):
    """A file with a `catalog:` header goes through the catalog parser, which embeds the rating section."""
    write_inputs(tmp_path)
    full = tmp_path / "full.yaml"
    body = "\n".join("  " + line for line in GOLDEN.splitlines())
    full.write_text(f"catalog: {{name: demo}}\nrating:\n{body}\n", encoding="utf-8")
    args = [
        "rate",
        "--catalog",
        str(full),
        "--input",
        str(tmp_path / "usage.csv"),
        "--output",
        str(tmp_path / "o.csv"),
    ]
    result = CliRunner().invoke(app, [*args, "--tariff", "golden"])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(tmp_path / "o.csv").height == 2
