"""Use cases of the exchange rates: record and import them, list them, and the rate in force for
a currency pair on a date. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from telbill.core.clock import Clock
from telbill.core.errors import Conflict, ValidationFailed
from telbill.fx import repository
from telbill.fx.model import ExchangeRate
from telbill.fx.rates import Rate, parse_rates


class MissingExchangeRate(ValidationFailed):
    """No rate of a pair is in force on a date (none recorded on or before it)."""

    code = "missing_exchange_rate"

    def __init__(self, missing: Sequence[tuple[str, str, date]]) -> None:
        named = [f"{code}/{accounting} on {on.isoformat()}" for code, accounting, on in sorted(set(missing))]
        super().__init__(
            f"no exchange rate in force for {', '.join(named)}: record one dated on or before that day "
            "(telbill fx import FILE)",
            details=[f"missing: {n}" for n in named] if len(named) > 1 else (),
        )
        self.missing = tuple(sorted(set(missing)))


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: int = 0
    unchanged: int = 0
    replaced: int = 0


def _rate(row: ExchangeRate) -> Rate:
    return Rate(row.base_currency, row.quote_currency, row.rate, row.effective_date, row.source)


def rate_in_force(session: Session, code: str, accounting: str, on: date) -> Rate:
    """The rate of `code` and `accounting` with the latest effective date ≤ `on`, either way round
    (`convert` handles both); `MissingExchangeRate` names the pair and the date when there is none."""
    row = repository.in_force(session, code, accounting, on)
    if row is None:
        raise MissingExchangeRate([(code, accounting, on)])
    return _rate(row)


def rates_in_force(
    session: Session, wanted: Iterable[tuple[str, str, date]]
) -> tuple[dict[tuple[str, str, date], Rate], list[tuple[str, str, date]]]:
    """One look-up per distinct (currency, accounting currency, date): the rates found, and the
    keys with none (for a caller that refuses some items and not the whole batch)."""
    found: dict[tuple[str, str, date], Rate] = {}
    missing: list[tuple[str, str, date]] = []
    for key in sorted(set(wanted)):
        row = repository.in_force(session, *key)
        if row is None:
            missing.append(key)
        else:
            found[key] = _rate(row)
    return found, missing


def record_rates(
    session: Session, clock: Clock, rates: Sequence[Rate], *, replace: bool = False
) -> ImportSummary:
    """Store rates. A pair and date already recorded with the same rate is left as it is; with
    another rate it is refused (every conflict listed) unless `replace` — invoices already issued
    keep the rate frozen in them either way."""
    latest: dict[tuple[str, str, date], Rate] = {}
    for rate in rates:
        key = (rate.base, rate.quote, rate.effective_date)
        if key in latest and latest[key].rate != rate.rate:
            raise ValidationFailed(f"{rate.pair} on {rate.effective_date}: the file gives two rates")
        latest[key] = rate
    stored = repository.existing(session, list(latest))
    conflicts = [
        f"{r.pair} on {r.effective_date}: recorded {stored[k].rate} ({stored[k].source}), given {r.rate}"
        for k, r in latest.items()
        if k in stored and stored[k].rate != r.rate
    ]
    if conflicts and not replace:
        raise Conflict(
            f"{len(conflicts)} rate(s) already recorded with another value; nothing imported "
            "(import again with --replace to correct them)",
            details=conflicts[:20],
        )
    now = clock.now()
    added = unchanged = replaced = 0
    for key, rate in latest.items():
        row = stored.get(key)
        if row is None:
            session.add(
                ExchangeRate(
                    base_currency=rate.base, quote_currency=rate.quote, effective_date=rate.effective_date,
                    rate=rate.rate, source=rate.source, recorded_at=now, updated_at=now,
                )
            )  # fmt: skip
            added += 1
        elif row.rate == rate.rate:
            unchanged += 1
        else:
            row.rate, row.source, row.updated_at = rate.rate, rate.source, now
            replaced += 1
    session.flush()
    return ImportSummary(added, unchanged, replaced)


def import_rates(
    session: Session, clock: Clock, path: Path, *, source: str | None = None, replace: bool = False
) -> ImportSummary:
    """A CSV file of rates (`fx.rates.parse_rates`): all of it or, when a line is wrong, none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    rates, rejects = parse_rates(text, source)
    if rejects:
        raise ValidationFailed(
            f"{path}: {len(rejects)} line(s) refused; nothing imported",
            details=[str(r) for r in rejects[:20]],
        )
    if not rates:
        raise ValidationFailed(f"{path}: no rate in the file")
    return record_rates(session, clock, rates, replace=replace)


def list_rates(
    session: Session,
    *,
    currency: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 100,
) -> list[Rate]:
    """Newest first, optionally of one currency (either side of the pair) and between two dates."""
    return [_rate(r) for r in repository.listed(session, currency, since, until, limit)]
