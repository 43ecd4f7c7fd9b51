"""The reads behind the leaders' trend charts: only the columns a chart needs, inside a set of units.

Each function returns plain tuples; the runtime groups them by local day and child unit (days
are local, and SQLite and PostgreSQL disagree on date arithmetic, so grouping is done in Python
over a bounded window).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Select, Table, func, select

from storage.alert_models import AlertRow
from storage.case_models import CaseFileRow, CaseStepRow, PatrolCheckinRow, PatrolPointRow
from storage.types import UtcDateTime
from storage.unit_filter import scoped

__all__ = ["ChartQueries"]

_C = cast(Table, CaseFileRow.__table__)
_S = cast(Table, CaseStepRow.__table__)
_A = cast(Table, AlertRow.__table__)
_K = cast(Table, PatrolCheckinRow.__table__)
_P = cast(Table, PatrolPointRow.__table__)
_OPEN = ("collected", "accepted", "dispatched", "handling", "feedback", "verified", "closed")
_UTC = UtcDateTime()


def _utc(value: Any) -> datetime:
    out = _UTC.process_result_value(value, None)  # type: ignore[arg-type]  # no dialect needed
    assert out is not None
    return out


class ChartQueries:
    """Read-only queries over cases, steps, alerts and patrols (``units`` None: the whole city)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _rows(self, stmt: Select[Any]) -> list[tuple[Any, ...]]:
        with self._engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]

    def cases_created(self, units: Collection[str] | None, since: datetime) -> list[tuple[datetime, str, str]]:
        """(created_at, service_code, source) of cases created since."""
        stmt = select(_C.c.created_at, _C.c.service_code, _C.c.source).where(_C.c.created_at >= since)
        return [(_utc(t), c, s) for t, c, s in self._rows(scoped(stmt, _C.c.unit_code, units))]

    def timed_steps(self, units: Collection[str] | None, since: datetime) -> list[tuple[datetime, bool]]:
        """(ts, on_time) of every step that left a state with a deadline, since."""
        stmt = select(_S.c.ts, _S.c.on_time).where(_S.c.ts >= since, _S.c.on_time.is_not(None))
        return [(_utc(t), bool(o)) for t, o in self._rows(scoped(stmt, _S.c.unit_code, units))]

    def overdue_open(self, units: Collection[str] | None, now: datetime) -> list[tuple[str, str, int]]:
        """(unit_code, service_code, cases) of open cases past their deadline now."""
        stmt = (
            select(_C.c.unit_code, _C.c.service_code, func.count())
            .where(_C.c.state.in_(_OPEN), _C.c.due_at < now)
            .group_by(_C.c.unit_code, _C.c.service_code)
        )
        return [(u, c, int(n)) for u, c, n in self._rows(scoped(stmt, _C.c.unit_code, units))]

    def evaluations(self, units: Collection[str] | None, since: datetime) -> list[tuple[datetime, int]]:
        """(evaluated at, satisfaction 1–5) of cases evaluated since."""
        stmt = select(_C.c.updated_at, _C.c.satisfaction).where(
            _C.c.state == "evaluated", _C.c.satisfaction.is_not(None), _C.c.updated_at >= since
        )
        return [(_utc(t), int(s)) for t, s in self._rows(scoped(stmt, _C.c.unit_code, units))]

    def alerts_raised(self, units: Collection[str] | None, since: datetime) -> list[tuple[datetime, str]]:
        """(first_seen, rule_key) of alerts raised since."""
        stmt = select(_A.c.first_seen, _A.c.rule_key).where(_A.c.first_seen >= since)
        return [(_utc(t), k) for t, k in self._rows(scoped(stmt, _A.c.unit_code, units))]

    def checkins(self, units: Collection[str] | None, since: datetime) -> list[tuple[datetime, int]]:
        """(ts, point_id) of patrol check-ins since."""
        stmt = select(_K.c.ts, _K.c.point_id).where(_K.c.ts >= since)
        return [(_utc(t), int(p)) for t, p in self._rows(scoped(stmt, _K.c.grid_code, units))]

    def patrol_points(self, units: Collection[str] | None) -> int:
        """How many active patrol points the units have."""
        stmt = select(func.count()).select_from(_P).where(_P.c.active.is_(True))
        rows = self._rows(scoped(stmt, _P.c.grid_code, units))
        return int(rows[0][0]) if rows else 0

    def case_counts(self, units: Collection[str] | None, since: datetime) -> Counter[str]:
        """Cases created since, by state."""
        stmt = select(_C.c.state, func.count()).where(_C.c.created_at >= since).group_by(_C.c.state)
        return Counter({s: int(n) for s, n in self._rows(scoped(stmt, _C.c.unit_code, units))})
