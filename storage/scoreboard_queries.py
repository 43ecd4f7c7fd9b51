"""The sums behind the assessment scoreboard, grouped in SQL by person or by unit, over one period.

Each query returns one :class:`domain.scoreboard.Tally` per group (a username, or the unit or
grid code a row is stored under); the runtime maps units to the children of the unit asked for
and adds them up, which touches one small row per group rather than every case.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Date, Engine, Select, Table, case, func, literal_column, select
from sqlalchemy import cast as sql_cast

from domain.permissions import Role
from domain.scoreboard import Tally
from storage.case_models import CaseFileRow, PatrolCheckinRow, PatrolPointRow, VerificationTaskRow
from storage.models import UserRow
from storage.unit_filter import scoped

__all__ = ["By", "ScoreboardQueries"]

By = Literal["worker", "unit"]
_C = cast(Table, CaseFileRow.__table__)
_V = cast(Table, VerificationTaskRow.__table__)
_K = cast(Table, PatrolCheckinRow.__table__)
_P = cast(Table, PatrolPointRow.__table__)
_U = cast(Table, UserRow.__table__)


def _count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


class ScoreboardQueries:
    """Grouped sums over cases, verification tasks and patrols (``units`` None: the whole city)."""

    def __init__(self, engine: Engine, *, utc_offset_min: int = 480) -> None:
        self._engine = engine
        self._offset = utc_offset_min

    def _rows(self, stmt: Select[Any]) -> list[tuple[Any, ...]]:
        with self._engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def _local_day(self, column: Any) -> ColumnElement[Any]:
        """The city's local calendar day of a UTC timestamp, in SQL (the dialects differ here)."""
        if self._engine.dialect.name == "sqlite":
            return func.date(column, f"{self._offset:+d} minutes")
        # Literals, not bound parameters: PostgreSQL must see the GROUP BY expression as the very
        # same as the selected one, and two bound parameters are two different expressions to it.
        shift: ColumnElement[Any] = literal_column(f"INTERVAL '{int(self._offset)} minutes'")
        return sql_cast(func.timezone(literal_column("'UTC'"), column) + shift, Date)

    def cases(self, by: By, units: Collection[str] | None, since: datetime, until: datetime) -> dict[str, Tally]:
        """Cases first handled in [since, until), per handler or per responsible unit."""
        key = _C.c.handled_by if by == "worker" else _C.c.unit_code
        stmt = (
            select(
                key,
                func.count(),
                _count_if(_C.c.handled_on_time.is_(True)),
                func.count(_C.c.handled_on_time),
                _count_if(_C.c.reopen_count > 0),
                func.coalesce(func.sum(_C.c.satisfaction), 0),
                func.count(_C.c.satisfaction),
            )
            .where(_C.c.handled_at >= since, _C.c.handled_at < until, _C.c.handled_by.is_not(None))
            .group_by(key)
        )
        return {
            k: Tally(
                cases_handled=int(n),
                on_time=int(ok),
                timed=int(timed),
                reopened=int(reopened),
                satisfaction_sum=int(sat),
                satisfaction_n=int(sat_n),
            )
            for k, n, ok, timed, reopened, sat, sat_n in self._rows(scoped(stmt, _C.c.unit_code, units))
        }

    def verifications(
        self, by: By, units: Collection[str] | None, since: datetime, until: datetime, pass_results: Collection[str]
    ) -> dict[str, Tally]:
        """Verification tasks done in [since, until), per person or per grid, with how many passed."""
        key = _V.c.done_by if by == "worker" else _V.c.grid_code
        stmt = (
            select(key, func.count(), _count_if(_V.c.result.in_(list(pass_results))))
            .where(_V.c.done_at >= since, _V.c.done_at < until, _V.c.done_by.is_not(None), _V.c.result.is_not(None))
            .group_by(key)
        )
        return {
            k: Tally(verifications=int(n), verifications_passed=int(ok))
            for k, n, ok in self._rows(scoped(stmt, _V.c.grid_code, units))
        }

    def checkins(
        self, by: By, units: Collection[str] | None, since: datetime, until: datetime, per_day: int
    ) -> dict[str, Tally]:
        """Patrol check-ins in [since, until), per person or per grid; at most ``per_day`` per point and day."""
        key = _K.c.username if by == "worker" else _K.c.grid_code
        visits = scoped(
            select(key.label("key"), _K.c.point_id, self._local_day(_K.c.ts).label("day"), func.count().label("n"))
            .where(_K.c.ts >= since, _K.c.ts < until)
            .group_by(key, _K.c.point_id, self._local_day(_K.c.ts)),
            _K.c.grid_code,
            units,
        ).subquery()
        counted = case((visits.c.n > per_day, per_day), else_=visits.c.n)
        stmt = select(visits.c.key, func.sum(counted)).group_by(visits.c.key)
        return {k: Tally(checkins=int(n or 0)) for k, n in self._rows(stmt)}

    def patrol_points(self, units: Collection[str] | None) -> dict[str, int]:
        """Active patrol points per grid."""
        stmt = select(_P.c.grid_code, func.count()).where(_P.c.active.is_(True)).group_by(_P.c.grid_code)
        return {g: int(n) for g, n in self._rows(scoped(stmt, _P.c.grid_code, units))}

    def grid_workers(self, units: Collection[str] | None) -> dict[str, tuple[str, str]]:
        """Enabled grid workers bound to the units: username → (display name, grid code)."""
        stmt = select(_U.c.username, _U.c.display_name, _U.c.unit_code).where(
            _U.c.role == Role.GRID_WORKER.value, _U.c.disabled.is_(False)
        )
        return {u: (name or u, grid) for u, name, grid in self._rows(scoped(stmt, _U.c.unit_code, units))}

    def display_names(self, usernames: Collection[str]) -> dict[str, str]:
        """Display names of some accounts (people who handled cases but are no grid workers)."""
        names = list(usernames)
        if not names:
            return {}
        stmt = scoped(select(_U.c.username, _U.c.display_name), _U.c.username, names)
        return {u: name or u for u, name in self._rows(stmt)}
