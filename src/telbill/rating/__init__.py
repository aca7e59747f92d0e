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

__all__ = [
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
