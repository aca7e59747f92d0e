"""Re-rating: price a period again after a tariff or catalog correction.

Re-rating works on whole billing periods (those of the accounts concerned that meet
`[start, end)`, and the whole account hierarchy when allowances are shared), so allowances can be
restored to each period's opening balance and drawn again in event order:

- a record not invoiced yet whose result changes gets a new generation (the old row is kept,
  superseded by the run); an unchanged result writes nothing;
- a record already invoiced keeps its row (an issued invoice never changes); the difference, per
  subscription, charge, period and currency, becomes one pending **adjustment** for the next
  invoice: new total − billed total − adjustments already billed;
- records that had failed are rated again (a new generation when the result differs).

Twice is once: the second run finds every result unchanged and the same adjustment amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl
from sqlalchemy.orm import Session

from telbill.core.clock import Clock, ensure_utc
from telbill.core.errors import ValidationFailed
from telbill.rating import repository as repo
from telbill.rating.model import AllowanceBalance, RatingAdjustment, RatingRun
from telbill.rating.service import (
    RatingContext,
    RatingRunReport,
    count_into,
    family_batches,
    finish,
    save_balances,
    write_rows,
)
from telbill.rating.usage_rating import rate_usage

COMPARED = (
    "status", "reason", "subscription_id", "charge_code", "pricing", "amount_micros", "quantity_base",
    "currency", "billing_period_start", "tariff_code", "tariff_version", "free_quantity", "bucket_ids",
)  # fmt: skip
TICK = timedelta(microseconds=1)


def rerate(
    session: Session,
    clock: Clock,
    start: datetime,
    end: datetime,
    account_ids: Sequence[int] | None = None,
    batch_size: int = 50_000,
) -> RatingRunReport:
    """Re-rate the usage of `[start, end)` (of these accounts, or all) on whole billing periods."""
    start, end = ensure_utc(start), ensure_utc(end)
    if end <= start:
        raise ValidationFailed(f"re-rating needs from < to, got {start.isoformat()} .. {end.isoformat()}")
    ctx = RatingContext(session)
    run = repo.add_run(
        session,
        RatingRun(
            kind="rerate", started_at=clock.now(), window_from=start, window_to=end,
            accounts=list(account_ids) if account_ids is not None else None, amounts={},
        ),
    )  # fmt: skip
    report = RatingRunReport(run.id)
    found = repo.usage_between(session, account_ids, start, end)
    accounts = ctx.families(set(found["account_id"].to_list()) | set(account_ids or ()))
    counts = [(a, 1) for a in sorted(accounts)]
    for batch in family_batches(ctx, counts, batch_size):
        lo, hi = _periods(ctx, batch, start, end)
        usage = repo.usage_between(session, batch, lo, hi)
        if usage.height:
            _rerate_batch(session, clock, ctx, usage, run, report)
    return finish(session, clock, run, report)


def _periods(
    ctx: RatingContext, accounts: Sequence[int], start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """The start of the first and the end of the last billing period meeting `[start, end)`."""
    lo, hi = start, end
    for a in accounts:
        terms = ctx.accounts[a]
        lo = min(lo, terms.period_at(start)[0])
        hi = max(hi, terms.period_at(end - TICK)[1])
    return lo, hi


def sync_invoiced(session: Session, subscription_ids: Sequence[int]) -> None:
    """Mark rated usage and adjustments that finalised invoices carry (read back by line key)."""
    for invoice_id, ref, sub in repo.usage_lines(session, subscription_ids):
        parts = ref.split("|")
        if parts[0] == "us" and len(parts) >= 5:
            repo.mark_invoiced(session, invoice_id, sub, parts[3], datetime.fromisoformat(parts[4]))
        elif parts[0] == "ad" and len(parts) >= 6 and parts[5].isdigit():
            repo.mark_adjustment_billed(session, int(parts[5]), invoice_id)


def _rerate_batch(
    session: Session,
    clock: Clock,
    ctx: RatingContext,
    usage: pl.DataFrame,
    run: RatingRun,
    report: RatingRunReport,
) -> None:
    facts = ctx.facts(session, set(usage["account_id"].to_list()))
    sync_invoiced(session, list(facts.subscriptions))
    stored: dict[str, AllowanceBalance] = {}

    def opening(bucket_ids: set[str]) -> dict[str, int]:
        """Stored openings of period grants; rolled chunks are computed again from the previous
        period's end balances (which this pass may just have changed)."""
        stored.update(repo.balances(session, bucket_ids))
        return {b: r.opening for b, r in stored.items() if "@" not in b}

    def ended(bucket_ids: set[str]) -> dict[str, int]:
        return {b: r.remaining for b, r in repo.balances(session, bucket_ids).items()}

    result = rate_usage(usage, facts, ctx.rating, opening, ended)
    previous = repo.current_rows(session, usage["usage_record_id"].to_list())
    joined = result.rows.join(previous, on="usage_record_id", how="left", suffix="_prev")
    invoiced = joined.filter(pl.col("invoice_id").is_not_null())
    open_ = joined.filter(pl.col("invoice_id").is_null())
    same = pl.lit(True)
    for c in COMPARED:
        same = same & pl.col(c).eq_missing(pl.col(f"{c}_prev"))
    changed = open_.filter(~same | pl.col("rated_id").is_null())
    rows = result.rows.filter(pl.col("usage_record_id").is_in(changed["usage_record_id"].implode()))
    write_rows(
        session,
        rows,
        run,
        clock.now(),
        previous.filter(pl.col("usage_record_id").is_in(rows["usage_record_id"].implode())),
    )
    save_balances(session, clock, result, stored, reopen=True)
    count_into(report, result.rows)
    report.replaced += changed.filter(pl.col("rated_id").is_not_null()).height
    report.unchanged += open_.height - changed.height
    report.invoiced += invoiced.height
    report.adjustments += _adjust(session, clock, run, invoiced)


