"""Permission and jurisdiction checks for every Flask view and Dash callback, on the server.

Dash callbacks are plain POST endpoints that any logged-in browser (or script) can call with
any inputs, so each one declares the action it needs and which of its inputs name units;
the guard checks both against the caller before the callback runs, and audits a refusal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from dash import Dash
from dash.exceptions import PreventUpdate
from flask import jsonify, request
from flask_login import current_user

from domain.permissions import Action, Principal, allowed, in_scope
from geo.hierarchy import Hierarchy
from storage.audit_repository import AuditRepository

__all__ = ["Guard", "GuardSpec", "current_principal"]

F = TypeVar("F", bound=Callable[..., Any])
GUARD_ATTR = "__gw_guard__"


def current_principal() -> Principal | None:
    """The logged-in user of this request, or None."""
    if current_user and current_user.is_authenticated:
        principal: Principal = current_user.principal
        return principal
    return None


@dataclass(frozen=True, slots=True)
class GuardSpec:
    """What a guarded endpoint needs: an action, and the unit codes among its arguments."""

    action: Action
    scope: Callable[..., Iterable[str | None]] | None


class Guard:
    """Checks and audits on behalf of one app."""

    def __init__(self, hierarchy: Hierarchy, audit: AuditRepository) -> None:
        self._h = hierarchy
        self._audit = audit

    def in_scope(self, principal: Principal, code: str) -> bool:
        """Whether a unit lies in the principal's jurisdiction."""
        return in_scope(principal.unit_code, code, self._h.ancestors)

    def in_scope_code(self, unit: str, code: str) -> bool:
        """Whether code lies in the subtree of unit."""
        return in_scope(unit, code, self._h.ancestors)

    def refuse(self, principal: Principal | None, what: str, reason: str, detail: dict[str, object]) -> None:
        """Audit a refused attempt."""
        self._audit.append(
            principal.username if principal else "-",
            "access.denied",
            what[:256],
            outcome="denied",
            ip=request.remote_addr or "-",
            detail={"reason": reason, **detail},
        )

    def check(self, spec: GuardSpec, what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Principal | None:
        """Return the principal if allowed; audit and return None if not."""
        principal = current_principal()
        if not allowed(principal, spec.action):
            self.refuse(principal, what, "action", {"action": spec.action.value})
            return None
        assert principal is not None
        for code in spec.scope(*args, **kwargs) if spec.scope else ():
            if code is not None and not self.in_scope(principal, code):
                self.refuse(principal, what, "scope", {"unit": str(code)[:64], "action": spec.action.value})
                return None
        return principal

    def view(self, action: Action, scope: Callable[..., Iterable[str | None]] | None = None) -> Callable[[F], F]:
        """Decorate a Flask view: 403 JSON (audited) unless allowed and in scope."""
        spec = GuardSpec(action, scope)

        def wrap(fn: F) -> F:
            @functools.wraps(fn)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if self.check(spec, request.path, args, kwargs) is None:
                    return jsonify({"error": "forbidden"}), 403
                return fn(*args, **kwargs)

            setattr(guarded, GUARD_ATTR, spec)
            return guarded  # type: ignore[return-value]

        return wrap

    def callback(
        self,
        app: Dash,
        *dependencies: Any,
        action: Action,
        scope: Callable[..., Iterable[str | None]] | None = None,
        **kwargs: Any,
    ) -> Callable[[F], F]:
        """Register a Dash callback that runs only for allowed, in-scope callers (else no update)."""
        spec = GuardSpec(action, scope)

        def wrap(fn: F) -> F:
            @functools.wraps(fn)
            def guarded(*args: Any, **kw: Any) -> Any:
                if self.check(spec, f"callback:{fn.__name__}", args, kw) is None:
                    raise PreventUpdate
                return fn(*args, **kw)

            setattr(guarded, GUARD_ATTR, spec)
            app.callback(*dependencies, **kwargs)(guarded)
            return guarded  # type: ignore[return-value]

        return wrap
