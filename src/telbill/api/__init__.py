"""The REST API edge: app assembly, API-key auth, idempotent writes, TMF conventions."""

from telbill.api.deps import ClockDep, PrincipalDep, SessionDep
from telbill.api.keys import Principal, create_key, revoke_key
from telbill.api.listing import page_bounds, select_fields, set_count_headers
from telbill.api.writes import ExactJSONResponse, json_body, perform_write

__all__ = [
    "ClockDep",
    "ExactJSONResponse",
    "Principal",
    "PrincipalDep",
    "SessionDep",
    "create_key",
    "json_body",
    "page_bounds",
    "perform_write",
    "revoke_key",
    "select_fields",
    "set_count_headers",
]