def _adjust(session: Session, clock: Clock, run: RatingRun, invoiced: pl.DataFrame) -> int:
    """Set each group's pending adjustment to new total − billed total − adjustments billed."""
    if invoiced.is_empty():
        return 0
    keys = [
        "subscription_id_prev",
        "offer_code_prev",
        "charge_code_prev",
        "billing_period_start_prev",
        "currency_prev",
    ]
    groups = invoiced.group_by(keys).agg(
        account_id=pl.col("account_id").first(),
        target=pl.col("amount_micros").fill_null(0).sum(),
        billed=pl.col("amount_micros_prev").fill_null(0).sum(),
    )
    subs = groups["subscription_id_prev"].unique().to_list()
    existing = repo.adjustments_of(session, subs)
    touched = 0
    for sub, offer, charge, period, currency, account, target, billed in groups.iter_rows():
        group = (sub, charge, period, currency)
        mine = [
            a
            for a in existing
            if (a.subscription_id, a.charge_code, a.billing_period_start, a.currency) == group
        ]
        billed += sum(a.amount_micros for a in mine if a.status == "billed")
        pending = next((a for a in mine if a.status == "pending"), None)
        delta = target - billed
        if pending is not None and delta == 0:
            repo.delete_adjustment(session, pending.id)
        elif pending is not None and pending.amount_micros != delta:
            pending.amount_micros, pending.rating_run_id = delta, run.id
        elif pending is None and delta != 0:
            session.add(
                RatingAdjustment(
                    account_id=account, subscription_id=sub, offer_code=offer or "", charge_code=charge,
                    billing_period_start=period, currency=currency, amount_micros=delta, status="pending",
                    rating_run_id=run.id, created_at=clock.now(),
                )
            )  # fmt: skip
        touched += delta != 0
    session.flush()
    return touched
