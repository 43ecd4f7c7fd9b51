"""Patrol points and check-ins in SQL: points by grid, every check-in kept, counts per point per day."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, func, insert, select

from domain.patrol import Checkin, PatrolPoint
from storage.case_models import PatrolCheckinRow, PatrolPointRow

__all__ = ["NewPoint", "PatrolRepository"]

_P = cast(Table, PatrolPointRow.__table__)
_K = cast(Table, PatrolCheckinRow.__table__)
_CHUNK = 900  # codes per IN (...), well under SQLite's variable limit
_BATCH = 5000  # rows per multi-row insert


@dataclass(frozen=True, slots=True)
class NewPoint:
    """A patrol point to add."""

    grid_code: str
    name: str
    lon: float
    lat: float


class PatrolRepository:
    """Store and read patrol points and check-ins."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- points -----------------------------------------------------------------------------------
    def add_points(self, points: Sequence[NewPoint]) -> int:
        """Add points in batches; return how many were added."""
        rows = [{"grid_code": p.grid_code, "name": p.name, "lon": p.lon, "lat": p.lat, "active": True} for p in points]
        with self._engine.begin() as conn:
            for i in range(0, len(rows), _BATCH):
                conn.execute(insert(_P), rows[i : i + _BATCH])
        return len(rows)

    def count_points(self) -> int:
        """How many points there are (active or not)."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(_P)).scalar_one())

    def delete_all(self) -> None:
        """Drop every point and check-in (a regenerated demo city has new grids)."""
        with self._engine.begin() as conn:
            conn.execute(delete(_K))
            conn.execute(delete(_P))

    def point(self, point_id: int) -> PatrolPoint:
        """One point; KeyError if there is none."""
        with self._engine.connect() as conn:
            row = conn.execute(select(_P).where(_P.c.id == point_id)).first()
        if row is None:
            raise KeyError(point_id)
        return PatrolPoint(**row._asdict())

    def points(self, grids: Collection[str] | None, *, active_only: bool = True) -> list[PatrolPoint]:
        """The points of some grids (None: every grid), by grid then id."""
        stmt = select(_P).order_by(_P.c.grid_code, _P.c.id)
        if active_only:
            stmt = stmt.where(_P.c.active.is_(True))
        with self._engine.connect() as conn:
            if grids is None:
                return [PatrolPoint(**r._asdict()) for r in conn.execute(stmt)]
            out: list[PatrolPoint] = []
            for chunk in _chunks(grids):
                out += [PatrolPoint(**r._asdict()) for r in conn.execute(stmt.where(_P.c.grid_code.in_(chunk)))]
        out.sort(key=lambda p: (p.grid_code, p.id))
        return out

    # -- check-ins --------------------------------------------------------------------------------
    def add_checkin(
        self, point: PatrolPoint, username: str, ts: datetime, lon: float, lat: float, distance: float, note: str
    ) -> Checkin:
        """Store one check-in at a point."""
        values: dict[str, Any] = {
            "point_id": point.id,
            "grid_code": point.grid_code,
            "username": username,
            "ts": ts,
            "lon": lon,
            "lat": lat,
            "distance_m": distance,
            "note": note,
        }
        with self._engine.begin() as conn:
            new_id = int(conn.execute(insert(_K).values(**values).returning(_K.c.id)).scalar_one())
        return Checkin(id=new_id, **values)

    def counts(self, grids: Collection[str] | None, start: datetime, end: datetime) -> dict[int, int]:
        """Check-ins per point id in [start, end) for some grids (None: every grid)."""
        stmt = select(_K.c.point_id, func.count()).where(_K.c.ts >= start, _K.c.ts < end).group_by(_K.c.point_id)
        out: dict[int, int] = {}
        with self._engine.connect() as conn:
            if grids is None:
                return {int(p): int(n) for p, n in conn.execute(stmt)}
            for chunk in _chunks(grids):
                out.update({int(p): int(n) for p, n in conn.execute(stmt.where(_K.c.grid_code.in_(chunk)))})
        return out

    def checkins(self, point_id: int, start: datetime, end: datetime) -> list[Checkin]:
        """The check-ins at one point in [start, end), oldest first."""
        stmt = select(_K).where(_K.c.point_id == point_id, _K.c.ts >= start, _K.c.ts < end).order_by(_K.c.ts, _K.c.id)
        with self._engine.connect() as conn:
            return [Checkin(**r._asdict()) for r in conn.execute(stmt)]


def _chunks(codes: Collection[str]) -> Iterator[list[str]]:
    items = sorted(codes)
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
