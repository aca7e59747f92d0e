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

# The bill run (its modules import the catalog, accounts and invoicing contexts, so they are
# loaded on first use rather than here).
_RUN_EXPORTS = {
    "BillRunOptions": "telbill.billing.run",
    "BatchResult": "telbill.billing.run",
    "bill_run": "telbill.billing.run",
    "plan_run": "telbill.billing.run",
    "process_batch": "telbill.billing.run",
    "resume_runs": "telbill.billing.run",
    "due_at": "telbill.billing.run",
    "has_been_billed": "telbill.billing.run",
    "preview_invoice": "telbill.billing.preview",
    "CreditHandling": "telbill.billing.assemble",
    "UsageAggregate": "telbill.billing.usage",
    "UsageSource": "telbill.billing.usage",
    "InMemoryUsage": "telbill.billing.usage",
    "BatchSources": "telbill.billing.loading",
}


def __getattr__(name: str) -> object:
    module = _RUN_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'telbill.billing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    *_RUN_EXPORTS,
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
