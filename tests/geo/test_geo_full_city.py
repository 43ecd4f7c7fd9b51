"""Generate the full default city once and check its size, counts and seamlessness."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import Hierarchy, Level, generate_demo_city


@pytest.fixture(scope="module")
def full_city() -> tuple[Hierarchy, float]:
    """Generate the default city once, timing the generation."""
    start = time.perf_counter()
    units = generate_demo_city()
    elapsed = time.perf_counter() - start
    print(f"\nfull demo city generated in {elapsed:.2f} s")
    return Hierarchy(units), elapsed


@pytest.mark.parametrize(
    ("level", "count"),
    [
        (Level.CITY, 1),
        (Level.DISTRICT, 11),
        (Level.STREET, 100),
        (Level.COMMUNITY, 1000),
        (Level.GRID, 12410),
    ],
)
def test_counts(full_city: tuple[Hierarchy, float], level: Level, count: int) -> None:
    city, _ = full_city
    assert len(city.at_level(level)) == count


def test_area_like_nanjing(full_city: tuple[Hierarchy, float]) -> None:
    city, _ = full_city
    area_m2, _ = Geod(ellps="WGS84").geometry_area_perimeter(city.city.geometry)
    area_km2 = abs(area_m2) / 1e6
    print(f"\nfull demo city area {area_km2:.0f} km²")
    assert 6000 < area_km2 < 7000


def test_households(full_city: tuple[Hierarchy, float]) -> None:
    city, _ = full_city
    households = np.array([g.households for g in city.at_level(Level.GRID)])
    assert abs(households.mean() - 600) < 3
    assert households.min() >= 400
    assert households.max() <= 800
    assert city.city.households == households.sum()


@pytest.mark.parametrize("level", [Level.GRID, Level.COMMUNITY, Level.DISTRICT])
def test_coverage_valid(full_city: tuple[Hierarchy, float], level: Level) -> None:
    city, _ = full_city
    geoms = [u.geometry for u in city.at_level(level)]
    assert shapely.coverage_is_valid(geoms)
    assert all(shapely.get_type_id(geoms) == 3)


def test_generation_is_fast(full_city: tuple[Hierarchy, float]) -> None:
    _, elapsed = full_city
    # Target is < 5 s on two cores; the bound leaves room for a busy CI machine.
    assert elapsed < 30
