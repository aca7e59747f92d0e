"""Normalisation: staging text -> the typed usage schema, with rejects for what cannot be read.

Numbers go to E.164 digits (no '+') by the source's numbering plan. phonenumbers is slow per call,
so only the distinct numbers not seen before are parsed, and the result is joined back: a batch of
100,000 records usually holds a few thousand distinct numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
import polars as pl

from telbill.mediation.schema import USAGE_SCHEMA, USAGE_TYPES, UTC_US, Reason
from telbill.mediation.sources import SourceConfig

INT_FIELDS = ("duration_s", "volume_up", "volume_down", "rating_group", "record_sequence")
TRUE_TEXT = ("true", "1", "yes", "y", "t")
FALSE_TEXT = ("false", "0", "no", "n", "f")
_PUNCTUATION = r"[\s\-\.\(\)/]"
ISO_AWARE = "%Y-%m-%dT%H:%M:%S%.f%z"
ISO_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"


@dataclass
class NumberBook:
    """Memo of number -> E.164 digits (None = not a number), kept across batches of one run."""

    region: str = "FR"
    max_size: int = 2_000_000
    known: dict[str, str | None] = field(default_factory=dict)

    def lookup(self, values: pl.Series) -> pl.DataFrame:
        """A (raw, e164) frame for the distinct non-null values given."""
        distinct = values.drop_nulls().unique()
        if len(self.known) + len(distinct) > self.max_size:
            self.known.clear()
        for raw in distinct.to_list():
            if raw not in self.known:
                self.known[raw] = to_e164(raw, self.region)
        raws = distinct.to_list()
        return pl.DataFrame(
            {"_raw": raws, "_e164": [self.known[r] for r in raws]},
            schema={"_raw": pl.String, "_e164": pl.String},
        )


def to_e164(raw: str, region: str) -> str | None:
    """E.164 digits for a number written nationally (0612345678) or internationally (+33..., 0033...)."""
    if raw.isdigit() and 3 <= len(raw) <= 6 and raw[0] != "0":
        return raw  # a national short code (voicemail, services): kept as dialled
    text = raw if raw.startswith("+") or not raw.isdigit() or raw.startswith("0") else "+" + raw
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def normalise(
    staging: pl.DataFrame, source: SourceConfig, book: NumberBook
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed usage rows, and rejects (BAD_VALUE, BAD_TIMESTAMP, BAD_NUMBER, BAD_USAGE_TYPE)."""
    typed = staging.with_columns(
        *[pl.col(f).cast(pl.Int64, strict=False).alias(f"_{f}") for f in INT_FIELDS],
        _start=_parse_time(pl.col("start_time"), source),
        _type=_usage_type(source),
        _partial=pl.when(pl.col("partial").str.to_lowercase().is_in(TRUE_TEXT))
        .then(True)
        .when(pl.col("partial").is_null() | pl.col("partial").str.to_lowercase().is_in(FALSE_TEXT))
        .then(False)
        .otherwise(None),
    )
    typed = _numbers(typed, book)
    reason, message = _problems(typed)
    checked = typed.with_columns(_reason=reason, _message=message)
    bad = checked.filter(pl.col("_reason").is_not_null())
    rejects = bad.select(
        "source",
        "file_id",
        "line_no",
        "record_id",
        pl.col("_reason").alias("reason"),
        pl.col("_message").alias("message"),
        pl.lit(None, pl.String).alias("raw"),
    )
    good = checked.filter(pl.col("_reason").is_null()).select(_usage_columns(source))
    return good, rejects


def _usage_type(source: SourceConfig) -> pl.Expr:
    raw = pl.col("usage_type")
    mapped = raw.replace_strict(source.usage_types, default=raw) if source.usage_types else raw
    return mapped.str.to_lowercase()


def _parse_time(col: pl.Expr, source: SourceConfig) -> pl.Expr:
    """The source's format; ISO 8601 with an offset is always understood (recycled records use it)."""
    iso = col.str.replace(r"^(\d{4}-\d{2}-\d{2}) ", "${1}T").str.replace(r"Z$", "+00:00")
    aware = iso.str.to_datetime(ISO_AWARE, strict=False, time_unit="us").dt.convert_time_zone("UTC")
    if source.date_format is not None:
        if "%z" in source.date_format or "%Z" in source.date_format:
            custom = col.str.to_datetime(source.date_format, strict=False, time_unit="us")
            return pl.coalesce(custom.dt.convert_time_zone("UTC"), aware)
        naive = col.str.to_datetime(source.date_format, strict=False, time_unit="us")
        return pl.coalesce(_localise(naive, source.timezone), aware)
    naive = iso.str.to_datetime(ISO_NAIVE, strict=False, time_unit="us")
    return pl.coalesce(aware, _localise(naive, source.timezone))


