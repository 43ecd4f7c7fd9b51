"""The device registry in SQL, with each device's own credential."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from domain.devices import Device, DeviceType
from storage.models import DeviceRow

__all__ = ["DeviceCredential", "DeviceExists", "DeviceRecord", "DeviceRepository", "UnknownDevice"]

_CHUNK = 2_000
ACTIVE = "active"
REVOKED = "revoked"


class DeviceExists(ValueError):
    """A device id is already registered."""


class UnknownDevice(LookupError):
    """No device has this id."""


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What anyone may read about a registered device: everything but its secret."""

    device: Device
    status: str
    installed_at: datetime
    secret_version: int
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    """What the ingest endpoint needs to verify a device's signature."""

    device_id: str
    secret: str | None
    secret_version: int
    revoked: bool
    device_type: str


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
        rows = [_row(d, when, None) for d in devices]
        with self._engine.begin() as conn:
            for start in range(0, len(rows), _CHUNK):
                conn.execute(insert(DeviceRow), rows[start : start + _CHUNK])
        return len(rows)

    def load_all(self) -> list[Device]:
        """Load every active device."""
        query = (
            select(DeviceRow.device_id, DeviceRow.device_type, DeviceRow.lon, DeviceRow.lat, DeviceRow.grid_code)
            .where(DeviceRow.status == ACTIVE)
            .order_by(DeviceRow.device_id)
        )
        with self._engine.connect() as conn:
            return [
                Device(r.device_id, DeviceType(r.device_type), r.lon, r.lat, r.grid_code) for r in conn.execute(query)
            ]

    def register(self, device: Device, secret: str, installed_at: datetime | None = None) -> None:
        """Register one device with its first secret; raise DeviceExists if the id is taken."""
        self.register_many([(device, secret)], installed_at)

    def register_many(self, devices: Sequence[tuple[Device, str]], installed_at: datetime | None = None) -> int:
        """Register devices with their secrets in one transaction: all of them or, on a taken id, none."""
        when = installed_at or datetime.now(UTC)
        rows = [_row(d, when, secret) for d, secret in devices]
        try:
            with self._engine.begin() as conn:
                for start in range(0, len(rows), _CHUNK):
                    conn.execute(insert(DeviceRow), rows[start : start + _CHUNK])
        except IntegrityError as exc:
            raise DeviceExists("a device id in the batch is already registered") from exc
        return len(rows)

    def existing_ids(self, device_ids: Iterable[str]) -> set[str]:
        """Return which of these ids are registered already, so an import can report them by row."""
        wanted = list(dict.fromkeys(device_ids))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(conn.execute(select(DeviceRow.device_id).where(DeviceRow.device_id.in_(chunk))).scalars())
        return found

    def rotate(self, device_id: str, secret: str) -> int:
        """Replace an active device's secret; return the new version (the old secret stops working at once)."""
        with self._engine.begin() as conn:
            row = conn.execute(
                select(DeviceRow.status, DeviceRow.secret_version).where(DeviceRow.device_id == device_id)
            ).first()
            if row is None:
                raise UnknownDevice(device_id)
            if row.status != ACTIVE:
                raise ValueError(f"device {device_id} is {row.status}; a revoked device gets no new secret")
            version = int(row.secret_version) + 1
            conn.execute(
                update(DeviceRow).where(DeviceRow.device_id == device_id).values(secret=secret, secret_version=version)
            )
        return version

    def revoke(self, device_id: str, when: datetime | None = None) -> bool:
        """Revoke a device for good and drop its secret; return False if it was revoked already."""
        with self._engine.begin() as conn:
            status = conn.execute(select(DeviceRow.status).where(DeviceRow.device_id == device_id)).scalar()
            if status is None:
                raise UnknownDevice(device_id)
            if status == REVOKED:
                return False
            conn.execute(
                update(DeviceRow)
                .where(DeviceRow.device_id == device_id)
                .values(status=REVOKED, revoked_at=when or datetime.now(UTC), secret=None)
            )
        return True

    def get(self, device_id: str) -> DeviceRecord | None:
        """Read one device without its secret."""
        with self._engine.connect() as conn:
            row = conn.execute(_public_columns().where(DeviceRow.device_id == device_id)).first()
        return _record(row) if row is not None else None

    def list_all(self) -> list[DeviceRecord]:
        """Read every device (revoked ones included) without secrets, by id."""
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(_public_columns().order_by(DeviceRow.device_id))]

    def in_grid(self, grid_code: str) -> list[DeviceRecord]:
        """Read the devices of one grid without secrets, by id."""
        query = _public_columns().where(DeviceRow.grid_code == grid_code).order_by(DeviceRow.device_id)
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def credential(self, device_id: str) -> DeviceCredential | None:
        """Read what verifying a signature needs; the only reader of the secret column."""
        query = select(DeviceRow.secret, DeviceRow.secret_version, DeviceRow.status, DeviceRow.device_type).where(
            DeviceRow.device_id == device_id
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return DeviceCredential(
            device_id, row.secret, int(row.secret_version), row.status != ACTIVE, str(row.device_type)
        )


def _row(device: Device, when: datetime, secret: str | None) -> dict[str, Any]:
    return {
        "device_id": device.device_id,
        "device_type": device.device_type.value,
        "lon": device.lon,
        "lat": device.lat,
        "grid_code": device.grid_code,
        "status": ACTIVE,
        "installed_at": when,
        "secret": secret,
        "secret_version": 1 if secret is not None else 0,
        "revoked_at": None,
    }


def _public_columns() -> Any:
    return select(
        DeviceRow.device_id,
        DeviceRow.device_type,
        DeviceRow.lon,
        DeviceRow.lat,
        DeviceRow.grid_code,
        DeviceRow.status,
        DeviceRow.installed_at,
        DeviceRow.secret_version,
        DeviceRow.revoked_at,
    )


def _record(r: Row[Any]) -> DeviceRecord:
    return DeviceRecord(
        Device(r.device_id, DeviceType(r.device_type), r.lon, r.lat, r.grid_code),
        r.status,
        r.installed_at,
        int(r.secret_version),
        r.revoked_at,
    )
