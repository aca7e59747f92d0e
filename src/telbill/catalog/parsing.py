"""Reading and writing catalog YAML, with errors that name the file, the key path and the line.

PyYAML composes the node tree once; the same tree gives the data and, for every key path, the line
it starts on. Pydantic `loc`s are mapped back onto the data (skipping union tags), so an error reads
`catalog.yaml:42: offers[3].versions[0].charges[1].pricing.tiers[2].up_to: ...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from telbill.catalog.document import CatalogDocument
from telbill.catalog.types import format_path
from telbill.core.clock import zone
from telbill.core.errors import ValidationFailed

PathKey = tuple[str | int, ...]


def parse_catalog_file(path: str | Path) -> CatalogDocument:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationFailed(f"{file}: no such catalog file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{file}: cannot read the catalog file ({exc})") from None
    return parse_catalog_text(text, str(file))


def parse_catalog_text(text: str, source: str = "<catalog>") -> CatalogDocument:
    """Validate a catalog written as YAML text; every problem is listed in the error's details."""
    data, lines, problems = _load_yaml(text, source)
    if problems:
        raise ValidationFailed(f"{source}: the catalog is invalid ({_count(problems)})", details=problems)
    return catalog_from_data(data, source, lines)


def catalog_from_data(
    data: Any, source: str = "<catalog>", lines: dict[PathKey, int] | None = None
) -> CatalogDocument:
    """Validate plain data (from YAML, JSON or code) into a document, or raise ValidationFailed."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"{source}: a catalog is a mapping with `catalog`, `products` and `offers`")
    try:
        return CatalogDocument.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, data, lines or {}, source)
        raise ValidationFailed(
            f"{source}: the catalog is invalid ({_count(problems)})", details=problems
        ) from None


def dump_catalog_yaml(document: CatalogDocument) -> str:
    """YAML that parses back to the same document (amounts and instants written as quoted strings)."""
    data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["catalog"] = document.catalog.model_dump(mode="json", exclude_none=True)
    tz = zone(document.catalog.timezone)
    for offer, offer_data in zip(document.offers, data.get("offers", []), strict=True):
        for version, version_data in zip(offer.versions, offer_data["versions"], strict=True):
            version_data["effective_from"] = _local(version.effective_from, tz)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _local(instant: datetime, tz: tzinfo) -> str:
    """An instant as written by people: a bare date when it is midnight in the catalog's timezone."""
    local = instant.astimezone(tz)
    return local.date().isoformat() if local.time() == time(0) else local.isoformat()


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")


# --- YAML with line numbers --------------------------------------------------------------------


def _load_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, int], list[str]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, [f"{source}: the file is empty"]
        lines: dict[PathKey, int] = {}
        problems = [f"{source}:{line}: {msg}" for line, msg in _index(node, (), lines)]
        return loader.construct_document(node), lines, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ValidationFailed(f"{source}: malformed YAML", details=[f"{where}: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{source}: malformed YAML", details=[f"{source}: {exc}"]) from None
    finally:
        loader.dispose()


def _index(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> Iterator[tuple[int, str]]:
    """Record the line of every key path; yield duplicate keys (PyYAML would keep the last silently)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                where = format_path((*path, key))
                yield key_node.start_mark.line + 1, f"{where}: duplicate key {key!r}"
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            yield from _index(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _index(item, (*path, i), lines)


# --- Pydantic errors → precise problems ---------------------------------------------------------


def _locate(loc: tuple[Any, ...], data: Any, *, missing_key: bool = True) -> PathKey:
    """Follow `loc` through the data; parts that are not in the data are union tags, except a
    missing key at the end."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif missing_key and i == len(loc) - 1 and isinstance(node, dict) and part != "[key]":
            path.append(part)
    return tuple(path)


def _line(path: PathKey, lines: dict[PathKey, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    if kind == "union_tag_not_found":
        return f"missing `{error['ctx']['discriminator'].strip(chr(39))}` key"
    return str(error["msg"])


def _problems(exc: ValidationError, data: Any, lines: dict[PathKey, int], source: str) -> list[str]:
    found: dict[PathKey, list[str]] = {}
    for error in exc.errors():
        rules = error["type"] == "catalog_rules"
        base = _locate(tuple(error["loc"]), data, missing_key=not rules)
        if rules:
            for sub, msg in error["ctx"]["issues"]:
                found.setdefault((*base, *sub), []).append(msg)
        else:
            found.setdefault(base, []).append(_message(error))
    ordered = sorted(found.items(), key=lambda item: (_line(item[0], lines) or 0, format_path(item[0])))
    problems = []
    for path, messages in ordered:
        line = _line(path, lines)
        where = f"{source}:{line}" if line else source
        text = " or ".join(dict.fromkeys(messages))
        problems.append(f"{where}: {format_path(path) or '(top level)'}: {text}")
    return problems
