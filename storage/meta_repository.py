"""Key/value facts about this installation."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from storage.models import AppMeta

__all__ = ["MetaRepository"]


class MetaRepository:
    """Key/value facts about this installation."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, key: str) -> str | None:
        """Return the value stored under key, or None."""
        with self._engine.connect() as conn:
            return conn.execute(select(AppMeta.value).where(AppMeta.key == key)).scalar()

    def set(self, key: str, value: str) -> None:
        """Store value under key, replacing any previous value."""
        with self._engine.begin() as conn:
            conn.execute(delete(AppMeta).where(AppMeta.key == key))
            conn.execute(insert(AppMeta).values(key=key, value=value))
