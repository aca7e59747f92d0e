"""Readers turn a file into staging batches of bounded size, whatever its format.

A problem with one record becomes a reject (with the raw line); a problem with the whole file
(empty, wrong encoding, truncated, unreadable) raises `FileRejected` with a reason, never a
traceback. Gzip-compressed inputs are recognised by their magic bytes, for every format.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from telbill.core.errors import TelbillError
from telbill.mediation.schema import STAGING_FIELDS, STAGING_SCHEMA, Reason, empty_rejects
from telbill.mediation.sources import SourceConfig

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_BATCH = 100_000


class FileRejected(TelbillError):
    """The whole file cannot be read; `reason` is a stable code (EMPTY_FILE, BAD_ENCODING, ...)."""

    code = "file_rejected"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ReadBatch:
    """Staging rows (every field as text) and the rows that could not even be split into fields."""

    staging: pl.DataFrame
    rejects: pl.DataFrame


class Reader(Protocol):
    def batches(self, path: Path, file_id: int, batch_size: int = DEFAULT_BATCH) -> Iterator[ReadBatch]: ...


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    """The file's content, decompressed on the fly when it is gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[return-value]


def read_all(path: Path) -> bytes:
    try:
        with open_binary(path) as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise FileRejected("BAD_COMPRESSION", f"{path.name}: cannot decompress: {exc}") from None


def to_staging(frame: pl.DataFrame, source: str, file_id: int) -> pl.DataFrame:
    """Complete a frame holding some staging fields (as text) and line_no into the staging schema."""
    cols = [
        pl.lit(source).alias("source"),
        pl.lit(file_id, pl.Int64).alias("file_id"),
        pl.col("line_no").cast(pl.Int64),
    ]
    for name in STAGING_FIELDS:
        if name in frame.columns:
            cols.append(pl.col(name).cast(pl.String).str.strip_chars().replace("", None).alias(name))
        else:
            cols.append(pl.lit(None, pl.String).alias(name))
    return frame.select(cols).match_to_schema(STAGING_SCHEMA)


def line_rejects(
    items: list[tuple[int, str]], source: str, file_id: int, reason: Reason, message: str
) -> pl.DataFrame:
    if not items:
        return empty_rejects()
    return pl.DataFrame(
        {
            "source": [source] * len(items),
            "file_id": [file_id] * len(items),
            "line_no": [n for n, _ in items],
            "record_id": [None] * len(items),
            "reason": [reason.value] * len(items),
            "message": [message] * len(items),
            "raw": [t for _, t in items],
        },
        schema=empty_rejects().schema,
    )


# --- CSV ----------------------------------------------------------------------------------------


