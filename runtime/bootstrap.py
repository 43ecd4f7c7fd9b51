"""Make the data a process needs exist: schema, the demo city, its devices."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import numpy as np
from sqlalchemy import Engine

from domain.catalog import t
from domain.devices import Device, DeviceType
from geo.demo_city import DemoCitySpec, generate_demo_city
from geo.hierarchy import Hierarchy, Level
from geo.sampling import random_points_in_each
from settings import Settings
from storage.database import make_engine
from storage.migrate import upgrade_to_head
from storage.patrol_repository import NewPoint, PatrolRepository
from storage.repositories import DeviceRepository, GeoRepository, MetaRepository

__all__ = ["demo_patrol_points", "demo_spec", "ensure_demo_city", "ensure_patrol_points", "open_database"]

log = logging.getLogger(__name__)

GEO_SOURCE_KEY = "geo_source"
PATROL_POINTS_PER_GRID = 3  # places a demo grid worker walks past every day

# Device mix of a typical grid: gates and smoke detectors everywhere, the rest thinner.
_DEVICE_MIX: tuple[tuple[DeviceType, float], ...] = (
    (DeviceType.GATE, 0.30),
    (DeviceType.SMOKE, 0.20),
    (DeviceType.TEMPERATURE, 0.10),
    (DeviceType.FACE_CAMERA, 0.08),
    (DeviceType.VEHICLE_CAMERA, 0.06),
    (DeviceType.GAS, 0.06),
    (DeviceType.WATER_METER, 0.05),
    (DeviceType.POWER_METER, 0.05),
    (DeviceType.INFRARED, 0.05),
    (DeviceType.ALARM_BUTTON, 0.05),
)


def open_database(settings: Settings) -> Engine:
    """Create the data dir and engine, and migrate the schema to the newest revision."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine)
    return engine


def demo_spec(settings: Settings) -> DemoCitySpec:
    """The demo city the settings ask for."""
    return DemoCitySpec(
        seed=settings.demo_seed,
        districts=settings.demo_districts,
        streets=settings.demo_streets,
        communities=settings.demo_communities,
        grids=settings.demo_grids,
    )


def ensure_demo_city(
    engine: Engine, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> Hierarchy:
    """Load the city; generate the demo city (and its devices) once if there is none yet.

    A city that was imported is never replaced; a demo city generated from other settings is.
    """
    meta = MetaRepository(engine)
    geo = GeoRepository(engine)
    spec = demo_spec(settings)
    wanted = "demo:" + json.dumps(
        {
            "seed": spec.seed,
            "grids": spec.grids,
            "communities": spec.communities,
            "streets": spec.streets,
            "districts": spec.districts,
            "devices_per_grid": settings.devices_per_grid,
        },
        sort_keys=True,
    )
    source = meta.get(GEO_SOURCE_KEY)
    if geo.count() == 0 or (source is not None and source.startswith("demo:") and source != wanted):
        log.info("generating the demo city (%d grids)", spec.grids)
        units = generate_demo_city(spec, progress=progress)
        geo.replace_all(units)
        hierarchy = Hierarchy(units)
        DeviceRepository(engine).add_many(demo_devices(hierarchy, settings.devices_per_grid, spec.seed))
        PatrolRepository(engine).delete_all()  # the old points lie in grids that no longer exist
        ensure_patrol_points(engine, hierarchy, spec.seed, settings.language)
        meta.set(GEO_SOURCE_KEY, wanted)
        return hierarchy
    hierarchy = Hierarchy(geo.load_units())
    if source is not None and source.startswith("demo:"):
        ensure_patrol_points(engine, hierarchy, spec.seed, settings.language)  # a demo city from before patrols
    return hierarchy


def ensure_patrol_points(engine: Engine, hierarchy: Hierarchy, seed: int, lang: str) -> int:
    """Place the demo patrol points in every grid unless the city has points already; return how many were added."""
    repo = PatrolRepository(engine)
    if repo.count_points():
        return 0
    return repo.add_points(demo_patrol_points(hierarchy, PATROL_POINTS_PER_GRID, seed, lang))


def demo_patrol_points(hierarchy: Hierarchy, per_grid: int, seed: int, lang: str) -> list[NewPoint]:
    """Place ``per_grid`` patrol points at random inside every grid, the same for the same seed."""
    rng = np.random.default_rng(seed + 2)
    grids = hierarchy.at_level(Level.GRID)
    placed = random_points_in_each([g.geometry for g in grids], per_grid, rng)
    return [
        NewPoint(grid.code, t("patrol.point_name", lang, grid=grid.name, n=n), round(lon, 7), round(lat, 7))
        for grid, points in zip(grids, placed, strict=True)
        for n, (lon, lat) in enumerate(points, start=1)
    ]


def demo_devices(hierarchy: Hierarchy, per_grid: int, seed: int) -> list[Device]:
    """Place ``per_grid`` devices of a realistic mix at random points inside every grid."""
    rng = np.random.default_rng(seed + 1)
    types = [t for t, _ in _DEVICE_MIX]
    weights = np.array([w for _, w in _DEVICE_MIX])
    grids = hierarchy.at_level(Level.GRID)
    placed = random_points_in_each([g.geometry for g in grids], per_grid, rng)
    kinds_all = rng.choice(len(types), size=(len(grids), per_grid), p=weights / weights.sum())
    devices: list[Device] = []
    for grid, points, kinds in zip(grids, placed, kinds_all, strict=True):
        for n, ((lon, lat), k) in enumerate(zip(points, kinds, strict=True), start=1):
            devices.append(Device(f"D{grid.code}{n:02d}", types[int(k)], round(lon, 7), round(lat, 7), grid.code))
    return devices
