"""Patrol check-ins (报点打卡) for every door (the phone page, REST), with their checks and audit.

Only the grid worker of a point's grid may check in there, and only from within the policy's
radius. Every accepted check-in is stored; a point counts as checked on a local day once it
has ``per_day`` of them (a second visit the same day is kept, not counted twice). Leaders and
staff read a day's status of the points in their jurisdiction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

from domain.case_config import PatrolPolicy
from domain.patrol import (
    Checkin,
    PatrolPoint,
    PointDay,
    day_bounds,
    day_status,
    distance_m,
    local_day,
    not_checked,
    valid_lonlat,
)
from domain.permissions import Action, Principal, Role, allowed, in_scope
from geo.hierarchy import Hierarchy
from storage.audit_repository import AuditRepository
from storage.patrol_repository import PatrolRepository

__all__ = ["CheckinResult", "PatrolError", "PatrolService"]

_NOTE_MAX = 500


class PatrolError(ValueError):
    """A check-in or listing that cannot be done: ``key``/``params`` are the message, ``status`` the HTTP code."""

    def __init__(self, key: str, status: int, **params: object) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.status = status
        self.params = params


@dataclass(frozen=True, slots=True)
class CheckinResult:
    """A stored check-in, and whether it counted towards today's (or was an extra visit)."""

    checkin: Checkin
    point: PatrolPoint
    counted: bool


class PatrolService:
    """Check in at patrol points and judge days, inside the caller's jurisdiction."""

    def __init__(
        self,
        repo: PatrolRepository,
        audit: AuditRepository,
        hierarchy: Hierarchy,
        policy: PatrolPolicy,
        scope: Callable[[str], Collection[str] | None],
        *,
        utc_offset_min: int = 480,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.policy = policy
        self._audit = audit
        self._h = hierarchy
        self._scope = scope
        self._offset = utc_offset_min
        self._clock = clock

    def today(self) -> date:
        """The city's local day now."""
        return local_day(self._clock(), self._offset)

    def check_in(
        self, principal: Principal, point_id: int, lon: float, lat: float, ip: str, note: str = "", *, source: str = ""
    ) -> CheckinResult:
        """Record the principal's check-in at a point from where the phone is; PatrolError says why not.

        ``source`` (``gps`` or ``map``) says where the location came from; it is audited.
        """
        try:
            point = self.repo.point(int(point_id))
        except (KeyError, TypeError, ValueError, OverflowError):
            point = None
        if point is None or not point.active:
            self._refuse(principal, f"patrol_point:{point_id}", ip, "unknown point")
            raise PatrolError("patrol.error.unknown", 404)
        if not allowed(principal, Action.REPORT) or principal.role is not Role.GRID_WORKER:
            self._refuse(principal, f"patrol_point:{point.id}", ip, "role", point.grid_code)
            raise PatrolError("patrol.error.not_yours", 403)
        if principal.unit_code != point.grid_code:
            self._refuse(principal, f"patrol_point:{point.id}", ip, "other grid", point.grid_code)
            raise PatrolError("patrol.error.not_yours", 403)
        if not valid_lonlat(lon, lat):
            raise PatrolError("patrol.error.bad_location", 400)
        metres = distance_m(point.lon, point.lat, float(lon), float(lat))
        if metres > self.policy.radius_m:
            self._refuse(principal, f"patrol_point:{point.id}", ip, "too far", point.grid_code, round(metres, 1))
            raise PatrolError(
                "patrol.error.too_far", 422, name=point.name, m=round(metres), radius=round(self.policy.radius_m)
            )
        now = self._clock()
        start, end = day_bounds(local_day(now, self._offset), self._offset)
        before = self.repo.counts([point.grid_code], start, end).get(point.id, 0)
        checkin = self.repo.add_checkin(
            point, principal.username, now, float(lon), float(lat), round(metres, 1), note.strip()[:_NOTE_MAX]
        )
        self._audit.append(
            principal.username,
            "patrol.checkin",
            f"patrol_point:{point.id}",
            ip=ip,
            detail={"unit": point.grid_code, "distance_m": round(metres, 1), "source": source or "api"},
        )
        return CheckinResult(checkin, point, counted=before < self.policy.per_day)

    def day(self, principal: Principal, unit: str, day: date) -> list[PointDay]:
        """Each active point of a unit's subtree on a local day; PatrolError if the unit is not the caller's."""
        if not allowed(principal, Action.VIEW_CASES):
            raise PatrolError("patrol.error.not_yours", 403)
        if unit not in self._h or not in_scope(principal.unit_code, unit, self._h.ancestors):
            raise PatrolError("patrol.error.not_yours", 403)
        return self.status(unit, day)

    def status(self, unit: str, day: date) -> list[PointDay]:
        """Each active point of a unit's subtree on a local day (no permission check: callers check)."""
        grids = self._scope(unit)
        points = self.repo.points(grids)
        start, end = day_bounds(day, self._offset)
        counts = self.repo.counts(grids, start, end)
        return day_status(points, counts, per_day=self.policy.per_day, day=day, today=self.today())

    def missed(self, unit: str, day: date) -> list[PatrolPoint]:
        """The points of a unit's subtree not checked on a day (missed, or still due if it is today)."""
        return not_checked(self.status(unit, day))

    def _refuse(
        self,
        principal: Principal,
        target: str,
        ip: str,
        reason: str,
        unit: str | None = None,
        distance: float | None = None,
    ) -> None:
        detail: dict[str, object] = {"reason": reason}
        if unit is not None:
            detail["unit"] = unit
        if distance is not None:
            detail["distance_m"] = distance
        self._audit.append(principal.username, "patrol.checkin", target, outcome="refused", ip=ip, detail=detail)
