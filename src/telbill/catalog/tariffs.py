"""Tariff definitions in the catalog YAML (`rating:` section): destination sets, roaming zones,
time-band calendars and versioned tariffs with their rates.

Owned by the rating context's design; validated here so that one catalog file is checked as a whole.
Quantities are in base units (seconds, events, bytes) or strings with a unit ("60s", "1MB", "512KiB").
Prices are exact decimal strings; more than 6 decimals (finer than a micro-unit) is refused.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import holidays as holidays_lib
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

CODE_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,79}$"
USAGE_TYPES = ("voice", "video", "sms", "mms", "data", "event")
TIME_USAGE = frozenset({"voice", "video"})
VOLUME_USAGE = frozenset({"data"})
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = {"weekdays": DAY_NAMES[:5], "weekend": DAY_NAMES[5:], "all": DAY_NAMES}
_UNIT_FACTORS = {
    "": 1,
    "s": 1,
    "sec": 1,
    "min": 60,
    "h": 3600,
    "b": 1,
    "ev": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_QUANTITY = re.compile(r"^\s*(\d+)\s*([a-zA-Z]*)\s*$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _quantity(value: Any) -> Any:
    """An integer count of base units, from an int or a string with a unit ("60s", "1MB")."""
    if isinstance(value, (bool, float)):
        raise PydanticCustomError("quantity", "expected an integer or a string such as '60s' or '1MB'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if m and m.group(2).lower() in _UNIT_FACTORS:
            return int(m.group(1)) * _UNIT_FACTORS[m.group(2).lower()]
        raise PydanticCustomError(
            "quantity", "not a quantity: '{value}' (e.g. 60, '60s', '1MB')", {"value": value}
        )
    return value


def _price(value: Any) -> Decimal:
    """An exact amount of the currency unit, at most 6 decimals (it becomes integer micros)."""
    if isinstance(value, (bool, float)):
        raise PydanticCustomError("price", 'prices are exact: quote the number as a string, e.g. "0.10"')
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise PydanticCustomError("price", "not a decimal amount: {value!r}", {"value": value}) from None
    if not d.is_finite() or d < 0:
        raise PydanticCustomError(
            "price", "a price must be a finite non-negative amount, got {value}", {"value": str(value)}
        )
    if d != d.quantize(Decimal("0.000001")):
        raise PydanticCustomError(
            "price_precision",
            "{value} has more than 6 decimals (finer than a micro-unit)",
            {"value": str(value)},
        )
    return d


def _digits(value: Any) -> Any:
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isdigit() or not 1 <= len(text) <= 15:
        raise PydanticCustomError(
            "prefix", "a prefix is 1 to 15 digits of an E.164 number, got {value!r}", {"value": value}
        )
    return text


Code = Annotated[str, Field(pattern=CODE_PATTERN)]
Quantity = Annotated[int, BeforeValidator(_quantity), Field(ge=0)]
PositiveQuantity = Annotated[int, BeforeValidator(_quantity), Field(ge=1)]
Price = Annotated[Decimal, BeforeValidator(_price)]
Prefix = Annotated[str, BeforeValidator(_digits)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DestinationSet(_Spec):
    """Numbers sharing a price: inline prefixes and/or a CSV file of prefixes (first column)."""

    code: Code
    name: str | None = None
    prefixes: tuple[Prefix, ...] = ()
    prefix_file: str | None = None


class RoamingZone(_Spec):
    """Visited networks as "MCC" (any network of that country) or "MCC-MNC"."""

    code: Code
    networks: tuple[str, ...] = ()
    like_home: bool = False
    default: bool = False


class BandRule(_Spec):
    band: Code
    days: tuple[str, ...] = ("all",)
    hours: tuple[str, ...] = ("00:00-24:00",)
    priority: int = 0

    @model_validator(mode="after")
    def _check(self) -> BandRule:
        for d in self.days:
            if d not in DAY_NAMES and d not in DAY_WORDS and d != "holiday" and not _is_date(d):
                raise ValueError(f"unknown day {d!r} (mon..sun, weekdays, weekend, all, holiday, YYYY-MM-DD)")
        self.minute_ranges()
        return self

    def minute_ranges(self) -> list[tuple[int, int]]:
        """Hours as [from, to) in minutes of the local day."""
        out = []
        for h in self.hours:
            m = _HOURS.match(h.strip())
            if not m:
                raise ValueError(f"hours {h!r} must read HH:MM-HH:MM")
            a, b = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
            if not 0 <= a < b <= 1440 or int(m[2]) > 59 or int(m[4]) > 59:
                raise ValueError(f"hours {h!r} must go forward within one day (00:00-24:00)")
            out.append((a, b))
        return out

    def day_keys(self) -> frozenset[str]:
        keys: set[str] = set()
        for d in self.days:
            keys.update(DAY_WORDS.get(d, (d,)))
        return frozenset(keys)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


class HolidayCalendar(_Spec):
    country: str
    subdivision: str | None = None

    @model_validator(mode="after")
    def _known(self) -> HolidayCalendar:
        if self.country not in holidays_lib.list_supported_countries():
            raise ValueError(f"no holiday calendar for country {self.country!r}")
        return self


class TimeBands(_Spec):
    """A weekly rule set in one timezone; a higher priority wins where rules overlap."""

    code: Code
    timezone: str = "UTC"
    holidays: HolidayCalendar | None = None
    rules: tuple[BandRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TimeBands:
        from telbill.core.clock import zone

        zone(self.timezone)
        issues = _band_overlaps(self.rules) + _band_gaps(self.rules)
        if issues:
            raise _rules_broken(issues)
        return self

    def band_codes(self) -> list[str]:
        return list(dict.fromkeys(r.band for r in self.rules))


def _band_overlaps(rules: tuple[BandRule, ...]) -> list[tuple[tuple[Any, ...], str]]:
    issues = []
    for j, b in enumerate(rules):
        for i, a in enumerate(rules[:j]):
            if a.priority != b.priority or a.band == b.band:
                continue
            if not _days_meet(a.day_keys(), b.day_keys()):
                continue
            if any(x0 < y1 and y0 < x1 for x0, x1 in a.minute_ranges() for y0, y1 in b.minute_ranges()):
                issues.append(
                    (
                        (("rules", j)),
                        f"band {b.band!r} overlaps rules[{i}] ({a.band!r}) at the "
                        f"same priority {a.priority}; give one of them a higher priority",
                    )
                )
    return issues


def _days_meet(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two day sets can apply to one date (a holiday or a date is also a weekday)."""
    special = lambda s: {d for d in s if d not in DAY_NAMES}  # noqa: E731
    return bool(a & b) or bool(special(a) and b) or bool(special(b) and a)


