"""User accounts in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, Select, insert, select, update

from domain.permissions import Principal, Role
from storage.models import UserRow

__all__ = ["UserExists", "UserRecord", "UserRepository"]

_T = UserRow.__table__


class UserExists(ValueError):
    """A user with that name already exists."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored account (the hash never leaves the security layer)."""

    id: int
    username: str
    display_name: str
    password_hash: str
    role: Role
    unit_code: str
    must_change_password: bool
    disabled: bool

    @property
    def principal(self) -> Principal:
        """The identity checks are made against."""
        return Principal(self.id, self.username, self.role, self.unit_code)


class UserRepository:
    """Create, find and change accounts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self,
        username: str,
        display_name: str,
        password_hash: str,
        role: Role,
        unit_code: str,
        *,
        must_change_password: bool = True,
    ) -> UserRecord:
        """Add an account; raise UserExists if the name is taken."""
        if self.by_username(username) is not None:
            raise UserExists(username)
        with self._engine.begin() as conn:
            conn.execute(
                insert(UserRow),
                {
                    "username": username,
                    "display_name": display_name,
                    "password_hash": password_hash,
                    "role": role.value,
                    "unit_code": unit_code,
                    "must_change_password": must_change_password,
                    "disabled": False,
                    "created_at": datetime.now(UTC),
                    "password_changed_at": None,
                },
            )
        found = self.by_username(username)
        assert found is not None
        return found

    def by_username(self, username: str) -> UserRecord | None:
        """Find an account by name."""
        return self._one(select(_T).where(_T.c.username == username))

    def by_id(self, user_id: int) -> UserRecord | None:
        """Find an account by id."""
        return self._one(select(_T).where(_T.c.id == user_id))

    def at_unit(self, unit_code: str, role: Role) -> list[UserRecord]:
        """The enabled accounts of one role bound to one unit (a grid's workers), by name."""
        stmt = (
            select(_T)
            .where(_T.c.unit_code == unit_code, _T.c.role == role.value, _T.c.disabled.is_(False))
            .order_by(_T.c.username)
        )
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(stmt)]

    def all(self) -> list[UserRecord]:
        """Every account, by name."""
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(select(_T).order_by(_T.c.username))]

    def count(self) -> int:
        """Count accounts."""
        return len(self.all())

    def set_password(self, user_id: int, password_hash: str, *, must_change: bool) -> None:
        """Store a new password hash."""
        self._update(
            user_id,
            password_hash=password_hash,
            must_change_password=must_change,
            password_changed_at=datetime.now(UTC),
        )

    def set_role(self, user_id: int, role: Role, unit_code: str) -> None:
        """Change what and where a user may act."""
        self._update(user_id, role=role.value, unit_code=unit_code)

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Disable or re-enable an account."""
        self._update(user_id, disabled=disabled)

    def _update(self, user_id: int, **values: object) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.id == user_id).values(**values))

    def _one(self, stmt: Select[Any]) -> UserRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(stmt).first()
        return _record(row) if row is not None else None


def _record(r: Row[Any]) -> UserRecord:
    return UserRecord(
        r.id,
        r.username,
        r.display_name,
        r.password_hash,
        Role(r.role),
        r.unit_code,
        bool(r.must_change_password),
        bool(r.disabled),
    )
