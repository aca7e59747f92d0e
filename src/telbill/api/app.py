"""The FastAPI application: one engine, a clock, API-key auth, TMF errors, and each context's router."""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from sqlalchemy import Engine

from telbill import __version__
from telbill.api.errors import install_error_handlers
from telbill.api.keys import KeyVerifier
from telbill.core.clock import Clock, SystemClock
from telbill.core.settings import Settings, load_settings
from telbill.db.engine import create_db_engine, make_sessionmaker

# Each module exposes `router`; modules not built yet are skipped.
ROUTER_MODULES = (
    "telbill.api.health",
    "telbill.catalog.api",
    "telbill.accounts.api",
    "telbill.subscriptions.api",
    "telbill.mediation.api",
    "telbill.rating.api",
    "telbill.invoicing.api",
    "telbill.promotions.api",
)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(title="telbill", version=__version__, description="Billing for telecom operators.")
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(app.state.engine)
    app.state.clock = clock or SystemClock()
    app.state.verifier = KeyVerifier()
    install_error_handlers(app)
    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name + ".").startswith(exc.name + "."):
                raise
            continue
        app.include_router(module.router)
    return app
