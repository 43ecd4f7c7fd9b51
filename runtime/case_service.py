"""What people and systems do with cases, once for every door (REST, Open311, the pages).

Collecting routes a case: the location gives the grid (and so the responsible unit), the
category gives the department and the deadline of every step. A step is planned by the pure
workflow (domain.cases), stored conditional on the version read (one winner when two people
press at once), audited, and clears the case's overdue alert if one was raised. Permission and
jurisdiction are checked here too, because every door must refuse the same things.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from domain.case_config import CaseConfig, Category, load_case_config
from domain.cases import (
    ACTION_NEEDS,
    TERMINAL,
    CaseAction,
    CaseSource,
    CaseState,
    InvalidTransition,
    MissingField,
    plan,
)
from domain.permissions import Action, Principal, Role, allowed, in_scope
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.alert_sink import AlertRaiser
from settings import Settings
from storage.audit_repository import AuditRepository
from storage.case_repository import CaseFilter, CaseRecord, CaseRepository, NewCase, StaleCase, StepWrite
from storage.user_repository import UserRepository

__all__ = [
    "BadCaseInput",
    "CaseDenied",
    "CaseError",
    "CaseService",
    "Locator",
    "NewCaseInput",
    "UnknownCase",
    "case_service_for",
]

log = logging.getLogger(__name__)
OVERDUE_RULE = "case_overdue"


class CaseError(ValueError):
    """A request about a case that cannot be done as asked; the message says why (shown to people)."""


class BadCaseInput(CaseError):
    """What was sent is wrong or missing (a field to fix), rather than the case being in the wrong state."""


class UnknownCase(CaseError):
    """No such case, or not in the caller's jurisdiction (the two look the same)."""


class CaseDenied(CaseError):
    """The caller's role may not take this step."""


class Locator(Protocol):
    """Maps a point to the code of the grid it lies in (geo.GridLocator)."""

    def locate(self, lon: float, lat: float) -> str | None:
        """The grid of a point, or None outside the city."""


@dataclass(frozen=True, slots=True)
class NewCaseInput:
    """A new case as a source gives it (validated by the door it came through)."""

    source: CaseSource
    service_code: str
    description: str
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    contact: dict[str, str] = field(default_factory=dict)
    external_ref: str | None = None
    media_url: str | None = None


