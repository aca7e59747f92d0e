"""Time bands: which band applies at each instant, in a timezone, with holidays and priorities.

A calendar resolves each local date into segments of minutes [from, to) → band (the highest
priority rule covering that minute wins). A timeline lays those segments on UTC for a range of
instants: sorted boundaries (epoch seconds) with the band in force from each one. Local wall times
that do not exist on a spring-forward day resolve to the instant after the gap (fold=0).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays as holidays_lib

from telbill.catalog.tariffs import DAY_NAMES, TimeBands
from telbill.core.clock import zone

Rule = tuple[int, frozenset[str], tuple[tuple[int, int], ...], int]  # band, day keys, minutes, priority


@dataclass(frozen=True)
class BandCalendar:
    code: str
    band_codes: tuple[str, ...]
    rules: tuple[Rule, ...]
    timezone: str = "UTC"
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    _cache: dict[date, tuple[tuple[int, int, int], ...]] = field(default_factory=dict, compare=False)

    def is_holiday(self, day: date) -> bool:
        if self.holiday_country is None:
            return False
        return day in _holidays(self.holiday_country, self.holiday_subdivision, day.year)

    def day_segments(self, day: date) -> tuple[tuple[int, int, int], ...]:
        """(from minute, to minute, band index) covering the local day, merged by band."""
        if day in self._cache:
            return self._cache[day]
        keys = {DAY_NAMES[day.weekday()], day.isoformat()} | ({"holiday"} if self.is_holiday(day) else set())
        rules = [r for r in self.rules if r[1] & keys]
        cuts = sorted({0, 1440} | {m for r in rules for rng in r[2] for m in rng})
        segments: list[tuple[int, int, int]] = []
        for a, b in itertools.pairwise(cuts):
            covering = [r for r in rules if any(x <= a and b <= y for x, y in r[2])]
            band = max(covering, key=lambda r: r[3])[0] if covering else -1
            if segments and segments[-1][2] == band:
                segments[-1] = (segments[-1][0], b, band)
            else:
                segments.append((a, b, band))
        self._cache[day] = tuple(segments)
        return self._cache[day]

    def timeline(self, tz: str, start_s: int, end_s: int) -> tuple[list[int], list[int]]:
        """Band boundaries (UTC epoch seconds) and the band from each, covering [start_s, end_s]."""
        zi = zone(tz)
        first = datetime.fromtimestamp(start_s, UTC).astimezone(zi).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end_s, UTC).astimezone(zi).date() + timedelta(days=1)
        bounds: list[int] = []
        bands: list[int] = []
        day = first
        while day <= last:
            for a, _, band in self.day_segments(day):
                local = datetime(day.year, day.month, day.day, a // 60, a % 60, tzinfo=zi)
                instant = int(local.timestamp())
                if bands and bands[-1] == band:
                    continue
                if bounds and instant <= bounds[-1]:
                    bands[-1] = band
                    continue
                bounds.append(instant)
                bands.append(band)
            day += timedelta(days=1)
        return bounds, bands


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, subdiv=subdivision, years=year).keys())


ALL_DAY = BandCalendar("all", ("all",), ((0, frozenset(DAY_NAMES), ((0, 1440),), 0),))


def compile_calendar(spec: TimeBands) -> BandCalendar:
    codes = tuple(spec.band_codes())
    rules = tuple(
        (codes.index(r.band), r.day_keys(), tuple(r.minute_ranges()), r.priority) for r in spec.rules
    )
    country = spec.holidays.country if spec.holidays else None
    subdivision = spec.holidays.subdivision if spec.holidays else None
    return BandCalendar(spec.code, codes, rules, spec.timezone, country, subdivision)
