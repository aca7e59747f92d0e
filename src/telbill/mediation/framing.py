"""3GPP TS 32.297 CDR file framing: the file header and the header in front of each record.

File header (octets): 1-4 file length, 5-8 header length, 9 high release/version, 10 low
release/version, 11-14 file opening timestamp, 15-18 timestamp of the last appended CDR,
19-22 number of CDRs, 23-26 file sequence number, 27 file closure trigger reason, 28-47 address
of the node that wrote the file, 48 lost CDR indicator, 49-50 length of the CDR routing filter and
the filter, 2 octets length of the private extension and the extension, then (release ≥ 10) one
octet each of high and low release extension. Header timestamps carry no year:
month(4 bits) day(5) hour(5) minute(6) sign(1, 1 = ahead of UTC) offset hours(5) offset minutes(6).

CDR header: octets 1-2 CDR length, octet 3 release (3 bits) and version (5 bits), octet 4
data record format (3 bits, 1 = BER) and TS number (5 bits), octet 5 release extension when the
release bits say "10 or later".
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from telbill.core.errors import TelbillError

_RELEASES = {0: 99, 1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10}
_RELEASE_BITS = {v: k for k, v in _RELEASES.items()}
FIXED_HEADER = 50  # octets up to and including the routing filter length


class FramingError(TelbillError):
    """The file's 32.297 framing is broken; `reason` says how (TRUNCATED, BAD_HEADER)."""

    code = "bad_framing"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class HeaderTime:
    """A header timestamp: no year, minutes' precision, the writer's UTC offset."""

    month: int
    day: int
    hour: int
    minute: int
    offset_minutes: int = 0

    def at_year(self, year: int) -> datetime:
        tz = timezone(timedelta(minutes=self.offset_minutes))
        return datetime(year, self.month, self.day, self.hour, self.minute, tzinfo=tz).astimezone(UTC)

    @classmethod
    def of(cls, instant: datetime) -> HeaderTime:
        instant = instant.astimezone(UTC)
        return cls(instant.month, instant.day, instant.hour, instant.minute, 0)

    def pack(self) -> bytes:
        sign = 1 if self.offset_minutes >= 0 else 0
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        word = (
            self.month << 28
            | self.day << 23
            | self.hour << 18
            | self.minute << 12
            | sign << 11
            | hours << 6
            | minutes
        )
        return struct.pack(">I", word)

    @classmethod
    def unpack(cls, raw: bytes) -> HeaderTime:
        (word,) = struct.unpack(">I", raw)
        offset = ((word >> 6) & 0x1F) * 60 + (word & 0x3F)
        return cls(
            month=word >> 28,
            day=(word >> 23) & 0x1F,
            hour=(word >> 18) & 0x1F,
            minute=(word >> 12) & 0x3F,
            offset_minutes=offset if (word >> 11) & 1 else -offset,
        )


@dataclass(frozen=True)
class FileHeader:
    high_release: int = 15
    high_version: int = 0
    low_release: int = 15
    low_version: int = 0
    opened: HeaderTime = HeaderTime(1, 1, 0, 0)
    last_appended: HeaderTime = HeaderTime(1, 1, 0, 0)
    record_count: int = 0
    sequence_number: int = 0
    closure_reason: int = 0  # 0 normal, 1 size, 2 time, 3 count, 4 manual, 5 change, 128+ abnormal
    node_address: bytes = b"\x00" * 20
    lost_cdrs: int = 0
    routing_filter: bytes = b""
    private_extension: bytes = b""
    file_length: int = 0
    header_length: int = 0


@dataclass(frozen=True)
class RecordHeader:
    length: int
    release: int = 15
    version: int = 0
    data_format: int = 1  # 1 BER, 2 unaligned PER, 3 aligned PER, 4 XER
    ts_number: int = 7  # 7 = TS 32.251 (PS domain); 2 = TS 32.205 ... as coded in TS 32.297
    extra: bytes = field(default=b"", repr=False)


def _rel_bits(release: int) -> tuple[int, bytes]:
    if release >= 10 and release != 99:
        return 7, bytes([release - 10])
    return _RELEASE_BITS.get(release, 7), b""


def pack_file(
    header: FileHeader, records: list[bytes], record_release: int = 15, ts_number: int = 7
) -> bytes:
    """A complete 32.297 file: header, then each record behind its own header."""
    hi_bits, hi_ext = _rel_bits(header.high_release)
    lo_bits, lo_ext = _rel_bits(header.low_release)
    tail = (
        struct.pack(">H", len(header.routing_filter))
        + header.routing_filter
        + struct.pack(">H", len(header.private_extension))
        + header.private_extension
        + hi_ext
        + lo_ext
    )
    body = (
        bytes([hi_bits << 5 | header.high_version, lo_bits << 5 | header.low_version])
        + header.opened.pack()
        + header.last_appended.pack()
        + struct.pack(">II", len(records), header.sequence_number)
        + bytes([header.closure_reason])
        + header.node_address.ljust(20, b"\x00")[:20]
        + bytes([header.lost_cdrs])
    )
    header_length = 8 + len(body) + len(tail)
    rel_bits, rel_ext = _rel_bits(record_release)
    framed = b"".join(
        struct.pack(">H", len(rec)) + bytes([rel_bits << 5, 1 << 5 | ts_number]) + rel_ext + rec
        for rec in records
    )
    total = header_length + len(framed)
    return struct.pack(">II", total, header_length) + body + tail + framed


