"""TMF list conventions: `offset`, `limit`, `fields`, `sort`, and the count headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Response

from telbill.core.errors import ValidationFailed

MAX_LIMIT = 1000


def page_bounds(offset: int | None, limit: int | None) -> tuple[int, int]:
    offset = 0 if offset is None else offset
    limit = 100 if limit is None else limit
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"offset must be >= 0 and limit between 1 and {MAX_LIMIT}")
    return offset, limit


def select_fields(items: Sequence[Mapping[str, Any]], fields: str | None) -> list[dict[str, Any]]:
    """TMF `fields=a,b`: keep those attributes (plus id, href and @type, which always stay)."""
    if not fields:
        return [dict(i) for i in items]
    keep = {f.strip() for f in fields.split(",") if f.strip()} | {"id", "href", "@type"}
    return [{k: v for k, v in i.items() if k in keep} for i in items]


def set_count_headers(response: Response, total: int, returned: int) -> None:
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(returned)
