"""The upcoming invoice of an account at any date, computed by the same code as the bill run and
written nowhere: the loads are reads, the generator and assembler are pure, nothing is flushed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from telbill.accounts import payer_of
from telbill.billing.assemble import Assembled
from telbill.billing.loading import BatchSources, default_usage_source, load_batch
from telbill.billing.run import BillRunOptions, compute, discounts_for
from telbill.core.clock import ensure_utc


def preview_invoice(
    session: Session,
    account_id: int,
    at: datetime,
    options: BillRunOptions | None = None,
    sources: BatchSources | None = None,
) -> Assembled | None:
    """The invoice the payer of `account_id` would get for the period containing `at` (None: nothing due)."""
    options = options or BillRunOptions()
    at = ensure_utc(at)
    payer = payer_of(session, account_id).id
    sources = sources or BatchSources(default_usage_source(session))
    with session.no_autoflush:
        (loaded,), offers = load_batch(session, [payer], at, sources, options.lookback)
        discounts = discounts_for(session, [loaded], at, options.lookback)
        return compute(loaded, offers, at, options, discounts.get(payer, ()), discounts)
