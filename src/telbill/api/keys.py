"""API keys: `tb_<prefix>_<secret>`; only an argon2id hash of the secret is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.orm import Session

from telbill.api import repository
from telbill.api.model import ApiKey
from telbill.core.clock import Clock
from telbill.core.errors import NotFound, TelbillError, ValidationFailed

SCOPES = ("read", "write", "admin")
_hasher = PasswordHasher()


class Unauthorised(TelbillError):
    code = "unauthorised"
    http_status = 401


class Forbidden(TelbillError):
    code = "forbidden"
    http_status = 403


@dataclass(frozen=True, slots=True)
class Principal:
    api_key_id: int
    name: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope!r} scope")


def create_key(session: Session, clock: Clock, name: str, scopes: Sequence[str]) -> tuple[ApiKey, str]:
    """Returns the row and the full token, which is shown once and never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"scopes must be among {', '.join(SCOPES)}; got {list(scopes)}")
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hasher.hash(secret),
        scopes=sorted(set(scopes)),
        created_at=clock.now(),
        revoked_at=None,
    )
    repository.add(session, row)
    return row, f"tb_{prefix}_{secret}"


def revoke_key(session: Session, clock: Clock, prefix: str) -> ApiKey:
    row = repository.key_by_prefix(session, prefix)
    if row is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    row.revoked_at = row.revoked_at or clock.now()
    return row


class KeyVerifier:
    """Verifies bearer tokens; argon2 is deliberately slow, so verified tokens are remembered."""

    def __init__(self, cache_size: int = 1024) -> None:
        self._cache: dict[str, Principal] = {}
        self._cache_size = cache_size

    def verify(self, session: Session, token: str | None) -> Principal:
        if not token:
            raise Unauthorised("missing API key: send 'Authorization: Bearer tb_...'")
        digest = hashlib.sha256(token.encode()).hexdigest()
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "tb":
            raise Unauthorised("malformed API key")
        row = repository.key_by_prefix(session, parts[1])
        if row is None or row.revoked_at is not None:
            self._cache.pop(digest, None)
            raise Unauthorised("unknown or revoked API key")
        cached = self._cache.get(digest)
        if cached is not None and cached.api_key_id == row.id:
            return cached
        try:
            _hasher.verify(row.secret_hash, parts[2])
        except VerificationError:
            raise Unauthorised("unknown or revoked API key") from None
        principal = Principal(row.id, row.name, frozenset(row.scopes))
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[digest] = principal
        return principal
