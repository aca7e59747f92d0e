"""Mediation: usage files in, normalised and guided usage records out, the rest in suspense."""

from telbill.mediation.ber import decode_record, encode_record, write_ber_file
from telbill.mediation.ingest import IngestResult, RecordResult, ingest_records, ingest_upload
from telbill.mediation.pipeline import BatchOutcome, process_batch
from telbill.mediation.prefetch import prefetch
from telbill.mediation.readers import FileRejected, ReadBatch, Reader, reader_for
from telbill.mediation.schema import INTERVAL_SCHEMA, USAGE_SCHEMA, Reason, UsageType, usage_arrow_schema
from telbill.mediation.service import (
    FileResult,
    Totals,
    expire_partials,
    finish_run,
    import_file,
    load_intervals,
    start_run,
)
from telbill.mediation.sources import BUILTIN_SOURCES, SourceConfig, load_sources, parse_sources
from telbill.mediation.suspense import RecycleResult, correct, drop, recycle

__all__ = [
    "BUILTIN_SOURCES",
    "INTERVAL_SCHEMA",
    "USAGE_SCHEMA",
    "BatchOutcome",
    "FileRejected",
    "FileResult",
    "IngestResult",
    "ReadBatch",
    "Reader",
    "Reason",
    "RecordResult",
    "RecycleResult",
    "SourceConfig",
    "Totals",
    "UsageType",
    "correct",
    "decode_record",
    "drop",
    "encode_record",
    "expire_partials",
    "finish_run",
    "import_file",
    "ingest_records",
    "ingest_upload",
    "load_intervals",
    "load_sources",
    "parse_sources",
    "prefetch",
    "process_batch",
    "reader_for",
    "recycle",
    "start_run",
    "usage_arrow_schema",
    "write_ber_file",
]