def _band_gaps(rules: tuple[BandRule, ...]) -> list[tuple[tuple[Any, ...], str]]:
    issues = []
    for day in DAY_NAMES:
        covered = sorted(r for rule in rules if day in rule.day_keys() for r in rule.minute_ranges())
        reach = 0
        for a, b in covered:
            if a > reach:
                break
            reach = max(reach, b)
        if reach < 1440:
            issues.append(((("rules",)), f"no band covers {day} from minute {reach} of the day"))
    return issues


class Slot(_Spec):
    """From this offset in the event, charge whole increments at `price` per `per` base units."""

    from_: Quantity = Field(0, alias="from")
    increment: PositiveQuantity
    price: Price | None = None
    per: PositiveQuantity | None = None


class Rate(_Spec):
    usage_type: str = "voice"
    destination_set: Code | None = None
    zone: Code = "home"
    band: Code | None = None
    price: Price | None = None
    per: PositiveQuantity | None = None
    increments: str | None = None
    slots: tuple[Slot, ...] = ()
    connect_fee: Price = Decimal(0)
    minimum_charge: Price = Decimal(0)
    max_cost: Price | None = None

    @model_validator(mode="after")
    def _check(self) -> Rate:
        if self.usage_type not in USAGE_TYPES:
            raise ValueError(f"unknown usage_type {self.usage_type!r} (one of {', '.join(USAGE_TYPES)})")
        if self.increments and self.slots:
            raise ValueError("give either `increments` (e.g. '60/1') or `slots`, not both")
        if self.increments:
            _split_increments(self.increments)
        if any(s.price is None for s in self.slots) and self.price is None:
            raise ValueError("every slot needs a price, or give the rate a `price`")
        if not self.slots and self.price is None:
            raise ValueError("a rate needs a `price` (or slots with prices)")
        return self

    def default_per(self) -> int:
        return 60 if self.usage_type in TIME_USAGE else 1_000_000 if self.usage_type in VOLUME_USAGE else 1

    def slot_list(self) -> list[tuple[int, int | None, int, Decimal, int]]:
        """(from, to, increment, price, per) for each slot, in offset order; the last is open-ended."""
        per = self.per or self.default_per()
        if not self.slots:
            first, then = _split_increments(self.increments or "1")
            raw = (
                [(0, first, self.price, per), (first, then, self.price, per)]
                if then and then != first  # "60/60" is one slot of whole minutes
                else [(0, first, self.price, per)]
            )
        else:
            raw = [
                (s.from_, s.increment, self.price if s.price is None else s.price, s.per or per)
                for s in self.slots
            ]
        out = []
        for i, (start, inc, price, p) in enumerate(raw):
            end = raw[i + 1][0] if i + 1 < len(raw) else None
            out.append((start, end, inc, price, p))
        return out

    def slot_issues(self) -> list[tuple[tuple[Any, ...], str]]:
        slots = self.slot_list()
        issues: list[tuple[tuple[Any, ...], str]] = []
        if slots[0][0] != 0:
            issues.append((("slots", 0, "from"), "the first slot must start at 0"))
        for i, (start, end, inc, _, _) in enumerate(slots):
            if end is not None and (end <= start or (end - start) % inc):
                issues.append(
                    (
                        ("slots", i),
                        f"slot [{start}, {end}) must be a whole number of increments "
                        f"of {inc} and shorter than the next slot's start",
                    )
                )
        return issues