class CsvReader:
    """Arrow's streaming CSV reader, every column as text; ragged rows become rejects."""

    block_size = 8 << 20  # bytes Arrow parses at a time

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def batches(self, path: Path, file_id: int, batch_size: int = DEFAULT_BATCH) -> Iterator[ReadBatch]:
        """Parse with threads while every row is well formed; at the first ragged row, re-read from
        the start serially (where Arrow reports line numbers), skipping the rows already given."""
        names = self._column_names(path)
        wanted = self._wanted(names, path)
        first_line = 2 if self.source.has_header else 1
        done = 0
        ragged: list[tuple[int, str]] = []
        reader = self._open(path, names, wanted, ragged, threads=True)
        for table in self._tables(reader, path, batch_size):
            if ragged:
                break
            frame = self._frame(table, wanted)
            lines = pl.int_range(done, done + frame.height, dtype=pl.Int64, eager=True) + first_line
            done += frame.height
            staging = to_staging(frame.with_columns(lines.alias("line_no")), self.source.name, file_id)
            yield from _split(staging, empty_rejects(), batch_size)
        else:
            return
        yield from self._serial(path, file_id, batch_size, names, wanted, skip=done)

    def _tables(self, reader, path: Path, batch_size: int) -> Iterator[pa.Table]:  # type: ignore[no-untyped-def]
        """Arrow record batches gathered into tables of about `batch_size` rows."""
        pending: list[pa.RecordBatch] = []
        rows = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
                raise FileRejected("UNREADABLE", f"{path.name}: {_arrow_message(exc)}") from None
            pending.append(batch)
            rows += batch.num_rows
            if rows >= batch_size:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            yield pa.Table.from_batches(pending)

    @staticmethod
    def _frame(table: pa.Table, wanted: dict[str, str]) -> pl.DataFrame:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.rename({col: field for field, col in wanted.items()})

    def _serial(
        self, path: Path, file_id: int, batch_size: int, names: list[str], wanted: dict[str, str], skip: int
    ) -> Iterator[ReadBatch]:
        bad: list[tuple[int, str]] = []
        reader = self._open(path, names, wanted, bad, threads=False)
        first_line = 2 if self.source.has_header else 1
        done = reported = 0
        skipped: list[int] = []  # every ragged line so far: each shifts the rows after it
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
                raise FileRejected("UNREADABLE", f"{path.name}: {_arrow_message(exc)}") from None
            frame = self._frame(pa.Table.from_batches([batch]), wanted)
            skipped += [n for n, _ in bad[reported:]]
            reported = len(bad)
            lines = _line_numbers(done, frame.height, first_line, skipped)
            done += frame.height
            frame = frame.with_columns(pl.Series("line_no", lines)).filter(pl.int_range(pl.len()) >= skip)
            skip = max(0, skip - batch.num_rows)
            rejects = line_rejects(
                bad, self.source.name, file_id, Reason.MISSING_FIELD, "wrong number of columns"
            )
            yield from _split(to_staging(frame, self.source.name, file_id), rejects, batch_size)
            del bad[:reported]
            reported = 0
        if bad:
            yield ReadBatch(
                to_staging(pl.DataFrame({"line_no": []}), self.source.name, file_id),
                line_rejects(bad, self.source.name, file_id, Reason.MISSING_FIELD, "wrong number of columns"),
            )

    def _column_names(self, path: Path) -> list[str]:
        """Header names, or generated positional names, read from the first line only."""
        try:
            with open_binary(path) as fh:
                first = fh.readline()
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRejected("BAD_COMPRESSION", f"{path.name}: cannot decompress: {exc}") from None
        if not first.strip():
            raise FileRejected("EMPTY_FILE", f"{path.name}: the file is empty")
        try:
            text = first.decode(self.source.encoding).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileRejected("BAD_ENCODING", f"{path.name}: not {self.source.encoding}: {exc}") from None
        row = next(csv.reader([text.rstrip("\r\n")], delimiter=self.source.delimiter))
        return row if self.source.has_header else [f"f{i}" for i in range(len(row))]

    def _wanted(self, names: list[str], path: Path) -> dict[str, str]:
        wanted: dict[str, str] = {}
        missing: list[str] = []
        for field in STAGING_FIELDS:
            col = self.source.column_of(field)
            name = f"f{col}" if isinstance(col, int) else col
            if name in names:
                wanted[field] = name
            elif field in self.source.fields:
                missing.append(f"{field} -> {col!r}")
        if missing:
            raise FileRejected(
                "BAD_LAYOUT", f"{path.name}: mapped columns not in the file: {', '.join(missing)}"
            )
        return wanted

    def _open(  # type: ignore[no-untyped-def]
        self, path: Path, names: list[str], wanted: dict[str, str], bad: list[tuple[int, str]], threads: bool
    ):
        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append((row.number or -1, row.text))
            return "skip"

        compression = "gzip" if is_gzip(path) else None
        try:
            stream = pa.input_stream(str(path), compression=compression)
            return pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    use_threads=threads,
                    block_size=self.block_size,
                    column_names=names,
                    skip_rows=1 if self.source.has_header else 0,
                    encoding=_arrow_encoding(self.source.encoding),
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.source.delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    include_columns=list(dict.fromkeys(wanted.values())),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
        except (pa.ArrowInvalid, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise FileRejected("UNREADABLE", f"{path.name}: {_arrow_message(exc)}") from None


def _arrow_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FileRejected("BAD_ENCODING", f"unknown encoding {name!r}") from None


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "UTF8" in text or "utf-8" in text.lower() or isinstance(exc, UnicodeDecodeError):
        return f"not valid text in the declared encoding ({text})"
    return text


def _line_numbers(done: int, count: int, first_line: int, bad_lines: list[int]) -> pl.Series:
    """Physical line numbers of good rows, given the lines that were skipped as ragged.

    The i-th skipped line (sorted) sits before good row `line - first_line - i`, so each good row
    moves down by the number of skipped lines sitting before it.
    """
    k = pl.int_range(done, done + count, dtype=pl.Int64, eager=True)
    inv = sorted(n for n in bad_lines if n > 0)
    if not inv:
        return k + first_line
    inv_adj = pl.Series([n - first_line - i for i, n in enumerate(inv)], dtype=pl.Int64)
    return k + first_line + inv_adj.search_sorted(k, side="right").cast(pl.Int64)


def ramp_up(batches: Iterator[ReadBatch], size: int) -> Iterator[ReadBatch]:
    """The same rows, the first batch cut in two, its first `size` rows alone: an import's database
    writes start once those are processed instead of a whole batch (the server is idle until then)."""
    first = next(batches, None)
    if first is None:
        return
    if size > 0 and 2 * size < first.staging.height:
        yield ReadBatch(first.staging.head(size), first.rejects)
        yield ReadBatch(first.staging.slice(size), empty_rejects())
    else:
        yield first
    yield from batches


def _split(staging: pl.DataFrame, rejects: pl.DataFrame, size: int) -> Iterator[ReadBatch]:
    if staging.height <= size:
        yield ReadBatch(staging, rejects)
        return
    for i, offset in enumerate(range(0, staging.height, size)):
        yield ReadBatch(staging.slice(offset, size), rejects if i == 0 else empty_rejects())


# --- JSON Lines ---------------------------------------------------------------------------------


class JsonlReader:
    """One JSON object per line; a line that is not an object becomes a reject with its text."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def batches(self, path: Path, file_id: int, batch_size: int = DEFAULT_BATCH) -> Iterator[ReadBatch]:
        keys = {field: str(self.source.column_of(field)) for field in STAGING_FIELDS}
        rows: list[dict[str, object]] = []
        bad: list[tuple[int, str]] = []
        seen_any = False
        for line_no, text in self._lines(path):
            if not text.strip():
                continue
            seen_any = True
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                bad.append((line_no, text))
                obj = None
                _ = exc
            if obj is not None and not isinstance(obj, dict):
                bad.append((line_no, text))
            elif isinstance(obj, dict):
                rows.append({"line_no": line_no} | {f: _text(obj.get(k)) for f, k in keys.items()})
            if len(rows) >= batch_size:
                yield self._batch(rows, bad, file_id)
                rows, bad = [], []
        if not seen_any:
            raise FileRejected("EMPTY_FILE", f"{path.name}: the file is empty")
        if rows or bad:
            yield self._batch(rows, bad, file_id)

    def _lines(self, path: Path) -> Iterator[tuple[int, str]]:
        try:
            with open_binary(path) as raw:
                text = io.TextIOWrapper(raw, encoding=self.source.encoding, errors="strict", newline="\n")
                yield from enumerate(text, start=1)
        except UnicodeDecodeError as exc:
            raise FileRejected("BAD_ENCODING", f"{path.name}: not {self.source.encoding}: {exc}") from None
        except LookupError:
            raise FileRejected("BAD_ENCODING", f"unknown encoding {self.source.encoding!r}") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRejected("BAD_COMPRESSION", f"{path.name}: cannot decompress: {exc}") from None

    def _batch(self, rows: list[dict[str, object]], bad: list[tuple[int, str]], file_id: int) -> ReadBatch:
        schema = {"line_no": pl.Int64} | {f: pl.String for f in STAGING_FIELDS}
        frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
        rejects = line_rejects(
            [(n, t.rstrip("\n")) for n, t in bad],
            self.source.name,
            file_id,
            Reason.BAD_VALUE,
            "not a JSON object",
        )
        return ReadBatch(to_staging(frame, self.source.name, file_id), rejects)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def reader_for(source: SourceConfig) -> Reader:
    if source.format == "csv":
        return CsvReader(source)
    if source.format == "jsonl":
        return JsonlReader(source)
    from telbill.mediation.ber import BerReader

    return BerReader(source)
