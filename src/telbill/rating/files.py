"""Files at the edge of standalone rating: the catalog's `rating:` section, usage in, rated out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import yaml
from pydantic import ValidationError

from telbill.catalog.tariffs import RatingCatalog, format_path
from telbill.core.errors import ValidationFailed
from telbill.rating.tariff import CompiledRating, compile_rating


def load_rating(path: str | Path) -> CompiledRating:
    """Compile the tariffs of a catalog file (a full catalog, or a file with only `rating:`)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationFailed(f"{file}: cannot read the catalog ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{file}: malformed YAML", details=[str(exc)]) from None
    if not isinstance(data, dict) or "rating" not in data:
        raise ValidationFailed(f"{file}: the catalog has no `rating:` section")
    if "catalog" in data:
        from telbill.catalog import parse_catalog_file

        document = parse_catalog_file(file)
        catalog = document.rating or RatingCatalog()
    else:
        catalog = rating_from_data(data["rating"], str(file))
    return compile_rating(catalog, file.parent)


def rating_from_data(data: Any, source: str = "<rating>") -> RatingCatalog:
    """Validate a `rating:` section; each problem is listed with the path of its key."""
    try:
        return RatingCatalog.model_validate(data or {})
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        deeper = [e["loc"] for e in errors if e["type"] != "too_short"]
        for err in errors:
            if err["type"] == "too_short" and any(d[: len(err["loc"])] == err["loc"] for d in deeper):
                continue  # a list emptied by its own bad items, already reported
            base = ("rating", *err["loc"])
            issues = (err.get("ctx") or {}).get("issues")
            if err["type"] == "catalog_rules" and issues:
                problems += [f"{format_path((*base, *p))}: {m}" for p, m in issues]
            else:
                problems.append(f"{format_path(base)}: {err['msg']}")
        raise ValidationFailed(f"{source}: the rating section is invalid", details=problems) from None


def read_usage(path: str | Path, batch_size: int = 1_000_000) -> Iterator[pl.DataFrame]:
    """Usage from CSV or Parquet in batches, so a file of any size is rated in bounded memory."""
    file = Path(path)
    if not file.exists():
        raise ValidationFailed(f"{file}: no such usage file")
    if file.suffix == ".parquet":
        # pre_buffer=False: the default read cache keeps every row group read so far (RSS grows with the file)
        for batch in pq.ParquetFile(file, pre_buffer=False).iter_batches(batch_size=batch_size):
            yield pl.from_arrow(batch)  # type: ignore[misc]
    elif file.suffix == ".csv":
        reader = pl.scan_csv(file, schema_overrides=_CSV_TYPES)
        offset = 0
        while True:
            chunk = reader.slice(offset, batch_size).collect()
            if not chunk.height:
                return
            yield chunk
            offset += chunk.height
    else:
        raise ValidationFailed(f"{file}: usage files are .csv or .parquet")


_CSV_TYPES = {
    "other_party": pl.String,
    "visited_mcc": pl.String,
    "visited_mnc": pl.String,
    "record_id": pl.String,
    "account_id": pl.String,
    "start_time": pl.String,
}


class Writer:
    """Append batches of rated records (or rejects) to one CSV or Parquet file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.suffix not in (".csv", ".parquet"):
            raise ValidationFailed(f"{self.path}: output files are .csv or .parquet")
        self._parquet: pq.ParquetWriter | None = None
        self._csv_started = False
        self.rows = 0

    def write(self, frame: pl.DataFrame) -> None:
        self.rows += frame.height
        if self.path.suffix == ".parquet":
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
            return
        with self.path.open("a" if self._csv_started else "w", encoding="utf-8", newline="") as fh:
            frame.write_csv(fh, include_header=not self._csv_started)
        self._csv_started = True

    def close(self, empty: pl.DataFrame) -> None:
        if self._parquet is None and not self._csv_started:
            self.write(empty)
        if self._parquet is not None:
            self._parquet.close()