def _localise(naive: pl.Expr, tz: str) -> pl.Expr:
    """Wall-clock times of the switch -> UTC. In the autumn overlap the first occurrence is taken."""
    local = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC").cast(UTC_US)


def _numbers(frame: pl.DataFrame, book: NumberBook) -> pl.DataFrame:
    cleaned = frame.with_columns(
        _other_raw=pl.col("other_party").str.replace_all(_PUNCTUATION, ""),
        _msisdn_raw=pl.col("served_msisdn").str.replace_all(_PUNCTUATION, ""),
    )
    table = book.lookup(pl.concat([cleaned["_other_raw"], cleaned["_msisdn_raw"]]))
    return (
        cleaned.join(table.rename({"_raw": "_other_raw", "_e164": "_other"}), on="_other_raw", how="left")
        .join(table.rename({"_raw": "_msisdn_raw", "_e164": "_msisdn"}), on="_msisdn_raw", how="left")
        .sort("line_no")
    )


def _problems(frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """The first problem of each row: (reason, message) expressions, null when the row is fine."""
    checks: list[tuple[pl.Expr, Reason, pl.Expr]] = []
    for f in INT_FIELDS:
        checks.append(
            (
                pl.col(f).is_not_null() & pl.col(f"_{f}").is_null(),
                Reason.BAD_VALUE,
                pl.format("{} is not an integer: {}", pl.lit(f), pl.col(f)),
            )
        )
    checks += [
        (
            pl.col("start_time").is_not_null() & pl.col("_start").is_null(),
            Reason.BAD_TIMESTAMP,
            pl.format("start_time cannot be read: {}", pl.col("start_time")),
        ),
        (
            pl.col("_type").is_not_null() & ~pl.col("_type").is_in(USAGE_TYPES),
            Reason.BAD_USAGE_TYPE,
            pl.format("unknown usage type: {}", pl.col("usage_type")),
        ),
        (
            pl.col("_partial").is_null(),
            Reason.BAD_VALUE,
            pl.format("partial is not a boolean: {}", pl.col("partial")),
        ),
        (
            pl.col("_msisdn_raw").is_not_null() & pl.col("_msisdn").is_null(),
            Reason.BAD_NUMBER,
            pl.format("served MSISDN is not a valid number: {}", pl.col("served_msisdn")),
        ),
        (
            pl.col("_other_raw").is_not_null() & pl.col("_other").is_null(),
            Reason.BAD_NUMBER,
            pl.format("other party is not a valid number: {}", pl.col("other_party")),
        ),
    ]
    reason: pl.Expr = pl.lit(None, pl.String)
    message: pl.Expr = pl.lit(None, pl.String)
    for cond, code, text in reversed(checks):
        reason = pl.when(cond).then(pl.lit(code.value)).otherwise(reason)
        message = pl.when(cond).then(text).otherwise(message)
    return reason, message


def _usage_columns(source: SourceConfig) -> list[pl.Expr]:
    return [
        pl.col("record_id"),
        pl.col("source"),
        pl.col("file_id"),
        pl.col("line_no"),
        pl.col("_type").alias("usage_type"),
        pl.col("_msisdn").alias("served_msisdn"),
        pl.col("served_imsi"),
        pl.col("_other").alias("other_party"),
        pl.col("_start").cast(UTC_US).alias("start_time"),
        pl.col("_duration_s").alias("duration_s"),
        pl.col("_volume_up").alias("volume_up"),
        pl.col("_volume_down").alias("volume_down"),
        pl.col("visited_mcc"),
        pl.col("visited_mnc"),
        (pl.col("visited_mcc").is_not_null() & (pl.col("visited_mcc") != source.home_mcc)).alias("roaming"),
        pl.col("cell_id"),
        pl.col("_rating_group").alias("rating_group"),
        pl.col("charging_id"),
        pl.col("_record_sequence").alias("record_sequence"),
        pl.col("cause_for_closing"),
        pl.col("_partial").alias("partial"),
        pl.lit(None, pl.Int64).alias("subscription_id"),
        pl.lit(None, pl.Int64).alias("account_id"),
    ]


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns in the order and types of USAGE_SCHEMA."""
    return frame.select([pl.col(n).cast(t) for n, t in USAGE_SCHEMA.items()])
