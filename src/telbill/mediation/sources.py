"""Source declarations: how each network element writes its files, declared in YAML.

A source says which format it writes, where each field sits (header name or 0-based position),
how its timestamps read (format and the switch's own timezone), which country's numbering plan
its national numbers follow, and the tolerances the pipeline applies to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from telbill.core.clock import zone
from telbill.core.errors import NotFound, ValidationFailed
from telbill.mediation.schema import STAGING_FIELDS, USAGE_TYPES

Format = Literal["csv", "jsonl", "ber"]


class SourceConfig(BaseModel):
    """One source of usage records. Defaults suit telbill's own CSV/JSONL layout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)
    format: Format = "csv"
    country: str = Field("FR", min_length=2, max_length=2)  # numbering plan of national numbers
    home_mcc: str = "208"  # visited MCC different from this means roaming
    timezone: str = "UTC"  # the switch's clock, for timestamps written without an offset
    date_format: str | None = None  # strptime format; None = ISO 8601
    delimiter: str = ","
    has_header: bool = True
    encoding: str = "utf-8"
    fields: dict[str, str | int] = Field(default_factory=dict)  # staging field -> column name/position
    usage_types: dict[str, str] = Field(default_factory=dict)  # raw type code -> voice|sms|mms|data
    drop_zero_usage: bool = False  # voice with 0 s and data with 0 bytes are dropped, not billed
    max_future_skew_s: int = Field(300, ge=0)
    max_duration_s: int = Field(86_400, gt=0)
    dedupe_window_s: int = Field(0, ge=0)  # content duplicates: same content, start within this window
    partial_timeout_s: int = Field(6 * 3600, gt=0)  # incomplete sessions wait this long for partials

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except ValidationFailed as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str | int]) -> dict[str, str | int]:
        unknown = sorted(set(value) - set(STAGING_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown}; known: {', '.join(STAGING_FIELDS)}")
        return value

    @field_validator("usage_types")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(v for v in value.values() if v not in USAGE_TYPES)
        if bad:
            raise ValueError(f"usage types {bad} are not among {', '.join(USAGE_TYPES)}")
        return value

    def column_of(self, field: str) -> str | int:
        """Where a staging field is read from: the mapped column, else a column of the same name."""
        return self.fields.get(field, field)


BUILTIN_SOURCES: dict[str, SourceConfig] = {
    "telbill-csv": SourceConfig(name="telbill-csv", format="csv", timezone="Europe/Paris"),
    "telbill-jsonl": SourceConfig(name="telbill-jsonl", format="jsonl"),
    "telbill-ber": SourceConfig(name="telbill-ber", format="ber"),
    # Records posted over HTTP as TMF635 Usage (times carry their offset).
    "tmf635": SourceConfig(name="tmf635", format="jsonl"),
}


def parse_sources(text: str, where: str = "sources") -> dict[str, SourceConfig]:
    """Read a YAML document `{sources: [{name: ..., ...}, ...]}` (or a bare list)."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{where}: not valid YAML: {exc}") from None
    items = doc.get("sources", []) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise ValidationFailed(f"{where}: expected a list of sources")
    found: dict[str, SourceConfig] = {}
    problems: list[str] = []
    for i, item in enumerate(items):
        try:
            cfg = SourceConfig.model_validate(item)
        except ValidationError as exc:
            problems += [f"source #{i + 1}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            continue
        found[cfg.name] = cfg
    if problems:
        raise ValidationFailed(f"{where}: invalid source declarations", details=problems)
    return found


def load_sources(path: Path | None) -> dict[str, SourceConfig]:
    """The built-in sources, plus (overriding) those declared in a YAML file."""
    sources = dict(BUILTIN_SOURCES)
    if path is not None:
        if not path.is_file():
            raise ValidationFailed(f"sources file {path} does not exist")
        sources |= parse_sources(path.read_text(encoding="utf-8"), str(path))
    return sources


def resolve_source(sources: dict[str, SourceConfig], name: str | None, path: Path) -> SourceConfig:
    """The named source, or the built-in one matching the file's extension."""
    if name is not None:
        if name not in sources:
            raise NotFound(f"unknown source {name!r}", details=[f"known: {', '.join(sorted(sources))}"])
        return sources[name]
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    by_ext = {"csv": "telbill-csv", "jsonl": "telbill-jsonl", "ndjson": "telbill-jsonl", "ber": "telbill-ber"}
    if ext in {"cdr", "dat", "asn1"}:
        ext = "ber"
    if ext not in by_ext:
        raise ValidationFailed(f"{path.name}: cannot tell the source from the extension; pass --source")
    return sources[by_ext[ext]]
