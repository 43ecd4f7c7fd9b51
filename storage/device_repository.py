"""The device registry in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from domain.devices import Device, DeviceType
from storage.models import DeviceRow

__all__ = ["DeviceRepository"]

_CHUNK = 2_000


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
