"""Compiled tariffs: the catalog's `rating:` section turned into integer tables for the engine.

Prices become exact integers: a rate's amounts are kept in units of 1/scale micro-units, where
`scale` is the smallest integer that makes every slot's price per base unit (second, event, byte)
whole. Charged quantities times those prices are then exact, and the event total is rounded once.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import polars as pl

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE, Rate, RatingCatalog, TariffVersion
from telbill.core.clock import zone
from telbill.core.errors import ValidationFailed
from telbill.core.money import MICROS
from telbill.rating.bands import ALL_DAY, BandCalendar, compile_calendar
from telbill.rating.prefixes import PrefixIndex, build_prefix_index

OPEN_END = 1 << 62
MAX_SCALE = 10**9
METHODS = ("up", "down", "half_up")


@dataclass(frozen=True)
class Slot:
    start: int
    end: int  # OPEN_END when open
    increment: int
    per_unit: int  # scaled amount per base unit


@dataclass(frozen=True)
class RateRow:
    """One priced (usage type, zone, destination set, band) of a tariff version."""

    rate_id: int
    tariff_code: str
    version: int
    currency: str
    usage_type: str
    zone: str
    destination_set: str | None
    band: str | None
    scale: int
    connect: int  # scaled
    minimum: int  # scaled
    cap: int  # scaled, -1 when uncapped
    decimals: int
    method: str
    slots: tuple[Slot, ...]
    max_quantity: int


@dataclass(frozen=True)
class CompiledVersion:
    tariff_code: str
    version: int
    start_s: int
    end_s: int  # OPEN_END when open
    timezone: str
    calendar: BandCalendar
    band_ids: tuple[int, ...]  # calendar band index -> global band id
    set_local: dict[int, int]  # global set id -> local index (0 is "any destination")
    lookup: dict[tuple[int, int, int, int], int]  # (usage, zone, local set, global band) -> rate id
    prefix_index: dict[str, PrefixIndex]  # by usage type
    dense: pl.Series  # rate id (-1 none) at ((usage * zones + zone) * sets + local set) * bands + band


@dataclass(frozen=True)
class Zones:
    codes: tuple[str, ...]  # index 0 is "home"
    networks: dict[str, int]  # "MCC" or "MCC-MNC" -> zone id (home when roam-like-at-home)
    default: int  # -1 when roaming elsewhere has no zone

    def resolve(self, mcc: str | None, mnc: str | None) -> int:
        if mcc is None:
            return self.default
        found = self.networks.get(f"{mcc}-{mnc}") if mnc is not None else None
        return found if found is not None else self.networks.get(mcc, self.default)


@dataclass(frozen=True)
class CompiledTariff:
    code: str
    versions: tuple[CompiledVersion, ...]
    fallback: CompiledTariff | None
    rating: CompiledRating = field(repr=False, compare=False)

    def version_at(self, instant_s: int) -> CompiledVersion | None:
        for v in self.versions:
            if v.start_s <= instant_s < v.end_s:
                return v
        return None


@dataclass
class CompiledRating:
    """Everything the engine needs, with global ids for sets, bands and zones."""

    set_codes: tuple[str, ...]
    band_codes: tuple[str, ...]
    zones: Zones
    rates: list[RateRow]
    tariffs: dict[str, CompiledTariff]
    derived: dict[str, object] = field(default_factory=dict, repr=False, compare=False)  # built on use

    def tariff(self, code: str) -> CompiledTariff:
        if code not in self.tariffs:
            known = ", ".join(sorted(self.tariffs)) or "none"
            raise ValidationFailed(f"unknown tariff {code!r} (known: {known})")
        return self.tariffs[code]


def compile_rating(catalog: RatingCatalog, base_dir: Path | None = None) -> CompiledRating:
    """Compile every tariff; prefix files are read relative to `base_dir` (the catalog's folder)."""
    set_codes = tuple(s.code for s in catalog.destination_sets)
    prefixes = {
        s.code: _prefixes(s.code, s.prefixes, s.prefix_file, base_dir, i)
        for i, s in enumerate(catalog.destination_sets)
    }
    calendars = {c.code: compile_calendar(c) for c in catalog.time_bands}
    band_codes = tuple(dict.fromkeys(["all", *(b for c in calendars.values() for b in c.band_codes)]))
    rating = CompiledRating(set_codes, band_codes, _zones(catalog), [], {})
    indexes: dict[tuple[tuple[str, int], ...], PrefixIndex] = {}  # the same sets share one index
    for spec in catalog.tariffs:
        versions = tuple(
            _compile_version(rating, spec.code, v, calendars, (prefixes, indexes))
            for v in sorted(spec.versions, key=lambda v: str(v.effective_from))
        )
        rating.tariffs[spec.code] = CompiledTariff(spec.code, versions, None, rating)
    for spec in catalog.tariffs:  # link fallbacks once every tariff exists
        if spec.fallback:
            object.__setattr__(rating.tariffs[spec.code], "fallback", rating.tariffs[spec.fallback])
    return rating


def _prefixes(code: str, inline: tuple[str, ...], file: str | None, base: Path | None, i: int) -> list[str]:
    out = list(inline)
    if file is None:
        return out
    path = (base or Path.cwd()) / file
    where = f"rating.destination_sets[{i}].prefix_file"
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                cell = row[0].strip() if row else ""
                if not cell or (n == 1 and not cell.isdigit()):
                    continue  # blank line or header
                if not cell.isdigit() or len(cell) > 15:
                    raise ValidationFailed(f"{where}: {path.name} line {n}: {cell!r} is not a prefix")
                out.append(cell)
    except OSError as exc:
        raise ValidationFailed(f"{where}: cannot read {path} ({exc.strerror})") from None
    return out


def _zones(catalog: RatingCatalog) -> Zones:
    codes = ("home", *(z.code for z in catalog.zones))
    networks: dict[str, int] = {}
    default = -1
    for i, z in enumerate(catalog.zones, start=1):
        zid = 0 if z.like_home else i
        for n in z.networks:
            networks.setdefault(n.strip(), zid)
        if z.default:
            default = zid
    return Zones(codes, networks, default)


def _instant(value: date | datetime | None, tz: str) -> int:
    if value is None:
        return OPEN_END
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=zone(tz))).astimezone(UTC).timestamp())
    return int(datetime.combine(value, time(0), tzinfo=zone(tz)).timestamp())


