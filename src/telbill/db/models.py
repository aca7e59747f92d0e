"""Imports every context's tables so that Base.metadata is complete (Alembic, tests)."""

from telbill.db.base import Base

MODEL_MODULES = (
    "telbill.scheduler.model",
    "telbill.events.model",
    "telbill.catalog.model",
    "telbill.accounts.model",
    "telbill.subscriptions.model",
    "telbill.billing.model",
    "telbill.api.model",
    "telbill.mediation.model",
    "telbill.promotions.model",
    "telbill.invoicing.model",
    "telbill.fx.model",
    "telbill.rating.model",
)


def load_all_models() -> type[Base]:
    import importlib

    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name + ".").startswith(exc.name + "."):
                raise
    return Base
