"""TMF635 Usage <-> mediation: a posted Usage becomes a staging row; a stored record a Usage.

A posted Usage carries its fields as `usageCharacteristic` name/value pairs; the names below map
to the staging fields, anything else is ignored (TMF lets each operator add its own). The served
subscriber may also be given as a `relatedParty` with role `subscriber` (or `servedParty`), whose
`id` is the MSISDN. Pure mapping: no database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telbill.core.errors import ValidationFailed

BASE = "/tmf-api/usageManagement/v4"
CHARACTERISTICS = {
    "duration": "duration_s",
    "volumeUp": "volume_up",
    "volumeDown": "volume_down",
    "otherParty": "other_party",
    "servedMsisdn": "served_msisdn",
    "servedImsi": "served_imsi",
    "chargingId": "charging_id",
    "recordSequence": "record_sequence",
    "visitedMcc": "visited_mcc",
    "visitedMnc": "visited_mnc",
    "ratingGroup": "rating_group",
    "cell": "cell_id",
    "causeForClosing": "cause_for_closing",
    "partial": "partial",
}
SUBSCRIBER_ROLES = ("subscriber", "servedparty", "servedmsisdn")
VALUE_TYPES = {"duration_s": "integer", "volume_up": "integer", "volume_down": "integer",
               "rating_group": "integer", "record_sequence": "integer", "partial": "boolean"}  # fmt: skip


def usages_of(body: Any) -> list[Mapping[str, Any]]:
    """One Usage or a list of them; anything else is refused with every problem listed."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ValidationFailed("the request holds no Usage")
    problems = [
        f"item {i}: a Usage must be a JSON object" for i, u in enumerate(items) if not isinstance(u, dict)
    ]
    for i, usage in enumerate(items):
        if isinstance(usage, dict):
            problems += [f"item {i}: {p}" for p in _shape_problems(usage)]
    if problems:
        raise ValidationFailed("the request is not TMF635 Usage", details=problems)
    return items


def _shape_problems(usage: Mapping[str, Any]) -> list[str]:
    chars = usage.get("usageCharacteristic", [])
    if not isinstance(chars, list):
        return ["usageCharacteristic must be a list"]
    problems = []
    for j, c in enumerate(chars):
        if not isinstance(c, dict) or "name" not in c or "value" not in c:
            problems.append(f"usageCharacteristic {j} needs a name and a value")
    parties = usage.get("relatedParty", [])
    if not isinstance(parties, list) or not all(isinstance(p, dict) for p in parties):
        problems.append("relatedParty must be a list of objects")
    return problems


def staging_row(usage: Mapping[str, Any]) -> dict[str, str | None]:
    """The staging fields (as text) of one posted Usage."""
    row: dict[str, str | None] = {
        "record_id": _text(usage.get("id")),
        "usage_type": _text(usage.get("usageType")),
        "start_time": _text(usage.get("usageDate")),
    }
    for c in usage.get("usageCharacteristic", []):
        field = CHARACTERISTICS.get(str(c["name"]))
        if field is not None:
            row[field] = _text(c["value"])
    if row.get("served_msisdn") is None:
        for party in usage.get("relatedParty", []):
            if str(party.get("role", "")).lower() in SUBSCRIBER_ROLES and party.get("id") is not None:
                row["served_msisdn"] = _text(party["id"])
                break
    return row


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def usage_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored usage record (column -> value) as a TMF635 Usage. Mediated records are `guided`."""
    start: datetime = record["start_time"]
    chars = [{"name": "recordId", "value": record["record_id"], "valueType": "string"},
             {"name": "source", "value": record["source"], "valueType": "string"}]  # fmt: skip
    for name, field in CHARACTERISTICS.items():
        value = record.get(field)
        if value is not None:
            chars.append({"name": name, "value": value, "valueType": VALUE_TYPES.get(field, "string")})
    if record.get("roaming") is not None:
        chars.append({"name": "roaming", "value": record["roaming"], "valueType": "boolean"})
    return {
        "id": str(record["id"]),
        "href": f"{BASE}/usage/{record['id']}",
        "usageDate": start.isoformat(),
        "usageType": record["usage_type"],
        "status": "guided",
        "description": f"from {record['source']} file {record['file_id']} line {record['line_no']}",
        "usageCharacteristic": chars,
        "relatedParty": [
            {"id": str(record["account_id"]), "role": "customer", "@referredType": "BillingAccount"},
        ],
        "usageSpecification": {"id": record["usage_type"], "name": record["usage_type"]},
        "@type": "Usage",
    }
