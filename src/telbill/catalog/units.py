"""Usage types and units, with exact conversions to each family's base unit (seconds, events, bytes).

Decimal prefixes are SI (1 KB = 1000 bytes, 1 MB = 10^6, 1 GB = 10^9); the binary ones are spelled
KiB/MiB/GiB (1024-based), so a catalog says which one it bills by.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class UsageType(StrEnum):
    VOICE = "voice"
    VIDEO = "video"
    SMS = "sms"
    MMS = "mms"
    DATA = "data"
    EVENT = "event"


class Unit(StrEnum):
    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    EVENTS = "events"
    BYTES = "bytes"
    KB = "KB"
    MB = "MB"
    GB = "GB"
    KIB = "KiB"
    MIB = "MiB"
    GIB = "GiB"


class Dimension(StrEnum):
    TIME = "time"
    COUNT = "count"
    VOLUME = "volume"


# (dimension, how many base units one unit is): exact integers.
_UNITS: dict[Unit, tuple[Dimension, int]] = {
    Unit.SECONDS: (Dimension.TIME, 1),
    Unit.MINUTES: (Dimension.TIME, 60),
    Unit.HOURS: (Dimension.TIME, 3600),
    Unit.EVENTS: (Dimension.COUNT, 1),
    Unit.BYTES: (Dimension.VOLUME, 1),
    Unit.KB: (Dimension.VOLUME, 1000),
    Unit.MB: (Dimension.VOLUME, 1000**2),
    Unit.GB: (Dimension.VOLUME, 1000**3),
    Unit.KIB: (Dimension.VOLUME, 1024),
    Unit.MIB: (Dimension.VOLUME, 1024**2),
    Unit.GIB: (Dimension.VOLUME, 1024**3),
}

USAGE_DIMENSION: dict[UsageType, Dimension] = {
    UsageType.VOICE: Dimension.TIME,
    UsageType.VIDEO: Dimension.TIME,
    UsageType.SMS: Dimension.COUNT,
    UsageType.MMS: Dimension.COUNT,
    UsageType.DATA: Dimension.VOLUME,
    UsageType.EVENT: Dimension.COUNT,
}


def dimension(unit: Unit) -> Dimension:
    return _UNITS[unit][0]


def base_units(unit: Unit) -> int:
    """How many base units (seconds, events or bytes) one `unit` is."""
    return _UNITS[unit][1]


def unit_fits(usage_type: UsageType, unit: Unit) -> bool:
    return USAGE_DIMENSION[usage_type] == dimension(unit)


def units_for(usage_type: UsageType) -> list[str]:
    return [u.value for u, (dim, _) in _UNITS.items() if dim == USAGE_DIMENSION[usage_type]]


def convert(quantity: Decimal | int, from_unit: Unit, to_unit: Unit) -> Decimal:
    """Convert between units of one dimension. Exact when the result is a finite decimal
    (GB→bytes, minutes→seconds); otherwise Decimal context precision (28 digits), e.g. seconds→minutes."""
    if dimension(from_unit) != dimension(to_unit):
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    return Decimal(quantity) * base_units(from_unit) / base_units(to_unit)
