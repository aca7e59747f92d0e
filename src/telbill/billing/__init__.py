"""billing context: bill cycles and service periods (the bill run builds on these)."""

from telbill.billing.periods import (
    BillingCycle,
    Period,
    describe_length,
    first_period_for,
    local_date_to_utc,
    next_period_start,
    parse_length,
    period_at,
    period_containing,
    period_index,
    periods_between,
)

__all__ = [
    "BillingCycle",
    "Period",
    "describe_length",
    "first_period_for",
    "local_date_to_utc",
    "next_period_start",
    "parse_length",
    "period_at",
    "period_containing",
    "period_index",
    "periods_between",
]