def _split_increments(text: str) -> tuple[int, int | None]:
    parts = text.split("/")
    if len(parts) > 2:
        raise ValueError(f"increments {text!r} must read 'first/next', e.g. '60/1'")
    values = [_quantity(p) for p in parts]
    if any(v < 1 for v in values):
        raise ValueError(f"increments {text!r} must be positive")
    return values[0], (values[1] if len(values) == 2 else None)


class Rounding(_Spec):
    """The event total is rounded once, to `decimals` of the currency unit, by `method`."""

    decimals: int = Field(6, ge=0, le=6)
    method: str = Field("half_up", pattern=r"^(up|down|half_up)$")


class TariffVersion(_Spec):
    version: int = Field(ge=1)
    effective_from: date | datetime
    effective_to: date | datetime | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    time_bands: Code | None = None
    timezone: str | None = None
    rounding: Rounding = Rounding()
    rates: tuple[Rate, ...] = Field(min_length=1)


class Tariff(_Spec):
    code: Code
    name: str | None = None
    fallback: Code | None = None
    versions: tuple[TariffVersion, ...] = Field(min_length=1)


class RatingCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    destination_sets: tuple[DestinationSet, ...] = ()
    zones: tuple[RoamingZone, ...] = ()
    time_bands: tuple[TimeBands, ...] = ()
    tariffs: tuple[Tariff, ...] = ()

    def tariff_codes(self) -> set[str]:
        """Codes that offers' usage charges may reference."""
        return {t.code for t in self.tariffs}

    @model_validator(mode="after")
    def _references(self) -> RatingCatalog:
        issues = _reference_issues(self)
        if issues:
            raise _rules_broken(issues)
        return self


def _rules_broken(issues: list[tuple[tuple[Any, ...], str]]) -> PydanticCustomError:
    """One error carrying each problem with its path (the catalog parser expands `issues`)."""
    summary = "; ".join(f"{format_path(p)}: {m}" if p else m for p, m in issues)
    return PydanticCustomError("catalog_rules", "{summary}", {"summary": summary, "issues": list(issues)})


