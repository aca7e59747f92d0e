"""The bill run's usage port, from the database: rated usage summed per billing period, and the
adjustments re-rating left for usage already invoiced.

`RatedUsageSource(session).aggregates(account_ids, start, end)` is one GROUP BY (per chunk of
5,000 accounts) over the current `rated_usage` rows of tariff and model charges whose
`billing_period_start` is in `[start, end)`. Quantities are in base units (seconds, events, bytes),
which the bill run converts; `amount_micros` is the tariff-priced amount (0 for model charges).
Usage that an allowance alone covers (`included`) and failed records are not billed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from telbill.billing.charges import ProposedItem, item_key
from telbill.billing.usage import UsageAggregate
from telbill.core.money import Money
from telbill.rating import repository as repo
from telbill.rating.grants import bucket_unit


class RatedUsageSource:
    """`telbill.billing.usage.UsageSource` over `rated_usage`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def aggregates(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[UsageAggregate]:
        return usage_aggregates(self.session, account_ids, start, end)

    def adjustments(self, account_ids: Sequence[int], start: datetime, end: datetime) -> list[ProposedItem]:
        return rerating_adjustments(self.session, account_ids, start, end)


def usage_aggregates(
    session: Session, account_ids: Sequence[int], start: datetime, end: datetime
) -> list[UsageAggregate]:
    """Rated usage of these accounts per subscription, charge, usage type, destination and period."""
    out = []
    for account, sub, charge, utype, dest, period, quantity, micros, events in repo.aggregate_rows(
        session, account_ids, start, end
    ):
        out.append(
            UsageAggregate(
                account_id=account,
                subscription_id=sub,
                charge_code=charge,
                usage_type=utype,
                period_start=period,
                quantity=Decimal(int(quantity or 0)),
                unit=bucket_unit(utype),
                amount_micros=int(micros or 0),
                events=int(events),
                destination=dest or "",
            )
        )
    return out


def rerating_adjustments(
    session: Session, account_ids: Sequence[int], start: datetime, end: datetime
) -> list[ProposedItem]:
    """Pending re-rating adjustments of these accounts for periods before `end`, as invoice items
    keyed `ad|subscription|offer|charge|period|id` (billed once: the key is the adjustment's own)."""
    out = []
    for adj in repo.pending_adjustments(session, account_ids, end):
        amount = Money.from_micros(adj.amount_micros, adj.currency).rounded().amount
        if not amount:
            continue
        key = item_key("ad", adj.subscription_id, adj.offer_code, adj.charge_code, adj.billing_period_start)
        what = "Re-rating credit" if amount < 0 else "Re-rating charge"
        out.append(
            ProposedItem(
                key=f"{key}|{adj.id}",
                account_id=adj.account_id,
                subscription_id=adj.subscription_id,
                offer_code=adj.offer_code,
                charge_code=adj.charge_code,
                kind="adjustment",
                description=f"{what} — {adj.charge_code}, usage from {adj.billing_period_start.date()}",
                service_start=adj.billing_period_start,
                service_end=adj.billing_period_start,
                quantity=Decimal(1) if amount > 0 else Decimal(-1),
                unit_price=abs(amount),
                amount=amount,
            )
        )
    return out
