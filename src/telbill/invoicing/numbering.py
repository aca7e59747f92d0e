"""Gapless invoice numbers: the next value of a series, taken inside the finalising transaction.

No database sequence: a sequence hands out values that a rolled-back transaction never gives
back, which leaves holes. Here the counter is a row of `invoice_number_series`, locked until the
transaction ends (`SELECT ... FOR UPDATE` on PostgreSQL, the database write lock on SQLite), so
a rollback returns the number with everything else and concurrent finalisations queue on it.

A series is configured per document type and, when its format names `{year}`, counts per year
(the year of the issue date); a format without `{year}` counts forever (row year 0).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from telbill.core.errors import Conflict, NotFound, ValidationFailed
from telbill.invoicing import repository
from telbill.invoicing.content import DocumentType

ALL_YEARS = 0


@dataclass(frozen=True, slots=True)
class SeriesTemplate:
    document_type: DocumentType
    format: str


DEFAULT_SERIES: dict[str, SeriesTemplate] = {
    "INV": SeriesTemplate(DocumentType.INVOICE, "INV-{year}-{seq:06d}"),
    "CN": SeriesTemplate(DocumentType.CREDIT_NOTE, "CN-{year}-{seq:06d}"),
}


def check_format(fmt: str) -> str:
    """A format names `seq` (and optionally `year`), nothing else, and renders within 40 characters."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None}
        sample = fmt.format(year=2099, seq=999_999_999)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationFailed(f"number format {fmt!r} is not valid: {exc}") from None
    problems = []
    if "seq" not in fields:
        problems.append("it must contain {seq}, e.g. {seq:06d}")
    if fields - {"seq", "year"}:
        problems.append(f"only {{year}} and {{seq}} may appear, found {sorted(fields - {'seq', 'year'})}")
    if len(sample) > 40:
        problems.append("numbers would be longer than 40 characters")
    if problems:
        raise ValidationFailed(f"number format {fmt!r} is not valid", details=problems)
    return fmt


def format_number(fmt: str, year: int, seq: int) -> str:
    return fmt.format(year=year, seq=seq)


def counter_year(fmt: str, issue_date: date) -> int:
    return issue_date.year if "{year" in fmt else ALL_YEARS


def configure_series(
    session: Session, code: str, document_type: DocumentType, fmt: str, *, year: int | None = None
) -> None:
    """Create a series (for one year, or for all years when the format has no `{year}`).

    Changing the format of a counter that already numbered a document is refused: the numbers of a
    series must stay one sequence.
    """
    check_format(fmt)
    row_year = ALL_YEARS if "{year" not in fmt else year
    if row_year is None:
        raise ValidationFailed(f"series {code}: a format with {{year}} is configured for a given year")
    row = repository.series_row(session, code, row_year)
    if row is None:
        repository.add(session, repository.new_series(code, row_year, document_type.value, fmt))
        return
    if row.next_value > 1 and (row.format != fmt or row.document_type != document_type.value):
        raise Conflict(f"series {code} ({row_year or 'all years'}) has issued numbers; its format is fixed")
    row.format, row.document_type = fmt, document_type.value


def _template(session: Session, code: str) -> SeriesTemplate:
    latest = repository.latest_series_row(session, code)
    if latest is not None:
        return SeriesTemplate(DocumentType(latest.document_type), latest.format)
    if code in DEFAULT_SERIES:
        return DEFAULT_SERIES[code]
    raise NotFound(f"number series {code!r} is not configured")


def allocate_number(session: Session, code: str, document_type: DocumentType, issue_date: date) -> str:
    """The next number of the series for a document issued on `issue_date`; the counter stays locked
    until the caller's transaction ends."""
    template = _template(session, code)
    year = counter_year(template.format, issue_date)
    if repository.series_row(session, code, year) is None:
        repository.ensure_series_row(session, code, year, template.document_type.value, template.format)
    fmt, doc_type, seq = repository.take_next_value(session, code, year)
    if doc_type != document_type.value:
        raise Conflict(f"series {code} numbers documents of type {doc_type}, not {document_type.value}")
    return format_number(fmt, issue_date.year, seq)
