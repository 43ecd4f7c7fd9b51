from __future__ import annotations

import pytest
import shapely
from sqlalchemy import Engine, inspect

from geo.hierarchy import Hierarchy, Level, Unit
from runtime.bootstrap import demo_devices, ensure_demo_city
from settings import Settings
from storage.repositories import DeviceRepository, GeoRepository, MetaRepository
from tests import databases


def test_migrations_create_the_schema_from_empty(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"alembic_version", "app_meta", "geo_unit", "device"} <= tables


@pytest.mark.skipif(databases.on_postgresql(), reason="WAL is how SQLite serves several processes")
def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_units_round_trip_exactly(engine: Engine, small_units: list[Unit]) -> None:
    repo = GeoRepository(engine)
    repo.replace_all(small_units)
    loaded = repo.load_units()
    assert len(loaded) == len(small_units)
    by_code = {u.code: u for u in small_units}
    for unit in loaded:
        orig = by_code[unit.code]
        assert (unit.name, unit.level, unit.parent_code, unit.households) == (
            orig.name,
            orig.level,
            orig.parent_code,
            orig.households,
        )
        assert shapely.equals_exact(unit.geometry, orig.geometry, tolerance=0)
    assert repo.count(Level.GRID) == len(Hierarchy(small_units).at_level(Level.GRID))


def test_devices_are_placed_inside_their_grid(engine: Engine, small_units: list[Unit]) -> None:
    GeoRepository(engine).replace_all(small_units)
    city = Hierarchy(small_units)
    devices = demo_devices(city, 3, seed=1)
    DeviceRepository(engine).add_many(devices)
    loaded = DeviceRepository(engine).load_all()
    assert len(loaded) == 3 * len(city.at_level(Level.GRID))
    for d in loaded[:200]:
        assert city.get(d.grid_code).geometry.contains(shapely.Point(d.lon, d.lat))


def test_demo_city_is_generated_once_and_reused(small_settings: Settings) -> None:
    from runtime.bootstrap import open_database

    engine = open_database(small_settings)
    first = ensure_demo_city(engine, small_settings)
    meta_before = MetaRepository(engine).get("geo_source")
    second = ensure_demo_city(engine, small_settings)
    assert len(first) == len(second)
    assert MetaRepository(engine).get("geo_source") == meta_before
    assert DeviceRepository(engine).count() == 2 * len(first.at_level(Level.GRID))
    engine.dispose()
