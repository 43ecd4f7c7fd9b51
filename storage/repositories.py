"""Repositories: the only code that turns rows into domain/geo values and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import shapely
from sqlalchemy import Engine, delete, func, insert, select

from domain.devices import Device, DeviceType
from geo.hierarchy import Level, Unit
from storage.models import AppMeta, DeviceRow, GeoUnitRow

__all__ = ["DeviceRepository", "GeoRepository", "MetaRepository"]

_CHUNK = 2_000


class MetaRepository:
    """Key/value facts about this installation."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, key: str) -> str | None:
        """Return the value stored under key, or None."""
        with self._engine.connect() as conn:
            return conn.execute(select(AppMeta.value).where(AppMeta.key == key)).scalar()

    def set(self, key: str, value: str) -> None:
        """Store value under key, replacing any previous value."""
        with self._engine.begin() as conn:
            conn.execute(delete(AppMeta).where(AppMeta.key == key))
            conn.execute(insert(AppMeta).values(key=key, value=value))


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

    def replace_all(self, units: Sequence[Unit]) -> None:
        """Replace the whole tree (and the devices placed on it) in one transaction."""
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


class DeviceRepository:
    """The device registry."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def count(self) -> int:
        """Count registered devices."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(DeviceRow)).scalar_one())

    def add_many(self, devices: Iterable[Device], installed_at: datetime | None = None) -> int:
        """Register devices in one transaction; return how many were added."""
        when = installed_at or datetime.now(UTC)
        rows = [
            {
                "device_id": d.device_id,
                "device_type": d.device_type.value,
                "lon": d.lon,
                "lat": d.lat,
                "grid_code": d.grid_code,
                "status": "active",
                "installed_at": when,
            }
            for d in devices
        ]
        with self._engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                conn.execute(insert(DeviceRow), rows[start : start + _CHUNK])
        return len(rows)

    def load_all(self) -> list[Device]:
        """Load every active device."""
        query = (
            select(DeviceRow.device_id, DeviceRow.device_type, DeviceRow.lon, DeviceRow.lat, DeviceRow.grid_code)
            .where(DeviceRow.status == "active")
            .order_by(DeviceRow.device_id)
        )
        with self._engine.connect() as conn:
            return [
                Device(r.device_id, DeviceType(r.device_type), r.lon, r.lat, r.grid_code) for r in conn.execute(query)
            ]
