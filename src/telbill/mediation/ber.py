"""3GPP TS 32.298 BER charging records, decoded and encoded with pycrate.

Supported: PGW and SGW data records (`GPRSRecord`), mobile-originated call records
(`CSRecord.moCallRecord`) and mobile-originated SMS records (`CSRecord.moSMSRecord`).
Files may be framed by TS 32.297 headers (see framing.py) or be bare BER records back to back.
pycrate's type objects are module singletons: decode in one thread per process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl

from telbill.mediation.framing import (
    FileHeader,
    FramingError,
    HeaderTime,
    iter_ber_stream,
    iter_records,
    pack_file,
    parse_file_header,
    read_tag,
)
from telbill.mediation.readers import (
    DEFAULT_BATCH,
    FileRejected,
    ReadBatch,
    line_rejects,
    read_all,
    to_staging,
)
from telbill.mediation.schema import STAGING_FIELDS, Reason
from telbill.mediation.sources import SourceConfig

_GPRS_TAGS = {78: "sGWRecord", 79: "pGWRecord"}
_CS_TAGS = {0: "moCallRecord", 6: "moSMSRecord"}


def _types() -> tuple[Any, Any]:
    from pycrate_asn1dir import CDR

    return CDR.GPRSChargingDataTypes.GPRSRecord, CDR.CSChargingDataTypes.CSRecord


# --- value codecs -------------------------------------------------------------------------------


def tbcd_decode(raw: bytes) -> str:
    digits = []
    for b in raw:
        for nibble in (b & 0x0F, b >> 4):
            if nibble == 0x0F:
                return "".join(digits)
            digits.append("0123456789*#abc"[nibble] if nibble < 15 else "")
    return "".join(digits)


def tbcd_encode(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1], 16) << 4 | int(digits[i], 16) for i in range(0, len(digits), 2))


def address_decode(raw: bytes) -> str:
    """An AddressString: one TON/NPI octet then TBCD digits; international numbers get a '+'."""
    if not raw:
        return ""
    ton = (raw[0] >> 4) & 0x07
    digits = tbcd_decode(raw[1:])
    return "+" + digits if ton == 1 else digits


def address_encode(number: str) -> bytes:
    international = number.startswith("+")
    digits = number.lstrip("+")
    return bytes([0x91 if international else 0x81]) + tbcd_encode(digits)


def timestamp_decode(raw: bytes) -> str:
    """TS 32.298 TimeStamp: BCD YYMMDDhhmmss, ASCII sign, BCD hhmm offset -> ISO 8601."""
    if len(raw) != 9:
        raise ValueError(f"a TimeStamp has 9 octets, got {len(raw)}")
    d = raw[:6].hex()
    off = raw[7:9].hex()
    sign = chr(raw[6])
    if sign not in "+-":
        raise ValueError(f"bad UTC offset sign {raw[6]:#x}")
    return f"20{d[0:2]}-{d[2:4]}-{d[4:6]}T{d[6:8]}:{d[8:10]}:{d[10:12]}{sign}{off[0:2]}:{off[2:4]}"


def timestamp_encode(instant: datetime, offset_minutes: int = 0) -> bytes:
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign = b"+" if offset_minutes >= 0 else b"-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return bytes.fromhex(local.strftime("%y%m%d%H%M%S")) + sign + bytes.fromhex(f"{hours:02d}{minutes:02d}")


def plmn_decode(raw: bytes) -> tuple[str, str]:
    """PLMN-Id (3 octets, TS 24.008): MCC and MNC digits."""
    d = [raw[0] & 0x0F, raw[0] >> 4, raw[1] & 0x0F, raw[2] & 0x0F, raw[2] >> 4, raw[1] >> 4]
    mcc = "".join(map(str, d[:3]))
    mnc = "".join(str(x) for x in d[3:] if x != 0x0F)
    return mcc, mnc


def plmn_encode(mcc: str, mnc: str) -> bytes:
    m3 = int(mnc[2]) if len(mnc) == 3 else 0x0F
    return bytes([int(mcc[1]) << 4 | int(mcc[0]), m3 << 4 | int(mcc[2]), int(mnc[1]) << 4 | int(mnc[0])])


# --- records -> staging rows --------------------------------------------------------------------


def decode_record(data: bytes) -> dict[str, str | None]:
    """One BER record as staging text fields; raises ValueError if it is not a supported record."""
    gprs, cs = _types()
    tag = read_tag(data)
    if tag in _GPRS_TAGS:
        gprs.from_ber(data)
        kind, val = gprs.get_val()
        return _gprs_fields(val)
    if tag in _CS_TAGS:
        cs.from_ber(data)
        kind, val = cs.get_val()
        return _call_fields(val) if kind == "moCallRecord" else _sms_fields(val)
    raise ValueError(f"unsupported record type (choice tag {tag})")


def _gprs_fields(v: Mapping[str, Any]) -> dict[str, str | None]:
    services = v.get("listOfServiceData") or []
    up = sum(int(s.get("datavolumeFBCUplink", 0)) for s in services)
    down = sum(int(s.get("datavolumeFBCDownlink", 0)) for s in services)
    for t in v.get("listOfTrafficVolumes") or []:
        up += int(t.get("dataVolumeGPRSUplink", 0))
        down += int(t.get("dataVolumeGPRSDownlink", 0))
    mcc, mnc = (
        plmn_decode(v["servingNodePLMNIdentifier"]) if "servingNodePLMNIdentifier" in v else (None, None)
    )
    seq = v.get("recordSequenceNumber")
    return {
        "record_id": f"{v.get('nodeID', '')}:{v.get('localSequenceNumber', v['chargingID'])}",
        "usage_type": "data",
        "served_msisdn": address_decode(v["servedMSISDN"]).lstrip("+") if "servedMSISDN" in v else None,
        "served_imsi": tbcd_decode(v["servedIMSI"]) if "servedIMSI" in v else None,
        "start_time": timestamp_decode(v["recordOpeningTime"]),
        "duration_s": str(v["duration"]),
        "volume_up": str(up),
        "volume_down": str(down),
        "visited_mcc": mcc,
        "visited_mnc": mnc,
        "cell_id": v["userLocationInformation"].hex() if "userLocationInformation" in v else None,
        "rating_group": str(services[0]["ratingGroup"])
        if services and "ratingGroup" in services[0]
        else None,
        "charging_id": str(v["chargingID"]),
        "record_sequence": None if seq is None else str(seq),
        "cause_for_closing": _CAUSES_PS.get(v["causeForRecClosing"], str(v["causeForRecClosing"])),
        "partial": "true" if seq is not None else "false",
    }


def _location(v: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    loc = v.get("location")
    if not loc:
        return None, None, None
    mcc, mnc = plmn_decode(loc["mCC-MNC"]) if "mCC-MNC" in loc else (None, None)
    return mcc, mnc, loc["cellId"].hex() if "cellId" in loc else None


def _call_fields(v: Mapping[str, Any]) -> dict[str, str | None]:
    entity = address_decode(v["recordingEntity"]).lstrip("+")
    callref = int.from_bytes(v["callReference"], "big")
    seq = v.get("sequenceNumber")
    mcc, mnc, cell = _location(v)
    start = v.get("answerTime") or v.get("seizureTime")
    return {
        "record_id": f"{entity}:{callref}" + ("" if seq is None else f":{seq}"),
        "usage_type": "voice",
        "served_msisdn": address_decode(v["servedMSISDN"]).lstrip("+") if "servedMSISDN" in v else None,
        "served_imsi": tbcd_decode(v["servedIMSI"]) if "servedIMSI" in v else None,
        "other_party": address_decode(v["calledNumber"]) if "calledNumber" in v else None,
        "start_time": timestamp_decode(start) if start else None,
        "duration_s": str(v["callDuration"]),
        "visited_mcc": mcc,
        "visited_mnc": mnc,
        "cell_id": cell,
        "charging_id": str(callref),
        "record_sequence": None if seq is None else str(seq),
        "cause_for_closing": _CAUSES_CS.get(v["causeForTerm"], str(v["causeForTerm"])),
        "partial": "true" if seq is not None else "false",
    }


def _sms_fields(v: Mapping[str, Any]) -> dict[str, str | None]:
    entity = address_decode(v["recordingEntity"]).lstrip("+")
    mcc, mnc, cell = _location(v)
    return {
        "record_id": f"{entity}:{int.from_bytes(v['messageReference'], 'big')}",
        "usage_type": "sms",
        "served_msisdn": address_decode(v["servedMSISDN"]).lstrip("+") if "servedMSISDN" in v else None,
        "served_imsi": tbcd_decode(v["servedIMSI"]),
        "other_party": address_decode(v["destinationNumber"]) if "destinationNumber" in v else None,
        "start_time": timestamp_decode(v["originationTime"]),
        "duration_s": "0",
        "visited_mcc": mcc,
        "visited_mnc": mnc,
        "cell_id": cell,
        "partial": "false",
    }


_CAUSES_PS = {
    0: "normalRelease",
    1: "partialRecord",
    4: "abnormalRelease",
    5: "cAMELInitCallRelease",
    16: "volumeLimit",
    17: "timeLimit",
    18: "servingNodeChange",
    19: "maxChangeCond",
    20: "managementIntervention",
    22: "rATChange",
    23: "mSTimeZoneChange",
    25: "sGWChange",
}
_CAUSES_CS = {
    0: "normalRelease",
    1: "partialRecord",
    2: "partialRecordCallReestablishment",
    3: "unsuccessfulCallAttempt",
    4: "abnormalRelease",
    5: "cAMELInitCallRelease",
}
_CAUSE_CODES = {name: code for code, name in (_CAUSES_PS | _CAUSES_CS).items()}


# --- usage dicts -> records (synthetic data, tests) ---------------------------------------------


def encode_record(rec: Mapping[str, Any]) -> bytes:
    """A BER record for a usage dict (the staging fields, typed). record_id reads `node:number`."""
    gprs, cs = _types()
    kind = rec["usage_type"]
    if kind == "data":
        gprs.set_val(("pGWRecord", _pgw_value(rec)))
        return gprs.to_ber()
    if kind == "voice":
        cs.set_val(("moCallRecord", _call_value(rec)))
        return cs.to_ber()
    if kind == "sms":
        cs.set_val(("moSMSRecord", _sms_value(rec)))
        return cs.to_ber()
    raise ValueError(f"no BER encoding for usage type {kind!r}")


def _node_number(rec: Mapping[str, Any]) -> tuple[str, int]:
    node, _, number = str(rec["record_id"]).partition(":")
    return node, int(number.split(":")[0])


def _common(rec: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rec.get("served_imsi"):
        out["servedIMSI"] = tbcd_encode(rec["served_imsi"])
    if rec.get("served_msisdn"):
        out["servedMSISDN"] = address_encode("+" + rec["served_msisdn"])
    return out


def _pgw_value(rec: Mapping[str, Any]) -> dict[str, Any]:
    node, number = _node_number(rec)
    ip = ("iPBinaryAddress", ("iPBinV4Address", bytes([10, 0, 0, 1])))
    value: dict[str, Any] = _common(rec) | {
        "recordType": 85,
        "p-GWAddress": ip,
        "chargingID": int(rec.get("charging_id") or number),
        "servingNodeAddress": [ip],
        "recordOpeningTime": timestamp_encode(rec["start_time"]),
        "duration": int(rec.get("duration_s") or 0),
        "causeForRecClosing": _CAUSE_CODES.get(rec.get("cause_for_closing") or "normalRelease", 0),
        "nodeID": node,
        "localSequenceNumber": number,
        "chargingCharacteristics": b"\x08\x00",
        "servingNodeType": ["gTPSGW"],
        "listOfServiceData": [
            {
                "ratingGroup": int(rec.get("rating_group") or 0),
                "datavolumeFBCUplink": int(rec.get("volume_up") or 0),
                "datavolumeFBCDownlink": int(rec.get("volume_down") or 0),
                "serviceConditionChange": (0, 32),
                "timeOfReport": timestamp_encode(rec["start_time"]),
            }
        ],
    }
    if rec.get("record_sequence") is not None:
        value["recordSequenceNumber"] = int(rec["record_sequence"])
    if rec.get("visited_mcc"):
        value["servingNodePLMNIdentifier"] = plmn_encode(rec["visited_mcc"], rec["visited_mnc"])
    if rec.get("cell_id"):
        value["userLocationInformation"] = bytes.fromhex(rec["cell_id"])
    return value


def _location_value(rec: Mapping[str, Any]) -> dict[str, Any]:
    if not rec.get("visited_mcc"):
        return {}
    cell = bytes.fromhex(rec.get("cell_id") or "0001")[-2:].rjust(2, b"\x00")
    loc = {"locationAreaCode": b"\x00\x01", "cellId": cell}
    return {"location": loc | {"mCC-MNC": plmn_encode(rec["visited_mcc"], rec["visited_mnc"])}}


def _call_value(rec: Mapping[str, Any]) -> dict[str, Any]:
    node, number = _node_number(rec)
    callref = int(rec.get("charging_id") or number)
    value: dict[str, Any] = (
        _common(rec)
        | _location_value(rec)
        | {
            "recordType": "moCallRecord",
            "recordingEntity": address_encode("+" + node),
            "answerTime": timestamp_encode(rec["start_time"]),
            "callDuration": int(rec.get("duration_s") or 0),
            "causeForTerm": _CAUSE_CODES.get(rec.get("cause_for_closing") or "normalRelease", 0),
            "callReference": callref.to_bytes(8, "big"),
        }
    )
    if rec.get("other_party"):
        value["calledNumber"] = address_encode(rec["other_party"])
    if rec.get("record_sequence") is not None:
        value["sequenceNumber"] = int(rec["record_sequence"])
    return value


def _sms_value(rec: Mapping[str, Any]) -> dict[str, Any]:
    node, number = _node_number(rec)
    value: dict[str, Any] = (
        _common(rec)
        | _location_value(rec)
        | {
            "recordType": "moSMSRecord",
            "servedIMSI": tbcd_encode(rec.get("served_imsi") or "001010000000000"),  # mandatory: test IMSI
            "msClassmark": b"\x33\x19\xa2",
            "serviceCentre": address_encode("+33609001390"),
            "recordingEntity": address_encode("+" + node),
            "messageReference": number.to_bytes(8, "big"),
            "originationTime": timestamp_encode(rec["start_time"]),
        }
    )
    if rec.get("other_party"):
        value["destinationNumber"] = address_encode(rec["other_party"])
    return value


def write_ber_file(
    path: Path, records: list[bytes], *, opened: datetime | None = None, sequence: int = 0
) -> None:
    """A TS 32.297-framed file holding the given BER records."""
    stamp = HeaderTime.of(opened or datetime(2000, 1, 1, tzinfo=UTC))
    header = FileHeader(opened=stamp, last_appended=stamp, sequence_number=sequence)
    path.write_bytes(pack_file(header, records))


# --- the reader ---------------------------------------------------------------------------------


class BerReader:
    """Decodes each record; one that pycrate refuses becomes an UNDECODABLE reject (raw as hex)."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def batches(self, path: Path, file_id: int, batch_size: int = DEFAULT_BATCH) -> Iterator[ReadBatch]:
        data = read_all(path)
        if not data:
            raise FileRejected("EMPTY_FILE", f"{path.name}: the file is empty")
        try:
            records = list(self._records(data))
        except FramingError as exc:
            raise FileRejected(exc.reason, f"{path.name}: {exc.message}") from None
        for offset in range(0, max(len(records), 1), batch_size):
            yield self._batch(records[offset : offset + batch_size], file_id)

    def _records(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """Framed files start with the file length (first octet small); bare BER with a context tag."""
        if data[0] & 0xE0 != 0xA0:
            header = parse_file_header(data)
            for index, _hdr, rec in iter_records(data, header):
                yield index, rec
            return
        yield from iter_ber_stream(data)

    def _batch(self, records: list[tuple[int, bytes]], file_id: int) -> ReadBatch:
        rows: list[dict[str, Any]] = []
        bad: list[tuple[int, str]] = []
        for index, rec in records:
            try:
                rows.append({"line_no": index} | decode_record(rec))
            except Exception:  # pycrate raises many types on bad input; each record stands alone
                bad.append((index, rec.hex()))
        schema = {"line_no": pl.Int64} | {f: pl.String for f in STAGING_FIELDS}
        frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
        rejects = line_rejects(bad, self.source.name, file_id, Reason.UNDECODABLE, "not a decodable CDR")
        return ReadBatch(to_staging(frame, self.source.name, file_id), rejects)