def _compile_version(
    rating: CompiledRating,
    code: str,
    spec: TariffVersion,
    calendars: dict[str, BandCalendar],
    sources: tuple[dict[str, list[str]], dict[tuple[tuple[str, int], ...], PrefixIndex]],
) -> CompiledVersion:
    prefixes, indexes = sources
    calendar = calendars[spec.time_bands] if spec.time_bands else ALL_DAY
    tz = spec.timezone or calendar.timezone
    band_ids = tuple(rating.band_codes.index(b) for b in calendar.band_codes)
    used_sets = [s for s in dict.fromkeys(r.destination_set for r in spec.rates) if s is not None]
    set_local = {rating.set_codes.index(s): i + 1 for i, s in enumerate(used_sets)}
    lookup: dict[tuple[int, int, int, int], int] = {}
    for rate in spec.rates:
        rate_id = len(rating.rates)
        rating.rates.append(_rate_row(rate_id, code, spec, rate))
        u = USAGE_TYPES.index(rate.usage_type)
        z = rating.zones.codes.index(rate.zone)
        s = set_local[rating.set_codes.index(rate.destination_set)] if rate.destination_set else 0
        bands = [rating.band_codes.index(rate.band)] if rate.band else list(band_ids)
        for b in bands:
            specific = rate.band is not None
            key = (u, z, s, b)
            if key not in lookup or specific:
                lookup[key] = rate_id
    _fill_defaults(lookup, set_local, band_ids)
    index: dict[str, PrefixIndex] = {}
    for usage in dict.fromkeys(r.usage_type for r in spec.rates):
        sets = [r.destination_set for r in spec.rates if r.usage_type == usage and r.destination_set]
        entries = [(p, rating.set_codes.index(s)) for s in dict.fromkeys(sets) for p in prefixes[s]]
        index[usage] = _shared_index(indexes, entries)
    start = _instant(spec.effective_from, tz)
    dims = (len(USAGE_TYPES), len(rating.zones.codes), len(set_local) + 1, len(rating.band_codes))
    dense = [-1] * math.prod(dims)
    for (u, z, s, b), rid in lookup.items():
        dense[((u * dims[1] + z) * dims[2] + s) * dims[3] + b] = rid
    return CompiledVersion(
        code,
        spec.version,
        start,
        _instant(spec.effective_to, tz),
        tz,
        calendar,
        band_ids,
        set_local,
        lookup,
        index,
        pl.Series(dense, dtype=pl.Int64),
    )