def format_path(path: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


Issues = list[tuple[tuple[Any, ...], str]]


def _reference_issues(cat: RatingCatalog) -> Issues:
    issues: Issues = []
    for name in ("destination_sets", "zones", "time_bands", "tariffs"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(cat, name)):
            if item.code in seen:
                issues.append(((name, i, "code"), f"duplicate code {item.code!r}"))
            seen.add(item.code)
    defaults = [i for i, z in enumerate(cat.zones) if z.default]
    if len(defaults) > 1:
        issues.append((("zones", defaults[1], "default"), "only one zone may be the default"))
    codes = cat.tariff_codes()
    for i, tariff in enumerate(cat.tariffs):
        if tariff.fallback is not None and tariff.fallback not in codes:
            issues.append((("tariffs", i, "fallback"), f"unknown tariff {tariff.fallback!r}"))
        issues += _version_issues(cat, tariff, ("tariffs", i))
    issues += _fallback_cycles(cat)
    return issues


def _version_issues(cat: RatingCatalog, tariff: Tariff, path: tuple[Any, ...]) -> Issues:
    from telbill.core.clock import zone

    issues: Issues = []
    sets = {s.code for s in cat.destination_sets}
    zones = {z.code for z in cat.zones} | {"home"}
    calendars = {c.code: c for c in cat.time_bands}
    numbers = [v.version for v in tariff.versions]
    for j, v in enumerate(tariff.versions):
        vp = (*path, "versions", j)
        if numbers.count(v.version) > 1 and numbers.index(v.version) != j:
            issues.append(((*vp, "version"), f"duplicate version {v.version}"))
        if v.effective_to is not None and _sort_key(v.effective_to) <= _sort_key(v.effective_from):
            issues.append(((*vp, "effective_to"), "must be after effective_from"))
        if v.timezone is not None:
            try:
                zone(v.timezone)
            except Exception as exc:  # ValidationFailed names the zone
                issues.append(((*vp, "timezone"), str(exc)))
        bands: set[str] = {"all"}
        if v.time_bands is not None:
            if v.time_bands not in calendars:
                issues.append(((*vp, "time_bands"), f"unknown time bands {v.time_bands!r}"))
            else:
                bands = set(calendars[v.time_bands].band_codes())
        keys: dict[tuple[Any, ...], int] = {}
        for k, rate in enumerate(v.rates):
            rp = (*vp, "rates", k)
            if rate.destination_set is not None and rate.destination_set not in sets:
                issues.append(((*rp, "destination_set"), f"unknown destination set {rate.destination_set!r}"))
            if rate.zone not in zones:
                issues.append(((*rp, "zone"), f"unknown zone {rate.zone!r}"))
            if rate.band is not None and rate.band not in bands:
                issues.append(
                    ((*rp, "band"), f"unknown band {rate.band!r} (known: {', '.join(sorted(bands))})")
                )
            issues += [((*rp, *p), m) for p, m in rate.slot_issues()]
            key = (rate.usage_type, rate.zone, rate.destination_set, rate.band)
            if key in keys:
                issues.append((rp, f"same usage type, zone, destination set and band as rates[{keys[key]}]"))
            keys.setdefault(key, k)
    issues += _overlapping_versions(tariff, path)
    return issues


def _sort_key(value: date | datetime) -> datetime:
    from datetime import UTC, time

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _overlapping_versions(tariff: Tariff, path: tuple[Any, ...]) -> Issues:
    order = sorted(range(len(tariff.versions)), key=lambda j: _sort_key(tariff.versions[j].effective_from))
    issues: Issues = []
    for a, b in itertools.pairwise(order):
        end = tariff.versions[a].effective_to
        if end is None or _sort_key(end) > _sort_key(tariff.versions[b].effective_from):
            issues.append(
                (
                    (*path, "versions", b, "effective_from"),
                    f"overlaps version {tariff.versions[a].version}; close it with effective_to",
                )
            )
    return issues


def _fallback_cycles(cat: RatingCatalog) -> Issues:
    nxt = {t.code: t.fallback for t in cat.tariffs}
    issues: Issues = []
    for i, tariff in enumerate(cat.tariffs):
        seen, code = {tariff.code}, tariff.fallback
        while code is not None and code in nxt:
            if code in seen:
                issues.append((("tariffs", i, "fallback"), f"fallback chain of {tariff.code!r} loops"))
                break
            seen.add(code)
            code = nxt[code]
    return issues
