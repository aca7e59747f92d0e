"""The frozen form of an issued document: `InvoiceContent` as canonical JSON, and back.

Decimals are written as strings (exact), dates in ISO 8601, keys sorted and no spaces, so the
same content always gives the same bytes and the SHA-256 stored beside it can be checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring as _json_str  # C-accelerated, as json.dumps uses
from typing import Any

from telbill.invoicing.content import (
    AccountingVat,
    DocumentAllowance,
    DocumentType,
    InvoiceContent,
    InvoiceLine,
    Party,
    TaxCategory,
    TaxSubtotal,
    Totals,
    UsageSummaryRow,
)

SNAPSHOT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_to_json(content: InvoiceContent) -> str:
    """`{"content": <plain form>, "version": 1}`, keys sorted: `_dumps` of that dict, whose bytes
    `canonical` writes directly. Snapshots written before `accounting_vat` existed have no such
    key and read back with none."""
    return f'{{"content":{canonical(content)},"version":{SNAPSHOT_VERSION}}}'


# The canonical text of a value, written without building its plain form -------------------------
# `canonical(v) == _dumps(_plain(v))` for every value (tests/invoicing/test_snapshot_canonical.py):
# one encoder per exact type, built once; a dataclass's is generated code that writes its fields
# in sorted order. Anything not listed (a dict, a float, a str or int subclass) goes through
# `_dumps` itself, which is what the plain form would have given it.

_ENCODERS: dict[type, Callable[[Any], str]] = {}


def canonical(value: Any) -> str:
    kind = type(value)
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _encoder_for(kind)
    return encoder(value)


def _decimal(value: Decimal) -> str:
    return f'"{value!s}"'  # digits, sign, point, exponent: nothing to escape


def _day_text(value: date) -> str:
    return f'"{value.isoformat()}"'


def _sequence(value: Any) -> str:
    return f"[{','.join([canonical(v) for v in value])}]"


def _encoder_for(kind: type) -> Callable[[Any], str]:
    if kind is str:
        return _json_str  # type: ignore[no-any-return]
    if kind is bool:
        return lambda v: "true" if v else "false"
    if kind is type(None):
        return lambda v: "null"
    if kind is int:
        return int.__repr__
    if issubclass(kind, Decimal):
        return _decimal
    if issubclass(kind, Enum):
        return lambda v: canonical(v.value)
    if issubclass(kind, date):
        return _day_text
    if dataclasses.is_dataclass(kind):
        return _dataclass_encoder(kind)
    if issubclass(kind, tuple | list):
        return _sequence
    return _dumps


def _dataclass_encoder(kind: type) -> Callable[[Any], str]:
    names = sorted(f.name for f in dataclasses.fields(kind))
    parts = " + ".join(
        f"{('{' if i == 0 else ',') + _json_str(name) + ':'!r} + _c(v.{name})" for i, name in enumerate(names)
    )
    source = f"def encode(v, _c=canonical):\n    return {parts or repr('{')} + '}}'\n"
    namespace: dict[str, Any] = {"canonical": canonical}
    exec(source, namespace)  # the field names of our own dataclasses, nothing from outside
    return namespace["encode"]  # type: ignore[no-any-return]


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _line(d: dict[str, Any]) -> InvoiceLine:
    return InvoiceLine(
        **{
            **d,
            "quantity": Decimal(d["quantity"]),
            "unit_price": Decimal(d["unit_price"]),
            "net_amount": Decimal(d["net_amount"]),
            "tax_category": TaxCategory(d["tax_category"]),
            "tax_rate": Decimal(d["tax_rate"]),
            "period_start": _day(d["period_start"]),
            "period_end": _day(d["period_end"]),
        }
    )


def _allowance(d: dict[str, Any]) -> DocumentAllowance:
    return DocumentAllowance(
        d["reason"], Decimal(d["amount"]), TaxCategory(d["tax_category"]), Decimal(d["tax_rate"])
    )


def _subtotal(d: dict[str, Any]) -> TaxSubtotal:
    return TaxSubtotal(
        category=TaxCategory(d["category"]),
        rate=Decimal(d["rate"]),
        taxable_amount=Decimal(d["taxable_amount"]),
        tax_amount=Decimal(d["tax_amount"]),
        exemption_reason=d["exemption_reason"],
        exemption_code=d["exemption_code"],
    )


def _usage(d: dict[str, Any]) -> UsageSummaryRow:
    return UsageSummaryRow(**{**d, "quantity": Decimal(d["quantity"]), "amount": Decimal(d["amount"])})


def _accounting(d: dict[str, Any] | None) -> AccountingVat | None:
    if d is None:
        return None
    return AccountingVat(
        **{
            **d,
            "tax_total": Decimal(d["tax_total"]),
            "rate": Decimal(d["rate"]),
            "rate_date": date.fromisoformat(d["rate_date"]),
        }
    )


def content_from_dict(d: dict[str, Any]) -> InvoiceContent:
    return InvoiceContent(
        **{
            **d,
            "document_type": DocumentType(d["document_type"]),
            "issue_date": date.fromisoformat(d["issue_date"]),
            "due_date": date.fromisoformat(d["due_date"]),
            "seller": Party(**d["seller"]),
            "buyer": Party(**d["buyer"]),
            "period_start": date.fromisoformat(d["period_start"]),
            "period_end": date.fromisoformat(d["period_end"]),
            "lines": tuple(_line(x) for x in d["lines"]),
            "allowances": tuple(_allowance(x) for x in d["allowances"]),
            "tax_subtotals": tuple(_subtotal(x) for x in d["tax_subtotals"]),
            "totals": Totals(**{k: Decimal(v) for k, v in d["totals"].items()}),
            "preceding_invoice_date": _day(d["preceding_invoice_date"]),
            "usage_summary": tuple(_usage(x) for x in d["usage_summary"]),
            "notes": tuple(d["notes"]),
            "accounting_vat": _accounting(d.get("accounting_vat")),
        }
    )


def content_from_json(text: str) -> InvoiceContent:
    body = json.loads(text)
    if body.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unknown invoice snapshot version {body.get('version')!r}")
    return content_from_dict(body["content"])


def usage_to_plain(rows: tuple[UsageSummaryRow, ...]) -> list[dict[str, Any]]:
    return [_plain(r) for r in rows]


def usage_from_plain(rows: list[dict[str, Any]]) -> tuple[UsageSummaryRow, ...]:
    return tuple(_usage(r) for r in rows)