class CaseService:
    """Collect cases, move them through the workflow, and list them inside a jurisdiction."""

    def __init__(
        self,
        cases: CaseRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        locator: Locator,
        config: CaseConfig,
        users: UserRepository,
        *,
        overdue: AlertRaiser | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cases = cases
        self.config = config
        self._audit = audit
        self._h = hierarchy
        self._locator = locator
        self._users = users
        self.overdue_hook = overdue
        self._clock = clock

    # -- collecting -------------------------------------------------------------------------------
    def collect(self, new: NewCaseInput, reporter: str, ip: str, *, home_unit: str | None = None) -> CaseRecord:
        """Store a new case, routed by location and category; CaseError if it cannot be routed.

        ``home_unit`` is the jurisdiction of whoever files it: a grid worker may only report
        inside their own unit, an external system inside the unit its key is bound to.
        """
        category = self.category(new.service_code)
        description = new.description.strip()
        if not description:
            raise BadCaseInput("description: say what the problem is")
        grid = None
        if new.lon is not None and new.lat is not None:
            grid = self._locator.locate(new.lon, new.lat)
            if grid is None:
                raise BadCaseInput("location: the point lies outside the city")
        elif not new.address.strip():
            raise BadCaseInput("location: give lat/long or an address")
        unit = grid or (home_unit or self._h.city.code)
        if home_unit is not None and not in_scope(home_unit, unit, self._h.ancestors):
            raise BadCaseInput("location: the point lies outside your jurisdiction")
        now = self._clock()
        case = self.cases.create(
            NewCase(
                source=new.source,
                service_code=category.service_code,
                description=description[:4000],
                reporter=reporter,
                created_at=now,
                unit_code=unit,
                department=category.department,
                due_at=category.due(CaseState.COLLECTED, now),
                lon=new.lon,
                lat=new.lat,
                address=new.address.strip()[:500],
                grid_code=grid,
                contact=new.contact,
                external_ref=new.external_ref,
                media_url=new.media_url,
            )
        )
        self._audit.append(
            reporter,
            "case.collect",
            f"case:{case.id}",
            ip=ip,
            detail={"unit": case.unit_code, "source": case.source.value, "service_code": case.service_code},
        )
        return case

    def category(self, service_code: str) -> Category:
        """The category of a service code; CaseError naming the known ones if unknown."""
        try:
            return self.config.category(service_code)
        except KeyError:
            raise BadCaseInput(f"service_code: unknown service {service_code!r}") from None

    # -- acting -----------------------------------------------------------------------------------
    def act(
        self,
        principal: Principal,
        case_id: int,
        action: CaseAction,
        ip: str,
        *,
        note: str = "",
        grid_code: str | None = None,
        department: str | None = None,
        assignee: str | None = None,
        satisfaction: int | None = None,
        expected_version: int | None = None,
    ) -> CaseRecord:
        """Take one workflow step on behalf of a person; CaseError (or a subclass) says why not.

        ``expected_version`` is the version the person saw: if the case moved since, the step is
        refused rather than applied to a state they did not see.
        """
        case = self.visible(principal, case_id)
        needs = ACTION_NEEDS[action]
        if not allowed(principal, needs):
            self._refused(principal, case, action, ip, f"role may not {action.value}")
            raise CaseDenied(f"your role may not {action.value} cases")
        handler_step = action in (CaseAction.START, CaseAction.FEEDBACK)
        if principal.role is Role.GRID_WORKER and handler_step and case.assignee not in (None, principal.username):
            self._refused(principal, case, action, ip, "assigned to someone else")
            raise CaseDenied(f"this case is assigned to {case.assignee}")
        if expected_version is not None and expected_version != case.version:
            raise CaseError("the case changed since you opened it; look again")
        note = note.strip()[:2000]
        category = self.category(case.service_code)
        grid, dept, who = self._targets(case, action, grid_code, department, assignee)
        try:
            step = plan(
                case.state,
                action,
                source=case.source,
                reason=note,
                satisfaction=satisfaction,
                target_changes=(grid, dept) != (case.grid_code, case.department),
            )
        except InvalidTransition as exc:
            self._refused(principal, case, action, ip, str(exc))
            raise CaseError(str(exc)) from None
        except MissingField as exc:
            self._refused(principal, case, action, ip, str(exc))
            raise BadCaseInput(str(exc)) from None
        now = self._clock()
        moving = action in (CaseAction.DISPATCH, CaseAction.REASSIGN)
        write = StepWrite(
            action=action,
            to_state=step.to_state,
            actor=principal.username,
            ts=now,
            note=note,
            due_at=None if step.to_state in TERMINAL else category.due(step.to_state, now),
            unit_code=grid if moving else None,
            grid_code=grid if moving else None,
            department=dept if moving else None,
            assignee=who if moving else None,
            satisfaction=satisfaction if action is CaseAction.EVALUATE else None,
            moves=moving,
        )
        try:
            after = self.cases.apply(case, write)
        except StaleCase:
            raise CaseError("someone else moved this case first; look again") from None
        detail: dict[str, object] = {"unit": after.unit_code, "from": case.state.value, "to": after.state.value}
        if note:
            detail["note"] = note
        if moving:
            detail.update(grid=grid, department=dept, assignee=who)
        if satisfaction is not None:
            detail["satisfaction"] = satisfaction
        self._audit.append(principal.username, f"case.{action.value}", f"case:{case.id}", ip=ip, detail=detail)
        if case.overdue_alerted and self.overdue_hook is not None:
            try:
                self.overdue_hook.clear_external(OVERDUE_RULE, f"case:{case.id}", now)
            except Exception:  # the step is stored; the supervisor clears it on its next pass
                log.warning("could not clear the overdue alert of case %d", case.id, exc_info=True)
        return after

    def _targets(
        self, case: CaseRecord, action: CaseAction, grid: str | None, dept: str | None, who: str | None
    ) -> tuple[str | None, str, str | None]:
        """Where a dispatch or reassignment sends the case: a grid, a department and a person."""
        if action not in (CaseAction.DISPATCH, CaseAction.REASSIGN):
            return case.grid_code, case.department, case.assignee
        grid = (grid or "").strip() or case.grid_code
        if grid is None:
            raise BadCaseInput("grid: the case has no location; choose the grid to dispatch it to")
        if grid not in self._h or self._h.get(grid).level != Level.GRID:
            raise BadCaseInput(f"grid: {grid!r} is not a grid of this city")
        dept = (dept or "").strip() or case.department
        if dept not in self.config.departments:
            raise BadCaseInput(f"department: unknown department {dept!r}")
        who = (who or "").strip() or None
        if who is None or grid != case.grid_code:
            workers = self._users.at_unit(grid, Role.GRID_WORKER)
            if who is not None and who not in {u.username for u in workers}:
                raise BadCaseInput(f"assignee: {who!r} is not a grid worker of {grid}")
            who = who or (workers[0].username if workers else None)
        return grid, dept, who

    def _refused(self, principal: Principal, case: CaseRecord, action: CaseAction, ip: str, reason: str) -> None:
        self._audit.append(
            principal.username,
            f"case.{action.value}",
            f"case:{case.id}",
            outcome="refused",
            ip=ip,
            detail={"unit": case.unit_code, "state": case.state.value, "reason": reason},
        )

    # -- reading ----------------------------------------------------------------------------------
    def visible(self, principal: Principal, case_id: int) -> CaseRecord:
        """A case inside the principal's jurisdiction; UnknownCase otherwise (no probing of ids)."""
        try:
            case = self.cases.get(int(case_id))
        except (KeyError, TypeError, ValueError, OverflowError):
            raise UnknownCase(f"no case {case_id}") from None
        if not allowed(principal, Action.VIEW_CASES) or not in_scope(
            principal.unit_code, case.unit_code, self._h.ancestors
        ):
            raise UnknownCase(f"no case {case_id}")
        return case

    def scope(self, unit_code: str) -> frozenset[str] | None:
        """The unit codes of a jurisdiction for a query (None: the whole city, no filter needed)."""
        if unit_code == self._h.city.code:
            return None
        return self._subtree(unit_code)

    @functools.lru_cache(maxsize=256)  # noqa: B019  # one service per process; the tree never changes
    def _subtree(self, unit_code: str) -> frozenset[str]:
        out = {unit_code}
        todo = [unit_code]
        while todo:
            for child in self._h.children(todo.pop()):
                out.add(child.code)
                todo.append(child.code)
        return frozenset(out)

    def find(self, principal: Principal, f: CaseFilter, *, within: str | None = None) -> list[CaseRecord]:
        """Cases inside the principal's jurisdiction (and inside ``within`` if given) matching a filter."""
        return self.cases.find(self._scoped(principal, f, within))

    def count(self, principal: Principal, f: CaseFilter, *, within: str | None = None) -> int:
        """How many cases inside the jurisdiction match a filter."""
        return self.cases.count(self._scoped(principal, f, within))

    def _scoped(self, principal: Principal, f: CaseFilter, within: str | None) -> CaseFilter:
        if not allowed(principal, Action.VIEW_CASES):
            return replace(f, units=())
        unit = principal.unit_code
        if within and within != unit:
            unit = within if in_scope(principal.unit_code, within, self._h.ancestors) else ""
        if not unit:
            return replace(f, units=())
        return replace(f, units=self.scope(unit))

    def now(self) -> datetime:
        """The service's clock (tests freeze it)."""
        return self._clock()

    def wire(self, case: CaseRecord, lang: str, *, now: datetime | None = None) -> dict[str, Any]:
        """A case as screens and the REST API show it (no personal data)."""
        now = now or self._clock()
        category = self.config.categories_by_code.get(case.service_code)
        dept = self.config.departments.get(case.department)
        return {
            "id": case.id,
            "source": case.source.value,
            "service_code": case.service_code,
            "category": category.name(lang) if category else case.service_code,
            "description": case.description,
            "state": case.state.value,
            "state_since": case.state_since.isoformat(),
            "due_at": case.due_at.isoformat() if case.due_at else None,
            "overdue": case.overdue(now),
            "seconds_left": round((case.due_at - now).total_seconds()) if case.due_at else None,
            "unit_code": case.unit_code,
            "unit_name": self._h.get(case.unit_code).name if case.unit_code in self._h else case.unit_code,
            "grid_code": case.grid_code,
            "department": case.department,
            "department_name": dept.name(lang) if dept else case.department,
            "assignee": case.assignee,
            "lon": case.lon,
            "lat": case.lat,
            "address": case.address,
            "created_at": case.created_at.isoformat(),
            "updated_at": case.updated_at.isoformat(),
            "reopen_count": case.reopen_count,
            "satisfaction": case.satisfaction,
            "external_ref": case.external_ref,
            "version": case.version,
        }


def case_service_for(
    settings: Settings,
    engine: Engine,
    hierarchy: Hierarchy,
    overdue: AlertRaiser | None,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CaseService:
    """The case service of one process, on the settings' rule file."""
    return CaseService(
        CaseRepository(engine),
        AuditRepository(engine),
        hierarchy,
        GridLocator(hierarchy.at_level(Level.GRID)),
        load_case_config(settings.case_rules),
        UserRepository(engine),
        overdue=overdue,
        clock=clock,
    )
