"""Normalisation: staging text -> the typed usage schema, with rejects for what cannot be read.

Numbers go to E.164 digits (no '+') by the source's numbering plan. phonenumbers is slow per call,
so only the distinct numbers not seen before are parsed, and the result is joined back: a batch of
100,000 records usually holds a few thousand distinct numbers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import phonenumbers
import polars as pl

from telbill.mediation.schema import USAGE_SCHEMA, USAGE_TYPES, UTC_US, Check, Reason, split_by_checks
from telbill.mediation.sources import SourceConfig

INT_FIELDS = ("duration_s", "volume_up", "volume_down", "rating_group", "record_sequence")
TRUE_TEXT = ("true", "1", "yes", "y", "t")
FALSE_TEXT = ("false", "0", "no", "n", "f")
_PUNCTUATION = r"[\s\-\.\(\)/]"
ISO_AWARE = "%Y-%m-%dT%H:%M:%S%.f%z"
ISO_NAIVE = "%Y-%m-%dT%H:%M:%S%.f"
_NAIVE_SPACE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_NAIVE_T = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


@dataclass
class NumberBook:
    """Memo of number -> E.164 digits (None = not a number), kept across batches of one run."""

    region: str = "FR"
    max_size: int = 2_000_000
    known: dict[str, str | None] = field(default_factory=dict)

    def lookup(self, values: pl.Series) -> pl.DataFrame:
        """A (raw, e164) frame for the distinct non-null values given. Numbers of the home plan
        written plainly are settled by its patterns in one vectorised pass (`home_plan`); only
        the others are parsed by phonenumbers, once each."""
        distinct = values.drop_nulls().unique()
        fast = _home_numbers(distinct, self.region)
        if fast is not None:
            distinct = distinct.filter(~distinct.is_in(fast["_raw"].implode()))
        if len(self.known) + len(distinct) > self.max_size:
            self.known.clear()
        raws = distinct.to_list()
        known = self.known
        for raw in raws:
            if raw not in known:
                known[raw] = to_e164(raw, self.region)
        slow = pl.DataFrame(
            {"_raw": raws, "_e164": [known[r] for r in raws]},
            schema={"_raw": pl.String, "_e164": pl.String},
        )
        return slow if fast is None else pl.concat([fast, slow])


@dataclass(frozen=True)
class HomePlan:
    """What phonenumbers checks for a number of one country, as vectorisable rules: the national
    prefix, the country code, and (pattern, lengths) of the general and of each type description."""

    country_code: str
    national_prefix: str
    general: tuple[str, tuple[int, ...]]
    types: tuple[tuple[str, tuple[int, ...]], ...]


_TYPE_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


@functools.cache
def home_plan(region: str) -> HomePlan | None:
    """The plan of `region` when its numbers can be checked without phonenumbers' parser: a country
    code of its own, the national prefix "0" stripped as is (no transform rule)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None:
        return None
    if phonenumbers.region_codes_for_country_code(meta.country_code) != (region,):
        return None
    if meta.national_prefix != "0" or meta.national_prefix_for_parsing not in (None, "0"):
        return None
    if meta.national_prefix_transform_rule or meta.general_desc is None:
        return None

    def rule(desc: object) -> tuple[str, tuple[int, ...]] | None:
        pattern = getattr(desc, "national_number_pattern", None)
        if not pattern:
            return None
        return pattern, tuple(getattr(desc, "possible_length", None) or ())

    general = rule(meta.general_desc)
    if general is None:
        return None
    types = tuple(r for name in _TYPE_DESCS if (r := rule(getattr(meta, name, None))) is not None)
    return HomePlan(str(meta.country_code), "0", general, types)


