"""Account operations shared by the login page, the admin CLI and the tests; each one audited."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from domain.password_policy import violations
from domain.permissions import ROLE_UNIT_LEVELS, Role
from geo.hierarchy import Hierarchy
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from storage.audit_repository import AuditRepository
from storage.user_repository import UserRecord, UserRepository

__all__ = ["AccountError", "AccountService", "PasswordRejected"]


class AccountError(ValueError):
    """An account operation was refused (unknown user, wrong unit for the role, …)."""


class PasswordRejected(AccountError):
    """A new password breaks the policy; ``reasons`` are catalog keys."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


@dataclass
class AccountService:
    """Users, passwords and sessions, with an audit entry for every change."""

    users: UserRepository
    audit: AuditRepository
    sessions: SessionStore
    hierarchy: Hierarchy
    hashing: PasswordHashing
    on_revoke: Callable[[int], object] | None = None  # e.g. disconnect the user's sockets

    def create(
        self,
        actor: str,
        username: str,
        role: Role,
        unit_code: str,
        *,
        display_name: str = "",
        password: str | None = None,
        must_change: bool = True,
    ) -> tuple[UserRecord, str]:
        """Create a user; return it and its initial password (generated when none is given)."""
        self._check_unit(role, unit_code)
        if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
            raise AccountError("username: letters, digits, '_' and '.', at most 64")
        initial = password or _generated_password()
        self._check_policy(initial, username)
        user = self.users.create(
            username,
            display_name or username,
            self.hashing.hash(initial),
            role,
            unit_code,
            must_change_password=must_change,
        )
        self.audit.append(actor, "user.create", username, detail={"role": role.value, "unit": unit_code})
        return user, initial

    def authenticate(self, username: str, password: str, ip: str) -> UserRecord | None:
        """Check credentials; audit the attempt either way. Same work for unknown users."""
        user = self.users.by_username(username)
        ok = self.hashing.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            reason = "unknown user" if user is None else ("disabled" if user.disabled else "wrong password")
            self.audit.append(
                username[:96] or "-", "login", username[:256], outcome="denied", ip=ip, detail={"reason": reason}
            )
            return None
        if self.hashing.needs_rehash(user.password_hash):
            self.users.set_password(user.id, self.hashing.hash(password), must_change=user.must_change_password)
        self.audit.append(user.username, "login", user.username, ip=ip)
        return user

    def change_password(self, user: UserRecord, current: str, new: str, ip: str) -> None:
        """Let a user replace their own password (also ends the forced change)."""
        if not self.hashing.verify(user.password_hash, current):
            self.audit.append(
                user.username,
                "password.change",
                user.username,
                outcome="denied",
                ip=ip,
                detail={"reason": "wrong current password"},
            )
            raise AccountError("password.wrong_current")
        if new == current:
            raise PasswordRejected(["password.unchanged"])
        self._check_policy(new, user.username)
        self.users.set_password(user.id, self.hashing.hash(new), must_change=False)
        self.audit.append(user.username, "password.change", user.username, ip=ip)

    def reset_password(self, actor: str, username: str) -> str:
        """Give a user a new one-time password they must change; end their sessions."""
        user = self._get(username)
        new = _generated_password()
        self.users.set_password(user.id, self.hashing.hash(new), must_change=True)
        self._revoke(user.id)
        self.audit.append(actor, "password.reset", username)
        return new

    def set_role(self, actor: str, username: str, role: Role, unit_code: str) -> None:
        """Change a user's role and unit; their sessions end so the change applies at once."""
        user = self._get(username)
        self._check_unit(role, unit_code)
        self.users.set_role(user.id, role, unit_code)
        self._revoke(user.id)
        self.audit.append(
            actor,
            "user.role",
            username,
            detail={"role": role.value, "unit": unit_code, "was": [user.role.value, user.unit_code]},
        )

    def set_disabled(self, actor: str, username: str, disabled: bool) -> None:
        """Disable (ending every session) or re-enable an account."""
        user = self._get(username)
        self.users.set_disabled(user.id, disabled)
        if disabled:
            self._revoke(user.id)
        self.audit.append(actor, "user.disable" if disabled else "user.enable", username)

    def _revoke(self, user_id: int) -> None:
        self.sessions.revoke_all(user_id)
        if self.on_revoke:
            self.on_revoke(user_id)

    def _get(self, username: str) -> UserRecord:
        user = self.users.by_username(username)
        if user is None:
            raise AccountError(f"no user {username!r}")
        return user

    def _check_unit(self, role: Role, unit_code: str) -> None:
        if unit_code not in self.hierarchy:
            raise AccountError(f"no unit {unit_code!r} in this city")
        level = int(self.hierarchy.get(unit_code).level)
        if level not in ROLE_UNIT_LEVELS[role]:
            raise AccountError(
                f"a {role.value} is bound to a unit at level {sorted(ROLE_UNIT_LEVELS[role])}, not {level}"
            )

    @staticmethod
    def _check_policy(password: str, username: str) -> None:
        problems = violations(password, username)
        if problems:
            raise PasswordRejected(problems)


def _generated_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, ~96 bits
