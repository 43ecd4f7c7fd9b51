"""One device, one account: the `devices` commands register, import, rotate, revoke and list, audited."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import main
from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from settings import Settings
from storage.audit_repository import AuditQuery, AuditRepository
from storage.device_repository import DeviceRepository
from tests import databases
from tests.integration.events import inside
from tests.processes import ROOT, small_city_env


@dataclass
class Registry:
    settings: Settings
    city: Hierarchy
    env: dict[str, str]
    devices: DeviceRepository
    audit: AuditRepository


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    data_dir = tmp_path_factory.mktemp("devices") / "var"
    env = small_city_env(data_dir)
    settings = Settings.from_env(env)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    try:
        yield Registry(settings, city, env, DeviceRepository(engine), AuditRepository(engine))
    finally:
        engine.dispose()


def cli(registry: Registry, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python app.py ARGS` as an operator would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        env=registry.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def cli_here(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run the same command line in this process (one subprocess per command would cost 4 s each)."""
    for name, value in registry.env.items():
        if name.startswith("GRIDWATCH_"):
            monkeypatch.setenv(name, value)
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def grid_point(registry: Registry, n: int) -> tuple[str, str]:
    lon, lat = inside(registry.city.at_level(Level.GRID)[n])
    return str(lon), str(lat)


def audited(registry: Registry, action: str, target: str) -> list[dict[str, object]]:
    return [dict(e.detail) for e in registry.audit.search(AuditQuery(action=action, target=target, limit=10))]


def test_register_prints_the_secret_once_and_nothing_reads_it_back(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lon, lat = grid_point(registry, 3)
    done = cli(registry, "devices", "register", "GATE-0001", "--type", "gate", "--lon", lon, "--lat", lat)
    assert done.returncode == 0, done.stderr
    grid = registry.city.at_level(Level.GRID)[3].code
    assert f"on grid {grid}" in done.stdout
    secret = done.stdout.rsplit(": ", 1)[1].strip()
    credential = registry.devices.credential("GATE-0001")
    assert credential is not None and credential.secret == secret and credential.secret_version == 1
    status, listing, _ = cli_here(registry, monkeypatch, capsys, "devices", "list")
    assert status == 0 and "GATE-0001" in listing and secret not in listing
    record = registry.devices.get("GATE-0001")
    assert record is not None and secret not in repr(record)
    [entry] = [e for e in registry.audit.search(AuditQuery(action="device.register", target="GATE-0001"))]
    assert entry.actor.startswith("cli:") and secret not in str(entry.detail)
    again = cli_here(
        registry, monkeypatch, capsys, "devices", "register", "GATE-0001", "--type", "gate", "--lon", lon, "--lat", lat
    )
    assert again[0] == 2 and "already registered" in again[2]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["OUT-1", "--type", "smoke", "--lon", "10.0", "--lat", "10.0"], "outside the city"),
        (["BAD ID", "--type", "smoke", "--lon", "118.8", "--lat", "32.0"], "device_id must be"),
        (["NAN-1", "--type", "smoke", "--lon", "nan", "--lat", "32.0"], "finite"),
    ],
)
def test_register_refuses_what_cannot_be_placed(
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    why: str,
) -> None:
    status, out, err = cli_here(registry, monkeypatch, capsys, "devices", "register", *args)
    assert status == 2 and why in err and "secret" not in out
    assert registry.devices.get(args[0]) is None


