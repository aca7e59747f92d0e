"""Rating: compiled tariffs and the vectorised, integer-only rating of usage batches.

Other contexts import only these names.
"""

from telbill.rating.allowances import Bucket, prorated, rolled_over
from telbill.rating.batch import apply_deltas, rate_by_subject, rate_stream
from telbill.rating.engine import RatingResult, rate
from telbill.rating.explain import explain
from telbill.rating.reference import rate_reference
from telbill.rating.schema import RATED_COLUMNS, REJECT_COLUMNS, USAGE_COLUMNS
from telbill.rating.tariff import CompiledRating, CompiledTariff, compile_rating

# Rating over the database (persistence, the bill run's usage port, re-rating): loaded on first
# use, so the pure engine imports nothing of SQLAlchemy or the other contexts.
# (`rerate_usage` is `rating.rerate.rerate`: the module of the same name would shadow it.)
_DB_EXPORTS = {
    "RatedUsageSource": ("telbill.rating.usage_source", "RatedUsageSource"),
    "usage_aggregates": ("telbill.rating.usage_source", "usage_aggregates"),
    "rerating_adjustments": ("telbill.rating.usage_source", "rerating_adjustments"),
    "RatingRunReport": ("telbill.rating.service", "RatingRunReport"),
    "rate_pending": ("telbill.rating.service", "rate_pending"),
    "rerate_usage": ("telbill.rating.rerate", "rerate"),
    "sync_invoiced": ("telbill.rating.rerate", "sync_invoiced"),
    "explain_stored": ("telbill.rating.explain_usage", "explain_stored"),
    "ScopeTable": ("telbill.rating.classify", "ScopeTable"),
}


def __getattr__(name: str) -> object:
    found = _DB_EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'telbill.rating' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(found[0]), found[1])


__all__ = [
    *_DB_EXPORTS,
    "RATED_COLUMNS",
    "REJECT_COLUMNS",
    "USAGE_COLUMNS",
    "Bucket",
    "CompiledRating",
    "CompiledTariff",
    "RatingResult",
    "apply_deltas",
    "compile_rating",
    "explain",
    "prorated",
    "rate",
    "rate_by_subject",
    "rate_reference",
    "rate_stream",
    "rolled_over",
]
