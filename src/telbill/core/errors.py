"""Errors the domain raises on purpose; the CLI and API turn them into clear messages, not tracebacks."""

from __future__ import annotations

from collections.abc import Sequence


class TelbillError(Exception):
    """Base of every expected error. `code` is stable and machine-readable."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)


class ValidationFailed(TelbillError):
    code = "validation_failed"
    http_status = 422


class NotFound(TelbillError):
    code = "not_found"
    http_status = 404


class Conflict(TelbillError):
    code = "conflict"
    http_status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"


class CurrencyMismatch(TelbillError, TypeError):
    code = "currency_mismatch"
