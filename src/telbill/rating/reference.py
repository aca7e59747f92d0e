"""The naive reference: one record at a time in plain Python, integer arithmetic, same rules.

It is the yardstick of the vectorised engine (a property test demands equal results on random
input), the benchmark's baseline, and — with a trace — the step-by-step `explain` of a record.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telbill.catalog.tariffs import TIME_USAGE, USAGE_TYPES, VOLUME_USAGE
from telbill.rating import schema
from telbill.rating.allowances import Bucket
from telbill.rating.engine import MAX_DURATION_S
from telbill.rating.tariff import METHODS, OPEN_END, CompiledRating, CompiledTariff, CompiledVersion, RateRow


@dataclass
class Timelines:
    """Band timelines per (version, timezone) over the batch's time range, built once."""

    lo: int
    hi: int
    cache: dict[tuple[int, str], tuple[list[int], list[int]]] = field(default_factory=dict)

    def get(self, v: CompiledVersion, tz: str) -> tuple[list[int], list[int]]:
        key = (id(v), tz)
        if key not in self.cache:
            bounds, bands = v.calendar.timeline(tz, self.lo, self.hi)
            self.cache[key] = (bounds, [v.band_ids[b] if b >= 0 else -1 for b in bands])
        return self.cache[key]


@dataclass
class Priced:
    rec: dict[str, Any]
    start: int
    rate: RateRow
    set_id: int
    zone: int
    bands: list[int]
    slices: list[tuple[RateRow, list[int]]]  # per part: its rate and charged quantity per slot


def quantity(rec: dict[str, Any]) -> int | None:
    usage = rec.get("usage_type")
    if usage in TIME_USAGE:
        return rec.get("duration_s")
    if usage in VOLUME_USAGE:
        up, down = rec.get("volume_up"), rec.get("volume_down")
        return None if up is None or down is None else up + down
    return 1


def invalid(rec: dict[str, Any]) -> str | None:
    q = quantity(rec)
    if rec.get("usage_type") not in USAGE_TYPES:
        return "unknown usage type"
    if rec.get("start_time") is None:
        return "missing start_time"
    if q is None or q < 0:
        return "negative or missing quantity"
    if rec["usage_type"] in TIME_USAGE and q > MAX_DURATION_S:
        return "duration longer than 31 days"
    return None


