"""The grid tree in SQL: stored as WKB, loaded in one bulk read."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from sqlalchemy import Engine, delete, func, insert, select

from geo.hierarchy import Level, Unit
from storage.models import AppMeta, DeviceRow, GeoUnitRow

__all__ = ["GeoRepository"]

_CHUNK = 2_000
GEO_SOURCE_KEY = "geo_source"


class GeoRepository:
    """The grid tree, stored as WKB and loaded in one bulk read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def count(self, level: Level | None = None) -> int:
        """Count stored units, optionally of one level."""
        query = select(func.count()).select_from(GeoUnitRow)
        if level is not None:
            query = query.where(GeoUnitRow.level == int(level))
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def replace_all(self, units: Sequence[Unit], source: str | None = None) -> None:
        """Replace the whole tree (and the devices placed on it) in one transaction.

        ``source`` (e.g. ``"import:<file>"``) is stored as ``app_meta.geo_source`` in the
        same transaction, so a failed write leaves neither the tree nor the mark behind.
        """
        ordered = sorted(units, key=lambda u: (int(u.level), u.code))
        wkbs = shapely.to_wkb([u.geometry for u in ordered])
        rows = [
            {
                "code": u.code,
                "name": u.name,
                "level": int(u.level),
                "parent_code": u.parent_code,
                "households": u.households,
                "geometry_wkb": bytes(wkb),
            }
            for u, wkb in zip(ordered, wkbs, strict=True)
        ]
        with self._engine.begin() as conn:
            conn.execute(delete(DeviceRow))
            # Children first, so the self-referencing foreign key is never violated.
            for level in sorted({u.level for u in ordered}, reverse=True):
                conn.execute(delete(GeoUnitRow).where(GeoUnitRow.level == int(level)))
            for start in range(0, len(rows), _CHUNK):
                conn.execute(insert(GeoUnitRow), rows[start : start + _CHUNK])
            if source is not None:
                conn.execute(delete(AppMeta).where(AppMeta.key == GEO_SOURCE_KEY))
                conn.execute(insert(AppMeta).values(key=GEO_SOURCE_KEY, value=source))

    def load_units(self) -> list[Unit]:
        """Load every unit with its geometry."""
        query = select(
            GeoUnitRow.code,
            GeoUnitRow.name,
            GeoUnitRow.level,
            GeoUnitRow.parent_code,
            GeoUnitRow.households,
            GeoUnitRow.geometry_wkb,
        ).order_by(GeoUnitRow.level, GeoUnitRow.code)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        geoms = shapely.from_wkb([r.geometry_wkb for r in rows])
        return [
            Unit(
                code=r.code,
                name=r.name,
                level=Level(r.level),
                parent_code=r.parent_code,
                households=r.households,
                geometry=g,
            )
            for r, g in zip(rows, geoms, strict=True)
        ]