def parse_file_header(data: bytes) -> FileHeader:
    if len(data) < FIXED_HEADER:
        raise FramingError("TRUNCATED", f"file header needs {FIXED_HEADER} octets, the file has {len(data)}")
    file_length, header_length = struct.unpack(">II", data[:8])
    if header_length < FIXED_HEADER or header_length > len(data):
        raise FramingError(
            "BAD_HEADER", f"header length {header_length} does not fit a {len(data)}-octet file"
        )
    if file_length != len(data):
        reason = "TRUNCATED" if file_length > len(data) else "BAD_HEADER"
        raise FramingError(reason, f"file header says {file_length} octets, the file has {len(data)}")
    hi, lo = data[8], data[9]
    count, sequence = struct.unpack(">II", data[18:26])
    pos = 48
    (flen,) = struct.unpack(">H", data[pos : pos + 2])
    routing = data[pos + 2 : pos + 2 + flen]
    pos += 2 + flen
    private = b""
    if pos + 2 <= header_length:
        (plen,) = struct.unpack(">H", data[pos : pos + 2])
        private = data[pos + 2 : pos + 2 + plen]
        pos += 2 + plen
    ext = data[pos:header_length]
    high = _RELEASES[hi >> 5] + (ext[0] if hi >> 5 == 7 and len(ext) > 0 else 0)
    low = _RELEASES[lo >> 5] + (ext[1] if lo >> 5 == 7 and len(ext) > 1 else 0)
    return FileHeader(
        high_release=high,
        high_version=hi & 0x1F,
        low_release=low,
        low_version=lo & 0x1F,
        opened=HeaderTime.unpack(data[10:14]),
        last_appended=HeaderTime.unpack(data[14:18]),
        record_count=count,
        sequence_number=sequence,
        closure_reason=data[26],
        node_address=data[27:47],
        lost_cdrs=data[47],
        routing_filter=routing,
        private_extension=private,
        file_length=file_length,
        header_length=header_length,
    )


def iter_records(data: bytes, header: FileHeader) -> Iterator[tuple[int, RecordHeader, bytes]]:
    """(1-based index, record header, record bytes) for each CDR; a cut-off record is TRUNCATED."""
    pos, index = header.header_length, 0
    while pos < len(data):
        index += 1
        if pos + 4 > len(data):
            raise FramingError("TRUNCATED", f"CDR #{index}: its header is cut off at octet {pos}")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        rel_bits, o4 = data[pos + 2] >> 5, data[pos + 3]
        version = data[pos + 2] & 0x1F
        hdr_len = 5 if rel_bits == 7 else 4
        release = _RELEASES[rel_bits] + (data[pos + 4] if rel_bits == 7 and pos + 4 < len(data) else 0)
        start, end = pos + hdr_len, pos + hdr_len + length
        if end > len(data):
            raise FramingError("TRUNCATED", f"CDR #{index} needs {length} octets, {len(data) - start} remain")
        yield index, RecordHeader(length, release, version, o4 >> 5, o4 & 0x1F), data[start:end]
        pos = end
    if index != header.record_count:
        raise FramingError("BAD_HEADER", f"file header announces {header.record_count} CDRs, found {index}")


def iter_ber_stream(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Records of an unframed file: BER TLVs back to back (some switches write these)."""
    pos, index = 0, 0
    while pos < len(data):
        index += 1
        start = pos
        pos = _skip_tag(data, pos, index)
        length, pos = _read_length(data, pos, index)
        if pos + length > len(data):
            raise FramingError(
                "TRUNCATED", f"record #{index} needs {length} octets, {len(data) - pos} remain"
            )
        pos += length
        yield index, data[start:pos]


def _skip_tag(data: bytes, pos: int, index: int) -> int:
    if data[pos] & 0x1F != 0x1F:
        return pos + 1
    pos += 1
    while pos < len(data) and data[pos] & 0x80:
        pos += 1
    if pos >= len(data):
        raise FramingError("TRUNCATED", f"record #{index}: its tag is cut off")
    return pos + 1


def _read_length(data: bytes, pos: int, index: int) -> tuple[int, int]:
    if pos >= len(data):
        raise FramingError("TRUNCATED", f"record #{index}: its length is cut off")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    n = first & 0x7F
    if n == 0 or n > 4 or pos + 1 + n > len(data):
        raise FramingError("TRUNCATED", f"record #{index}: bad or cut-off length")
    return int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def read_tag(data: bytes) -> int | None:
    """The tag number of a BER record (context-specific choice tags tell the record type)."""
    if not data:
        return None
    if data[0] & 0x1F != 0x1F:
        return data[0] & 0x1F
    value = 0
    for b in data[1:6]:
        value = value << 7 | (b & 0x7F)
        if not b & 0x80:
            return value
    return None
