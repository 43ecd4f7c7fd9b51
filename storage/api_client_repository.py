"""External systems' keys: stored as SHA-256 of a 256-bit random key, looked up by that hash.

A key drawn from 256 random bits cannot be guessed or brute-forced, so a fast hash is the
right tool (password hashing exists to slow down guessing of low-entropy secrets).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, insert, select, update

from storage.case_models import ApiClientRow

__all__ = ["ApiClient", "ApiClientExists", "ApiClientRepository", "hash_key"]

_T = cast(Table, ApiClientRow.__table__)
KEY_BYTES = 32


class ApiClientExists(ValueError):
    """A client with that name already exists."""


@dataclass(frozen=True, slots=True)
class ApiClient:
    """An external system: its name, the unit it may act in, and what it may do."""

    id: int
    name: str
    unit_code: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def may(self, scope: str) -> bool:
        """Whether the client holds a scope and is not revoked."""
        return self.revoked_at is None and scope in self.scopes


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiClientRepository:
    """Create, find by key, list and revoke external systems."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, name: str, unit_code: str, scopes: set[str] | frozenset[str]) -> tuple[ApiClient, str]:
        """Register a system; return it and its key (shown once, never stored in clear)."""
        if self.by_name(name) is not None:
            raise ApiClientExists(name)
        key = secrets.token_urlsafe(KEY_BYTES)
        with self._engine.begin() as conn:
            conn.execute(
                insert(_T).values(
                    name=name,
                    key_hash=hash_key(key),
                    unit_code=unit_code,
                    scopes=" ".join(sorted(scopes)),
                    created_at=datetime.now(UTC),
                    revoked_at=None,
                )
            )
        client = self.by_name(name)
        assert client is not None
        return client, key

    def by_key(self, key: str) -> ApiClient | None:
        """The live client holding a key, or None (unknown or revoked)."""
        if not key or len(key) > 200:
            return None
        with self._engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.key_hash == hash_key(key))).first()
        client = _record(row) if row is not None else None
        return client if client is not None and client.revoked_at is None else None

    def by_name(self, name: str) -> ApiClient | None:
        """A client by name, revoked or not."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_T).where(_T.c.name == name)).first()
        return _record(row) if row is not None else None

    def all(self) -> list[ApiClient]:
        """Every client, by name."""
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(select(_T).order_by(_T.c.name))]

    def revoke(self, name: str) -> bool:
        """Revoke a client's key at once; False if there is no such live client."""
        with self._engine.begin() as conn:
            done = conn.execute(
                update(_T).where(_T.c.name == name, _T.c.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
            ).rowcount
        return bool(done)


def _record(row: Row[Any]) -> ApiClient:
    d = row._asdict()
    d.pop("key_hash")
    d["scopes"] = frozenset(d["scopes"].split())
    return ApiClient(**d)
