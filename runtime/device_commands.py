"""`python app.py devices …`: register, import, rotate, revoke and list devices, each change audited.

A device's secret is printed exactly once, when it is issued (register, import, rotate), and
never again: `list` and every read API leave it out.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from domain.devices import Device, DeviceType
from geo.lookup import GridLocator
from runtime.bootstrap import ensure_demo_city, open_database
from security.device_signature import DEVICE_ID_PATTERN, new_secret
from settings import Settings
from storage.audit_repository import AuditRepository
from storage.device_repository import DeviceExists, DeviceRepository, UnknownDevice

__all__ = ["add_parser", "run"]

CSV_COLUMNS = ("device_id", "type", "lon", "lat")


class Rejected(ValueError):
    """A device cannot be registered as given; the message says why."""


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    values: dict[str, str | None]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `devices` command."""
    devices = sub.add_parser("devices", help="register, import, rotate, revoke and list devices")
    ds = devices.add_subparsers(dest="devices_command", metavar="ACTION", required=True)
    reg = ds.add_parser("register", help="register a device on its grid and print its secret once")
    reg.add_argument("device_id")
    reg.add_argument("--type", required=True, choices=[t.value for t in DeviceType])
    reg.add_argument("--lon", required=True, type=float)
    reg.add_argument("--lat", required=True, type=float)
    imp = ds.add_parser("import", help="register devices from a CSV (device_id,type,lon,lat); secrets go to stdout")
    imp.add_argument("file", type=Path)
    ds.add_parser("rotate", help="issue a new secret (printed once); the old one stops working").add_argument(
        "device_id"
    )
    ds.add_parser("revoke", help="revoke a device for good: it can no longer send events").add_argument("device_id")
    ds.add_parser("list", help="list devices (never their secrets)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a `devices` command; return the exit status."""
    engine = open_database(settings)
    try:
        devices = DeviceRepository(engine)
        audit = AuditRepository(engine)
        cmd = args.devices_command
        if cmd == "list":
            return _list(devices)
        if cmd == "rotate":
            return _rotate(devices, audit, args.device_id)
        if cmd == "revoke":
            return _revoke(devices, audit, args.device_id)
        locator = GridLocator.for_hierarchy(ensure_demo_city(engine, settings))
        if cmd == "register":
            return _register(devices, audit, locator, args)
        return _import(devices, audit, locator, args.file)
    finally:
        engine.dispose()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _place(locator: GridLocator, device_id: str, kind: str | None, lon: str | float, lat: str | float) -> Device:
    """Check one device and put it on the grid that contains it."""
    if not DEVICE_ID_PATTERN.match(device_id):
        raise Rejected("device_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    try:
        device_type = DeviceType(kind or "")
    except ValueError:
        raise Rejected(f"unknown type {kind!r}") from None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise Rejected("lon and lat must be numbers") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise Rejected("lon and lat must be finite")
    grid = locator.locate(x, y)
    if grid is None:
        raise Rejected(f"({x}, {y}) lies outside the city")
    return Device(device_id, device_type, x, y, grid)


def _register(devices: DeviceRepository, audit: AuditRepository, locator: GridLocator, args: argparse.Namespace) -> int:
    try:
        device = _place(locator, args.device_id, args.type, args.lon, args.lat)
    except Rejected as exc:
        return _error(str(exc))
    secret = new_secret()
    try:
        devices.register(device, secret)
    except DeviceExists:
        return _error(f"device {device.device_id!r} is already registered")
    audit.append(
        _actor(),
        "device.register",
        device.device_id,
        detail={"type": device.device_type.value, "grid": device.grid_code, "secret_version": 1},
    )
    print(f"registered {device.device_id} ({device.device_type.value}) on grid {device.grid_code}")
    print(f"secret (shown once, store it on the device): {secret}")
    return 0


def _read_csv(path: Path) -> list[_Row]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise Rejected(f"{path}: missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")
        return [_Row(reader.line_num, {k: v for k, v in row.items() if isinstance(k, str)}) for row in reader]


def _import(devices: DeviceRepository, audit: AuditRepository, locator: GridLocator, path: Path) -> int:
    try:
        rows = _read_csv(path)
    except (OSError, UnicodeDecodeError, csv.Error, Rejected) as exc:
        return _error(str(exc))
    registered = devices.existing_ids(r.values.get("device_id") or "" for r in rows)
    accepted: list[tuple[Device, str]] = []
    rejected: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for row in rows:
        device_id = (row.values.get("device_id") or "").strip()
        try:
            if device_id in registered:
                raise Rejected("already registered")
            if device_id in seen:
                raise Rejected("repeated in this file")
            v = row.values
            device = _place(locator, device_id, (v.get("type") or "").strip(), v.get("lon") or "", v.get("lat") or "")
        except Rejected as exc:
            rejected.append((row.line, device_id, str(exc)))
            continue
        seen.add(device_id)
        accepted.append((device, new_secret()))
    try:
        devices.register_many(accepted)
    except DeviceExists:
        return _error("a device was registered by someone else during the import; nothing was imported")
    for device, _ in accepted:
        audit.append(
            _actor(),
            "device.register",
            device.device_id,
            detail={"type": device.device_type.value, "grid": device.grid_code, "secret_version": 1, "via": "import"},
        )
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("device_id", "secret"))
    for device, secret in accepted:
        out.writerow((device.device_id, secret))
    sys.stdout.flush()
    for line, device_id, reason in rejected:
        print(f"rejected row {line} ({device_id or '-'}): {reason}", file=sys.stderr)
    print(f"imported {len(accepted)} device(s), rejected {len(rejected)} row(s)", file=sys.stderr)
    return 1 if rejected else 0


def _rotate(devices: DeviceRepository, audit: AuditRepository, device_id: str) -> int:
    secret = new_secret()
    try:
        version = devices.rotate(device_id, secret)
    except UnknownDevice:
        return _error(f"no device {device_id!r}")
    except ValueError as exc:
        return _error(str(exc))
    audit.append(_actor(), "device.rotate", device_id, detail={"secret_version": version})
    print(f"new secret for {device_id} (version {version}, shown once; the old one no longer works): {secret}")
    return 0


def _revoke(devices: DeviceRepository, audit: AuditRepository, device_id: str) -> int:
    try:
        changed = devices.revoke(device_id)
    except UnknownDevice:
        return _error(f"no device {device_id!r}")
    if changed:
        audit.append(_actor(), "device.revoke", device_id)
        print(f"revoked {device_id}: it can no longer send events")
    else:
        print(f"{device_id} was already revoked")
    return 0


def _list(devices: DeviceRepository) -> int:
    for r in devices.list_all():
        d = r.device
        revoked = f" revoked {r.revoked_at.isoformat(timespec='seconds')}" if r.revoked_at else ""
        print(
            f"{d.device_id:24} {d.device_type.value:14} {d.grid_code:16} {r.status:8} "
            f"secret v{r.secret_version}{revoked}"
        )
    return 0
