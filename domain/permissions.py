"""Roles, what each may do, and where: "one level, one permission".

Every user is bound to one unit of the grid tree and may see and act only on that unit's
subtree, with the actions of their role. Anything not granted here is denied.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["ROLE_ACTIONS", "ROLE_UNIT_LEVELS", "Action", "Principal", "Role", "allowed", "in_scope"]


class Role(enum.StrEnum):
    """The roles a city assigns; the value is stored and shown in the CLI."""

    CITY_ADMIN = "city_admin"
    CITY_OPERATOR = "city_operator"
    DISTRICT_LEADER = "district_leader"
    STREET_STAFF = "street_staff"
    COMMUNITY_STAFF = "community_staff"
    GRID_WORKER = "grid_worker"
    DUTY_STAFF = "duty_staff"
    AUDITOR = "auditor"


class Action(enum.StrEnum):
    """Things a user can do; each endpoint and callback requires one."""

    VIEW_MAP = "view_map"
    VIEW_KPIS = "view_kpis"
    ACK_ALERT = "ack_alert"
    DISPATCH = "dispatch"
    HANDLE_CASE = "handle_case"
    VIEW_CASES = "view_cases"
    REPORT = "report"
    EXPORT = "export"
    UNMASK = "unmask"
    MANAGE_USERS = "manage_users"
    MANAGE_DEVICES = "manage_devices"
    READ_AUDIT = "read_audit"


_SEE = {Action.VIEW_MAP, Action.VIEW_KPIS, Action.VIEW_CASES}
ROLE_ACTIONS: Mapping[Role, frozenset[Action]] = {
    Role.CITY_ADMIN: frozenset(
        _SEE
        | {Action.ACK_ALERT, Action.DISPATCH, Action.EXPORT, Action.UNMASK, Action.MANAGE_USERS, Action.MANAGE_DEVICES}
    ),
    Role.CITY_OPERATOR: frozenset(_SEE | {Action.ACK_ALERT, Action.DISPATCH, Action.HANDLE_CASE}),
    Role.DISTRICT_LEADER: frozenset(_SEE | {Action.EXPORT, Action.DISPATCH}),
    Role.STREET_STAFF: frozenset(_SEE | {Action.ACK_ALERT, Action.DISPATCH, Action.HANDLE_CASE}),
    Role.COMMUNITY_STAFF: frozenset(_SEE | {Action.HANDLE_CASE, Action.REPORT}),
    Role.GRID_WORKER: frozenset({Action.VIEW_MAP, Action.VIEW_CASES, Action.HANDLE_CASE, Action.REPORT}),
    Role.DUTY_STAFF: frozenset(_SEE | {Action.ACK_ALERT, Action.DISPATCH}),
    Role.AUDITOR: frozenset({Action.READ_AUDIT}),
}

# The tree levels (0 city .. 4 grid) a role's unit may be at.
ROLE_UNIT_LEVELS: Mapping[Role, frozenset[int]] = {
    Role.CITY_ADMIN: frozenset({0}),
    Role.CITY_OPERATOR: frozenset({0}),
    Role.DISTRICT_LEADER: frozenset({1}),
    Role.STREET_STAFF: frozenset({2}),
    Role.COMMUNITY_STAFF: frozenset({3}),
    Role.GRID_WORKER: frozenset({4}),
    Role.DUTY_STAFF: frozenset({0, 1, 2}),
    Role.AUDITOR: frozenset({0}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user with a role, bound to one unit."""

    user_id: int
    username: str
    role: Role
    unit_code: str


def allowed(principal: Principal | None, action: Action) -> bool:
    """Whether the principal's role grants the action (deny by default).

    >>> p = Principal(1, "li", Role.DISTRICT_LEADER, "990101")
    >>> allowed(p, Action.VIEW_MAP), allowed(p, Action.MANAGE_USERS), allowed(None, Action.VIEW_MAP)
    (True, False, False)
    """
    return principal is not None and action in ROLE_ACTIONS.get(principal.role, frozenset())


def in_scope(unit_code: str, target: str, ancestors: Callable[[str], Iterable[str]]) -> bool:
    """Whether target lies in the subtree of unit_code (the unit itself included).

    ``ancestors(code)`` lists a code's ancestors; an unknown target raises KeyError there,
    which callers treat as out of scope.

    >>> tree = {"a1": ("a",), "a": (), "b": ()}
    >>> in_scope("a", "a1", tree.__getitem__), in_scope("a", "b", tree.__getitem__)
    (True, False)
    """
    if target == unit_code:
        return True
    try:
        return unit_code in ancestors(target)
    except KeyError:
        return False