def charged_by_slot(rate: RateRow, a: int, b: int) -> list[int]:
    """Quantity charged in each slot for the part [a, b): whole increments starting inside it."""
    out = []
    for s in rate.slots:
        lo, hi = max(a, s.start), min(b, s.end)
        count = -(-(hi - s.start) // s.increment) - -(-(lo - s.start) // s.increment) if hi > lo else 0
        out.append(count * s.increment)
    return out


def price_record(
    tariff: CompiledTariff, rec: dict[str, Any], lines: Timelines, trace: list[str] | None = None
) -> Priced | str:
    """The parts of a record with their rates, or the reason it cannot be rated."""
    note = trace.append if trace is not None else (lambda _: None)
    rating = tariff.rating
    start = int(rec["start_time"].timestamp())
    q = quantity(rec) or 0
    u = USAGE_TYPES.index(rec["usage_type"])
    zone = rating.zones.resolve(rec.get("visited_mcc"), rec.get("visited_mnc")) if rec.get("roaming") else 0
    unit = (
        "seconds"
        if rec["usage_type"] in TIME_USAGE
        else "bytes"
        if rec["usage_type"] in VOLUME_USAGE
        else "events"
    )
    note(f"quantity {q} {unit}; zone {rating.zones.codes[zone] if zone >= 0 else 'none'}")
    reason = schema.NO_VERSION
    current: CompiledTariff | None = tariff
    while current is not None:
        v = current.version_at(start)
        if v is None:
            note(f"tariff {current.code}: no version in force")
            reason, current = schema.NO_VERSION, current.fallback
            continue
        found = _price_in_version(rating, v, rec, (start, q, u, zone), lines, note)
        if not isinstance(found, str):
            return found
        reason, current = found, current.fallback
        if current is not None:
            note(f"falling back to tariff {current.code}")
    return reason


def _price_in_version(
    rating: CompiledRating,
    v: CompiledVersion,
    rec: dict[str, Any],
    event: tuple[int, int, int, int],
    lines: Timelines,
    note: Any,
) -> Priced | str:
    start, q, u, zone = event
    number = rec.get("other_party") or ""
    index = v.prefix_index.get(rec["usage_type"])
    sid, plen = index.lookup(number) if index and number.isdigit() and len(number) <= 15 else (-1, 0)
    local = v.set_local.get(sid, 0) if sid >= 0 else 0
    dest = rating.set_codes[sid] if sid >= 0 else "any destination"
    note(f"tariff {v.tariff_code} v{v.version}: longest prefix {number[:plen] or '-'} -> {dest}")
    bounds, bands = lines.get(v, rec.get("timezone") or v.timezone)
    timed = rec["usage_type"] in TIME_USAGE and q > 0
    i0 = bisect_right(bounds, start) - 1
    i1 = bisect_right(bounds, start + q - 1) - 1 if timed else i0
    slices, used_bands = [], []
    for k in range(i0, i1 + 1):
        a = 0 if k == i0 else bounds[k] - start
        b = q if k == i1 else min(bounds[k + 1] - start, q)
        band = bands[k]
        rid = v.lookup.get((u, zone, local, band)) if zone >= 0 and band >= 0 else None
        if rid is None:
            band_name = rating.band_codes[band] if band >= 0 else "none"
            zone_name = rating.zones.codes[zone] if zone >= 0 else "none"
            note(f"no rate for {dest} in zone {zone_name}, band {band_name}")
            return schema.NO_ZONE if zone < 0 else schema.NO_TARIFF
        rate = rating.rates[rid]
        charged = charged_by_slot(rate, a, b)
        note(f"part [{a}, {b}) of the event in band {rating.band_codes[band]}")
        for i, (slot, c) in enumerate(zip(rate.slots, charged, strict=True)):
            end = "open" if slot.end >= OPEN_END else slot.end
            note(
                f"  slot {i + 1} [{slot.start}, {end}) by {slot.increment}: charged {c}"
                f" x {slot.per_unit}/{rate.scale} micros per unit"
            )
        slices.append((rate, charged))
        used_bands.append(band)
    return Priced(rec, start, slices[0][0], sid, zone, used_bands, slices)


def finish(p: Priced, free: int, trace: list[str] | None = None) -> int:
    """The event total in micros: the paid part of each slot, connect fee, minimum, cap, rounding."""
    note = trace.append if trace is not None else (lambda _: None)
    rate = p.rate
    amount, before = 0, 0
    for part_rate, charged in p.slices:
        for slot, c in zip(part_rate.slots, charged, strict=True):
            covered = min(max(free - before, 0), c)
            amount += (c - covered) * slot.per_unit
            before += c
    charged_total = sum(sum(c) for _, c in p.slices)
    scale = rate.scale
    note(f"charged {charged_total}, free {free}; usage {amount}/{scale} micros (exact)")
    if charged_total - free <= 0:
        note("nothing left to pay: no connect fee, no minimum")
        return 0
    total = max(rate.connect + amount, rate.minimum)
    note(
        f"+ connect fee {rate.connect}/{scale}, at least the minimum {rate.minimum}/{scale}"
        f" -> {total}/{scale}"
    )
    if rate.cap >= 0 and total > rate.cap:
        total = rate.cap
        note(f"capped at {rate.cap}/{scale}")
    unit = 10 ** (6 - rate.decimals)
    quantum = unit * scale
    method = METHODS.index(rate.method)
    steps = [-(-total // quantum), total // quantum, (2 * total + quantum) // (2 * quantum)]
    micros = steps[method] * unit
    note(f"rounded {rate.method} to {rate.decimals} decimals -> {micros} micros")
    return micros


def _draw(
    buckets: list[Bucket], left: dict[str, int], p: Priced, rating: Any, demand: int
) -> list[tuple[str, int]]:
    """Draw `demand` from the matching buckets, one per priority level; (bucket id, taken) pairs."""
    rec = p.rec
    dest = rating.set_codes[p.set_id] if p.set_id >= 0 else None
    zone = rating.zones.codes[p.zone]
    account = None if rec.get("account_id") is None else str(rec["account_id"])
    found = [b for b in buckets if b.matches(account, rec["usage_type"], dest, zone, p.start)]
    taken = []
    for level in sorted({b.priority for b in found}):
        if demand <= 0:
            break
        b = min(
            (b for b in found if b.priority == level),
            key=lambda b: (int(b.valid_to.timestamp()), b.bucket_id),
        )
        took = min(left[b.bucket_id], demand)
        left[b.bucket_id] -= took
        demand -= took
        taken.append((b.bucket_id, took))
    return taken


def rate_reference(
    tariff: CompiledTariff, records: Sequence[dict[str, Any]], balances: Sequence[Bucket] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """(rated records, rejects, consumed per bucket), one record at a time."""
    priced: list[Priced] = []
    rejects = []
    starts = [int(r["start_time"].timestamp()) for r in records if r.get("start_time") is not None] or [0]
    lines = Timelines(min(starts), max(starts) + MAX_DURATION_S)
    for rec in records:
        bad = invalid(rec)
        if bad:
            rejects.append({**rec, "reject_reason": schema.INVALID, "reject_detail": bad})
            continue
        found = price_record(tariff, rec, lines)
        if isinstance(found, str):
            rejects.append({**rec, "reject_reason": found, "reject_detail": None})
        else:
            priced.append(found)
    left = {b.bucket_id: b.remaining for b in balances}
    units = [b for b in balances if b.unit != "micros"]
    money = [b for b in balances if b.unit == "micros"]
    rated = []
    for p in sorted(priced, key=lambda p: (p.start, p.rec["record_id"])):
        rated.append(_rated(tariff, p, units, money, left))
    consumed = {b.bucket_id: b.remaining - left[b.bucket_id] for b in balances}
    return rated, rejects, {k: v for k, v in consumed.items() if v}


def _rated(
    tariff: CompiledTariff, p: Priced, units: list[Bucket], money: list[Bucket], left: dict[str, int]
) -> dict[str, Any]:
    rating = tariff.rating
    charged = sum(sum(c) for _, c in p.slices)
    drawn = _draw(units, left, p, rating, charged)
    free = sum(t for _, t in drawn)
    amount = finish(p, free)
    paid = _draw(money, left, p, rating, amount)
    covered = sum(t for _, t in paid)
    ids = [b for b, t in drawn + paid if t > 0]
    mask = 0
    for _, c in p.slices:
        mask |= sum(1 << i for i, x in enumerate(c) if x > 0)
    return {
        **p.rec,
        "amount_micros": amount - covered,
        "currency": p.rate.currency,
        "tariff": p.rate.tariff_code,
        "tariff_version": p.rate.version,
        "destination_set": rating.set_codes[p.set_id] if p.set_id >= 0 else None,
        "zone": rating.zones.codes[p.zone],
        "bands": "+".join(rating.band_codes[b] for b in p.bands),
        "slots_used": ",".join(str(i + 1) for i in range(62) if mask >> i & 1),
        "charged_quantity": charged,
        "free_quantity": free,
        "bucket_ids": "+".join(ids) or None,
        "covered_micros": covered,
    }
