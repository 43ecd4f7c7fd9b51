"""Check generation inside non-convex, multi-part parents: seamless, compact, deterministic, weighted."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.coverage import validate
from geo.errors import GenerationError
from geo.generation import GenerationSpec, HouseholdWeights, StreetListing, generate_levels, split_polygon
from geo.hierarchy import Hierarchy, Level, Unit

# A C-shaped district plus an island, and a neighbour that fills the C around the island (lon/lat near Nanjing).
C_SHAPE = shapely.Polygon(
    [(118.0, 32.0), (118.1, 32.0), (118.1, 32.02), (118.02, 32.02), (118.02, 32.08), (118.1, 32.08),
     (118.1, 32.1), (118.0, 32.1)]
)  # fmt: skip
ISLAND = shapely.box(118.05, 32.04, 118.07, 32.06)
DISTRICT_A = shapely.MultiPolygon([C_SHAPE, ISLAND])
DISTRICT_B = shapely.union_all(
    [shapely.box(118.1, 32.0, 118.2, 32.1), shapely.box(118.02, 32.02, 118.1, 32.08)]
).difference(ISLAND)


def base() -> list[Unit]:
    city = shapely.union_all([DISTRICT_A, DISTRICT_B])
    return [
        Unit("9901", "c", Level.CITY, None, 0, city),
        Unit("990101", "a", Level.DISTRICT, "9901", 0, DISTRICT_A),
        Unit("990102", "b", Level.DISTRICT, "9901", 0, DISTRICT_B),
    ]


@pytest.fixture(scope="module")
def generated() -> list[Unit]:
    return generate_levels(base(), GenerationSpec(grids=300, communities=30, streets=8, seed=5))


def test_split_polygon_tiles_a_non_convex_multipolygon() -> None:
    parent = shapely.MultiPolygon([C_SHAPE, ISLAND])
    for seed in range(5):
        cells = split_polygon(parent, 9, np.random.default_rng(seed))
        assert len(cells) == 9
        assert shapely.coverage_is_valid(cells)
        union = shapely.union_all(cells)
        assert union.symmetric_difference(parent).area < 1e-12
        multi = [c for c in cells if c.geom_type == "MultiPolygon"]
        # Only a cell that holds the whole island may stay multi-part: a detached part touches no sibling.
        for cell in multi:
            assert any(part.equals(ISLAND) or ISLAND.contains(part) for part in cell.geoms)


def test_generated_levels_are_seamless_and_nested(generated: list[Unit]) -> None:
    h = Hierarchy(generated)
    assert [len(h.at_level(lv)) for lv in Level] == [1, 2, 8, 30, 300]
    for level in Level:
        assert shapely.coverage_is_valid(np.array([u.geometry for u in h.at_level(level)]))
    assert validate(generated) == []
    assert h.city.geometry.symmetric_difference(shapely.union_all([DISTRICT_A, DISTRICT_B])).area < 1e-9


def test_grid_codes_extend_community_codes(generated: list[Unit]) -> None:
    for unit in generated:
        if unit.level is Level.GRID:
            assert unit.code[:12] == unit.parent_code and len(unit.code) == 15


def test_generation_is_deterministic(generated: list[Unit]) -> None:
    again = generate_levels(base(), GenerationSpec(grids=300, communities=30, streets=8, seed=5))
    assert [(u.code, u.geometry.wkb) for u in again] == [(u.code, u.geometry.wkb) for u in generated]


def test_grids_are_compact(generated: list[Unit]) -> None:
    grids = [u.geometry for u in generated if u.level is Level.GRID]
    # Isoperimetric quotient 4*pi*A/P^2: 1 for a disc, 0.785 for a square, ~0.2 for a 1:10 strip.
    quotient = 4 * np.pi * shapely.area(grids) / shapely.length(grids) ** 2
    assert np.median(quotient) > 0.6 and quotient.min() > 0.15


def test_household_weights_drive_counts_and_sizes() -> None:
    rng = np.random.default_rng(2)
    # 90 % of the households in the square district's west quarter.
    lon = np.concatenate([rng.uniform(118.1, 118.125, 900), rng.uniform(118.15, 118.2, 100)])
    lat = rng.uniform(32.0, 32.1, 1000)
    weights = HouseholdWeights(lon, lat, np.full(1000, 60.0))
    units = generate_levels(base(), GenerationSpec(households_per_grid=600, communities=20, streets=4), weights)
    h = Hierarchy(units)
    grids = h.at_level(Level.GRID)
    assert len(grids) == 100
    assert sum(g.households for g in grids) == 60_000
    west = [
        g
        for g in grids
        if g.parent_code.startswith("990102") and g.geometry.centroid.x < 118.125 and g.geometry.centroid.x > 118.1
    ]
    east = [g for g in grids if g.parent_code.startswith("990102") and g.geometry.centroid.x >= 118.15]
    assert len(west) > 2 * len(east)
    assert np.mean([g.geometry.area for g in west]) < np.mean([g.geometry.area for g in east])
    assert validate(units) == []


def test_street_list_names_and_codes_streets() -> None:
    listing = (StreetListing("990101003", "甲街道", "990101"), StreetListing("990101007", "乙街道", "990101"))
    units = generate_levels(base(), GenerationSpec(grids=40, communities=6, street_list=listing, seed=1))
    streets = {u.code: u.name for u in units if u.level is Level.STREET}
    assert streets["990101003"] == "甲街道" and streets["990101007"] == "乙街道"
    assert any(code.startswith("990102") for code in streets)  # unlisted district still gets a street


def test_contradictory_options_are_refused() -> None:
    with pytest.raises(GenerationError, match="exactly one"):
        generate_levels(base(), GenerationSpec())
    with pytest.raises(GenerationError, match="needs household weights"):
        generate_levels(base(), GenerationSpec(households_per_grid=600))