def _shared_index(
    indexes: dict[tuple[tuple[str, int], ...], PrefixIndex], entries: list[tuple[str, int]]
) -> PrefixIndex:
    """One index per distinct prefix list, whatever usage types and versions price it."""
    key = tuple(entries)
    if key not in indexes:
        indexes[key] = build_prefix_index(entries)
    return indexes[key]


def _fill_defaults(
    lookup: dict[tuple[int, int, int, int], int], set_local: dict[int, int], band_ids: tuple[int, ...]
) -> None:
    """A destination set without a rate in some band takes the tariff's any-destination rate."""
    keys = {(u, z) for u, z, _, _ in lookup}
    for u, z in keys:
        for s in set_local.values():
            for b in band_ids:
                if (u, z, s, b) not in lookup and (u, z, 0, b) in lookup:
                    lookup[(u, z, s, b)] = lookup[(u, z, 0, b)]


def _micros(price: Decimal) -> int:
    value = price * MICROS
    if value != value.to_integral_value():
        raise ValidationFailed(f"price {price} is finer than a micro-unit")
    return int(value)


def _rate_row(rate_id: int, code: str, spec: TariffVersion, rate: Rate) -> RateRow:
    raw = rate.slot_list()
    scale = 1
    for _, _, _, price, per in raw:
        p = _micros(price)
        scale = math.lcm(scale, per // math.gcd(per, p) if p else 1)
    if scale > MAX_SCALE:
        raise ValidationFailed(f"tariff {code!r} v{spec.version}: prices need a scale above {MAX_SCALE}")
    slots = tuple(
        Slot(start, OPEN_END if end is None else end, inc, _micros(price) * scale // per)
        for start, end, inc, price, per in raw
    )
    biggest = max([s.per_unit for s in slots] + [1])
    fixed = (_micros(rate.connect_fee) + _micros(rate.minimum_charge)) * scale
    return RateRow(
        rate_id=rate_id,
        tariff_code=code,
        version=spec.version,
        currency=spec.currency,
        usage_type=rate.usage_type,
        zone=rate.zone,
        destination_set=rate.destination_set,
        band=rate.band,
        scale=scale,
        connect=_micros(rate.connect_fee) * scale,
        minimum=_micros(rate.minimum_charge) * scale,
        cap=-1 if rate.max_cost is None else _micros(rate.max_cost) * scale,
        decimals=spec.rounding.decimals,
        method=spec.rounding.method,
        slots=slots,
        max_quantity=max(0, ((1 << 62) - fixed) // biggest - max(s.increment for s in slots)),
    )


def dimension_of(usage_type: str) -> str:
    if usage_type in TIME_USAGE:
        return "time"
    return "volume" if usage_type in VOLUME_USAGE else "count"


def rate_table(rating: CompiledRating) -> pl.DataFrame:
    """The rate rows as columns, indexed by rate id, for gathers in the engine (built once)."""
    table = rating.derived.get("rate_table")
    if not isinstance(table, pl.DataFrame) or table.height != len(rating.rates):
        table = rating.derived["rate_table"] = _rate_table(rating)
    return table


def _rate_table(rating: CompiledRating) -> pl.DataFrame:
    width = max((len(r.slots) for r in rating.rates), default=1)
    cols: dict[str, list[int]] = {}
    for i in range(width):
        cols[f"s{i}_start"] = [r.slots[i].start if i < len(r.slots) else 0 for r in rating.rates]
        cols[f"s{i}_end"] = [r.slots[i].end if i < len(r.slots) else 0 for r in rating.rates]
        cols[f"s{i}_inc"] = [r.slots[i].increment if i < len(r.slots) else 1 for r in rating.rates]
        cols[f"s{i}_per"] = [r.slots[i].per_unit if i < len(r.slots) else 0 for r in rating.rates]
    for name in ("scale", "connect", "minimum", "cap", "decimals", "max_quantity"):
        cols[name] = [getattr(r, name) for r in rating.rates]
    cols["method"] = [METHODS.index(r.method) for r in rating.rates]
    cols["version"] = [r.version for r in rating.rates]
    cols["unit"] = [10 ** (6 - r.decimals) for r in rating.rates]  # micros per rounding step
    cols["quantum"] = [10 ** (6 - r.decimals) * r.scale for r in rating.rates]  # the same, scaled
    return pl.DataFrame(cols, schema={k: pl.Int64 for k in cols})