def test_rotate_replaces_the_secret_and_revoke_ends_the_device(
    registry: Registry, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lon, lat = grid_point(registry, 5)
    status, out, _ = cli_here(
        registry, monkeypatch, capsys, "devices", "register", "SMOKE-7", "--type", "smoke", "--lon", lon, "--lat", lat
    )
    first = out.rsplit(": ", 1)[1].strip()
    status, out, _ = cli_here(registry, monkeypatch, capsys, "devices", "rotate", "SMOKE-7")
    second = out.rsplit(": ", 1)[1].strip()
    assert status == 0 and second != first and len(second) == 64
    credential = registry.devices.credential("SMOKE-7")
    assert credential is not None and credential.secret == second and credential.secret_version == 2
    assert audited(registry, "device.rotate", "SMOKE-7") == [{"secret_version": 2}]

    status, out, _ = cli_here(registry, monkeypatch, capsys, "devices", "revoke", "SMOKE-7")
    assert status == 0 and "revoked" in out
    credential = registry.devices.credential("SMOKE-7")
    assert credential is not None and credential.revoked and credential.secret is None
    assert audited(registry, "device.revoke", "SMOKE-7") == [{}]
    assert "SMOKE-7" not in {d.device_id for d in registry.devices.load_all()}  # the simulator drops it too
    status, _, err = cli_here(registry, monkeypatch, capsys, "devices", "rotate", "SMOKE-7")
    assert status == 2 and "revoked" in err
    status, listing, _ = cli_here(registry, monkeypatch, capsys, "devices", "list")
    assert "SMOKE-7" in listing and "revoked" in listing and second not in listing
    assert cli_here(registry, monkeypatch, capsys, "devices", "rotate", "NOBODY")[0] == 2


def test_import_registers_good_rows_and_names_each_bad_one(registry: Registry, tmp_path: Path) -> None:
    (lon1, lat1), (lon2, lat2) = grid_point(registry, 10), grid_point(registry, 11)
    rows = [
        "device_id,type,lon,lat",
        f"IMP-1,gate,{lon1},{lat1}",  # line 2
        f"IMP-2,water_meter,{lon2},{lat2}",  # line 3
        f"IMP-3,toaster,{lon1},{lat1}",  # line 4: unknown type
        "IMP-4,gate,10.0,10.0",  # line 5: outside the city
        f"bad id,gate,{lon1},{lat1}",  # line 6
        f"IMP-1,gate,{lon1},{lat1}",  # line 7: repeated
        f"GATE-0001,gate,{lon1},{lat1}",  # line 8: registered before
        f"IMP-5,gate,east,{lat1}",  # line 9
    ]
    path = tmp_path / "devices.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    done = cli(registry, "devices", "import", str(path))
    assert done.returncode == 1, done.stderr
    issued = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["device_id"] for r in issued] == ["IMP-1", "IMP-2"]
    for r in issued:
        credential = registry.devices.credential(r["device_id"])
        assert credential is not None and credential.secret == r["secret"]
    for line, reason in [
        (4, "unknown type"),
        (5, "outside the city"),
        (6, "device_id must be"),
        (7, "repeated in this file"),
        (8, "already registered"),
        (9, "must be numbers"),
    ]:
        assert any(f"rejected row {line} " in x and reason in x for x in done.stderr.splitlines()), (line, done.stderr)
    assert "imported 2 device(s), rejected 6 row(s)" in done.stderr
    assert registry.devices.get("IMP-3") is None
    assert audited(registry, "device.register", "IMP-2")[0]["via"] == "import"


def test_devices_from_before_credentials_have_none_until_rotated(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text

    from storage.database import make_engine
    from storage.migrate import alembic_config, upgrade_to_head

    engine = make_engine(databases.db_url(tmp_path / "old.db"))
    command.upgrade(alembic_config(engine), "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO geo_unit VALUES ('G1', 'g', 5, NULL, 0, x'00')"))
        conn.execute(
            text("INSERT INTO device VALUES ('OLD-1', 'gate', 118.0, 32.0, 'G1', 'active', :t)"),
            {"t": datetime.now(UTC)},
        )
    upgrade_to_head(engine)
    repo = DeviceRepository(engine)
    before = repo.credential("OLD-1")
    assert before is not None and before.secret is None and before.secret_version == 0 and not before.revoked
    assert repo.rotate("OLD-1", "s" * 64) == 1
    assert [d.device_id for d in repo.load_all()] == ["OLD-1"]
    engine.dispose()