def _home_numbers(distinct: pl.Series, region: str) -> pl.DataFrame | None:
    """(raw, e164) for the values that are valid numbers of the home plan written as +CC…, CC… (7
    digits or more) or 0… (national); None when the region has no vectorisable plan. A value it
    does not settle (invalid, or written otherwise) is left to phonenumbers."""
    plan = home_plan(region)
    if plan is None or distinct.is_empty():
        return None
    cc = plan.country_code
    raw = pl.col("_raw")
    nsn = (
        pl.when(raw.str.contains(rf"^\+{cc}[1-9]\d*$"))
        .then(raw.str.slice(1 + len(cc)))
        .when(raw.str.contains(rf"^{cc}[1-9]\d*$") & (raw.str.len_chars() > 6))
        .then(raw.str.slice(len(cc)))
        .when(raw.str.contains(rf"^{plan.national_prefix}[1-9]\d*$"))
        .then(raw.str.slice(len(plan.national_prefix)))
    )
    frame = pl.DataFrame({"_raw": distinct}).with_columns(_nsn=nsn).filter(pl.col("_nsn").is_not_null())
    valid = _matches(plan.general) & pl.any_horizontal(_matches(t) for t in plan.types)
    try:
        return frame.filter(valid).select("_raw", (pl.lit(cc) + pl.col("_nsn")).alias("_e164"))
    except pl.exceptions.ComputeError:  # a pattern the Rust regex engine does not take: parse all
        return None


def _matches(rule: tuple[str, tuple[int, ...]]) -> pl.Expr:
    pattern, lengths = rule
    ok = pl.col("_nsn").str.contains(f"^(?:{pattern})$")
    return ok & pl.col("_nsn").str.len_chars().is_in(list(lengths)) if lengths else ok


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
        _type=_usage_type(source),
        _partial=pl.when(pl.col("partial").str.to_lowercase().is_in(TRUE_TEXT))
        .then(True)
        .when(pl.col("partial").is_null() | pl.col("partial").str.to_lowercase().is_in(FALSE_TEXT))
        .then(False)
        .otherwise(None),
        _start=parse_times(staging["start_time"], source),
    )
    typed = _numbers(typed, book)
    good, rejects = split_by_checks(typed, _problems())
    return good.select(_usage_columns(source)), rejects


def _usage_type(source: SourceConfig) -> pl.Expr:
    raw = pl.col("usage_type")
    mapped = raw.replace_strict(source.usage_types, default=raw) if source.usage_types else raw
    return mapped.str.to_lowercase()


def parse_times(text: pl.Series, source: SourceConfig) -> pl.Series:
    """Start times to UTC. The batch's dominant layout is parsed in one cheap pass; only values it
    cannot read go through the general parser (`_parse_time`), which gives the same instant for
    every value the cheap pass reads."""
    fast = _fast_format(text, source)
    if fast is None:
        return pl.select(_parse_time(pl.lit(text), source)).to_series()
    naive = pl.lit(text).str.to_datetime(fast, strict=False, time_unit="us")
    out = pl.select(_localise(naive, source.timezone)).to_series()
    missed = (out.is_null() & text.is_not_null()).arg_true()
    if missed.len():
        slow = pl.select(_parse_time(pl.lit(text.gather(missed)), source)).to_series()
        out = out.scatter(missed, slow)
    return out.alias(text.name)


def _fast_format(text: pl.Series, source: SourceConfig) -> str | None:
    """A naive (wall-clock) format for the cheap pass, or None when the source writes offsets."""
    if source.date_format is not None:
        fmt = source.date_format
        return None if "%z" in fmt or "%Z" in fmt else fmt
    sample = text.drop_nulls().head(1).to_list()
    if sample and _NAIVE_SPACE.fullmatch(sample[0]):
        return "%Y-%m-%d %H:%M:%S"
    if sample and _NAIVE_T.fullmatch(sample[0]):
        return "%Y-%m-%dT%H:%M:%S"
    return None


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
    """E.164 of both numbers: the book maps each distinct value once, `replace_strict` maps back."""
    cleaned = frame.with_columns(
        _other_raw=pl.col("other_party").str.replace_all(_PUNCTUATION, ""),
        _msisdn_raw=pl.col("served_msisdn").str.replace_all(_PUNCTUATION, ""),
    )
    table = book.lookup(pl.concat([cleaned["_other_raw"], cleaned["_msisdn_raw"]]))
    old, new = table["_raw"], table["_e164"]
    return cleaned.with_columns(
        _other=pl.col("_other_raw").replace_strict(old, new, default=None, return_dtype=pl.String),
        _msisdn=pl.col("_msisdn_raw").replace_strict(old, new, default=None, return_dtype=pl.String),
    )


def _problems() -> list[Check]:
    """What can be wrong with a staging row once typed, in the order the first one wins."""
    checks: list[Check] = []
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
    return checks


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
