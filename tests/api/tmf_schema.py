"""Check our JSON against a definition of a TMF Swagger 2.0 file, offline (no TMF test kit runs here).

    from tests.api.tmf_schema import assert_tmf_valid, tmf_errors
    assert_tmf_valid(body, "TMF678-CustomerBill-v4.0.0.swagger.json", "CustomerBill")

`#/definitions/...` references are resolved inside the same file. `date-time` values must be
RFC 3339 with an offset; other formats are not checked (TMF marks plain numbers `format: float`,
which JSON Schema ignores). A definition's properties are open, as in the TMF files, so extension
attributes pass.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

TMF_DIR = Path("/work/shared/standards/tmf")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with an offset")
    datetime.fromisoformat(value.replace("z", "Z"))  # rejects 2026-02-30 and the like
    return True


@cache
def _swagger(file_name: str) -> dict[str, Any]:
    path = Path(file_name) if Path(file_name).is_absolute() else TMF_DIR / file_name
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def validator(file_name: str, definition: str) -> Draft4Validator:
    """A validator of one definition; refs like `#/definitions/Money` resolve in the same file."""
    document = _swagger(file_name)
    if definition not in document.get("definitions", {}):
        raise KeyError(f"{file_name} has no definition {definition!r}")
    uri = f"urn:tmf:{file_name}"
    registry = Registry().with_resource(uri, Resource.from_contents(document, default_specification=DRAFT4))
    schema = {"$ref": f"{uri}#/definitions/{definition}"}
    return Draft4Validator(schema, registry=registry, format_checker=_formats)


def tmf_errors(instance: Any, file_name: str, definition: str) -> list[str]:
    """Every problem, as `path: message` (empty when the instance is valid)."""
    found = validator(file_name, definition).iter_errors(instance)
    return sorted(f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in found)


def assert_tmf_valid(instance: Any, file_name: str, definition: str) -> None:
    problems = tmf_errors(instance, file_name, definition)
    assert not problems, f"not a valid {definition}:\n" + "\n".join(problems)
