"""Exact JSON for money: Decimals are written from their digits, never through a float.

`dumps_exact` writes `Decimal("1234.50")` as the JSON number `1234.50`. `to_storable` tags
Decimals (`{"$decimal": "1234.50"}`) so a response kept in a JSON column (an idempotent replay)
keeps its digits; `from_storable` undoes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any


def dumps_exact(value: Any) -> bytes:
    """JSON with Decimals written from their digits (`Decimal("1234.56")` → `1234.56`); floats
    are refused, so no amount ever passes through binary floating point."""
    out: list[str] = []
    _encode(value, out.append)
    return "".join(out).encode("utf-8")


def _encode(value: Any, emit: Callable[[str], Any]) -> None:
    if value is None or isinstance(value, bool):
        emit({None: "null", True: "true", False: "false"}[value])
    elif isinstance(value, str):
        emit(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        emit(str(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON form")
        emit(format(value, "f"))
    elif isinstance(value, Mapping):
        emit("{")
        for i, (key, item) in enumerate(value.items()):
            emit(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            _encode(item, emit)
        emit("}")
    elif isinstance(value, (list, tuple)):
        emit("[")
        for i, item in enumerate(value):
            if i:
                emit(",")
            _encode(item, emit)
        emit("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as exact JSON")


DECIMAL_TAG = "$decimal"


def to_storable(value: Any) -> Any:
    """Decimals as `{"$decimal": "12.30"}`, so a response kept as plain JSON (an idempotent
    replay) keeps its digits."""
    if isinstance(value, Decimal):
        return {DECIMAL_TAG: format(value, "f")}
    if isinstance(value, Mapping):
        return {k: to_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_storable(v) for v in value]
    return value


def from_storable(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {DECIMAL_TAG}:
            return Decimal(value[DECIMAL_TAG])
        return {k: from_storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_storable(v) for v in value]
    return value
