"""Nanjing end to end on the real district files: import both, convert, repair, generate, validate, look up."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coverage import repair, validate
from geo.files import read_layer, read_street_list
from geo.generation import GenerationSpec, generate_levels
from geo.hierarchy import Hierarchy, Level, Unit
from geo.importing import attach_level, units_from_layer
from geo.lod import level_feature_collection
from geo.lookup import GridLocator, PlacementStatus
from geo.measure import LocalProjection, haversine_m
from geo.sampling import random_points_in
from tests.shared_data import SHARED_DATA, shared_data

GCJ = SHARED_DATA / "boundaries" / "nanjing_districts_320100_gcj02.geojson"
WGS = SHARED_DATA / "boundaries" / "nanjing_districts_320100_wgs84.geojson"
STREETS = SHARED_DATA / "admin_codes" / "nanjing_streets_2022.csv"
NANJING_GRIDS = 12_410


@pytest.fixture(autouse=True, scope="module")
def _needs_shared_data() -> None:
    for path in (GCJ, WGS, STREETS):
        shared_data(*path.relative_to(SHARED_DATA).parts)


def districts(path: Path, crs: str | None) -> list[Unit]:
    layer = units_from_layer(read_layer(path, crs), Level.DISTRICT, file=path)
    return attach_level([], layer, Level.DISTRICT, file=path, city_name="南京市")


@pytest.fixture(scope="module")
def pipeline() -> tuple[list[Unit], list[Unit], float]:
    """Import the GCJ-02 file, repair it and generate Nanjing's 12,410 grids, timed."""
    started = time.perf_counter()
    imported = districts(GCJ, "gcj02")
    repaired, _ = repair(imported, tolerance_m=50.0)
    spec = GenerationSpec(grids=NANJING_GRIDS, street_list=tuple(read_street_list(STREETS)), seed=20261123)
    tree = generate_levels(repaired, spec)
    return imported, tree, time.perf_counter() - started


@pytest.fixture(scope="module")
def city(pipeline: tuple[list[Unit], list[Unit], float]) -> Hierarchy:
    return Hierarchy(pipeline[1])


@pytest.fixture(scope="module")
def locator(city: Hierarchy) -> GridLocator:
    return GridLocator.for_hierarchy(city)


def test_gcj02_file_converted_agrees_with_wgs84_file_within_10_m() -> None:
    ours = {u.code: u.geometry for u in districts(GCJ, "gcj02") if u.level is Level.DISTRICT}
    theirs = {u.code: u.geometry for u in districts(WGS, None) if u.level is Level.DISTRICT}
    assert sorted(ours) == sorted(theirs) and len(ours) == 11
    for code, geom in ours.items():
        # Degrees to metres with the latitude scale: an upper bound for any direction.
        assert shapely.hausdorff_distance(geom, theirs[code]) * 111_195 < 10.0, code


def test_raw_gcj02_file_is_shifted_about_500_m() -> None:
    raw = {u.code: u.geometry for u in districts(GCJ, None)}
    converted = {u.code: u.geometry for u in districts(GCJ, "gcj02")}
    a, b = shapely.centroid(raw["320106"]), shapely.centroid(converted["320106"])
    assert 400 < float(haversine_m(a.x, a.y, b.x, b.y)[0]) < 600


def test_real_overlaps_are_found_then_repaired(pipeline: tuple[list[Unit], list[Unit], float]) -> None:
    imported = pipeline[0]
    findings = validate(imported)
    overlap_km2 = sum(f.area_m2 for f in findings if f.kind == "overlap") / 1e6
    assert overlap_km2 == pytest.approx(0.28, abs=0.01)
    repaired, changes = repair(imported, tolerance_m=50.0)
    assert {c.kind for c in changes} >= {"overlap_resolved", "gap_filled"}
    assert validate(repaired) == []


def test_generated_city_is_complete_clean_and_fast(
    pipeline: tuple[list[Unit], list[Unit], float], city: Hierarchy
) -> None:
    _, tree, elapsed = pipeline
    assert elapsed < 60.0
    counts = [len(city.at_level(lv)) for lv in Level]
    assert counts[0:2] == [1, 11] and counts[4] == NANJING_GRIDS
    assert validate(tree) == []
    for level in Level:
        assert shapely.coverage_is_valid(np.array([u.geometry for u in city.at_level(level)]))
    area_km2 = float(LocalProjection.around([city.city.geometry]).area_m2(city.city.geometry)[0]) / 1e6
    assert area_km2 == pytest.approx(6587, rel=0.005)


def test_streets_are_named_and_coded_from_the_csv(city: Hierarchy) -> None:
    listed = {s.code: s.name for s in read_street_list(STREETS)}
    streets = {u.code: u.name for u in city.at_level(Level.STREET)}
    assert streets == listed
    assert streets["320102003"] == "新街口街道" and city.get("320102003").parent_code == "320102"
    for grid in city.at_level(Level.GRID)[::500]:
        assert grid.code[:12] == grid.parent_code and len(grid.code) == 15


def test_fast_lookup_equals_plain_strtree(city: Hierarchy, locator: GridLocator) -> None:
    grids = city.at_level(Level.GRID)
    tree = shapely.STRtree([g.geometry for g in grids])
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = city.bounds(city.city.code)
    x = rng.uniform(minx - 0.01, maxx + 0.01, 50_000)
    y = rng.uniform(miny - 0.01, maxy + 0.01, 50_000)
    coords = shapely.get_coordinates([g.geometry for g in grids[::25]])  # vertices: points on shared edges
    x, y = np.concatenate([x, coords[:, 0]]), np.concatenate([y, coords[:, 1]])
    hits = tree.query(shapely.points(x, y), predicate="intersects")
    best = np.full(x.size, len(grids))
    np.minimum.at(best, hits[0], hits[1])
    expected = [grids[i].code if i < len(grids) else None for i in best.tolist()]
    assert locator.locate_many(x, y) == expected


def test_points_just_outside_snap_and_far_points_are_outside(city: Hierarchy, locator: GridLocator) -> None:
    outline = city.city.geometry
    probe = shapely.get_coordinates(shapely.boundary(outline))[100]
    lon, lat = float(probe[0]), float(probe[1])
    # Step away from the city along the ray from its centre until outside, 10-40 m out.
    centre = shapely.centroid(outline)
    direction = np.array([lon - centre.x, lat - centre.y]) / np.hypot(lon - centre.x, lat - centre.y)
    for step in np.linspace(1e-4, 4e-4, 20):
        px, py = lon + direction[0] * step, lat + direction[1] * step
        if not outline.contains(shapely.Point(px, py)):
            break
    placed = locator.place([px, 130.0, float("nan")], [py, 40.0, 32.0], near_m=100.0)
    assert [PlacementStatus(s) for s in placed.status] == [
        PlacementStatus.NEAR,
        PlacementStatus.OUTSIDE,
        PlacementStatus.INVALID,
    ]
    assert placed.grids[0] is not None and placed.grids[1] is None and placed.codes[Level.DISTRICT][2] is None
    assert 0 < placed.distance_m[0] <= 100.0


@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_point_inside_maps_to_one_grid_whose_ancestors_contain_it(
    city: Hierarchy, locator: GridLocator, seed: int
) -> None:
    points = random_points_in(city.city.geometry, 200, np.random.default_rng(seed))
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    placed = locator.place(lons, lats)
    assert (placed.status == PlacementStatus.INSIDE).all()
    for i, (lon, lat) in enumerate(points):
        point = shapely.Point(lon, lat)
        grid = placed.grids[i]
        assert grid is not None
        assert city.get(grid).geometry.intersects(point)
        for level in (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY):
            code = placed.codes[level][i]
            assert code in city.ancestors(grid)
            assert city.get(code).geometry.intersects(point)


@pytest.mark.parametrize("level", [Level.DISTRICT, Level.STREET, Level.COMMUNITY])
def test_simplified_levels_keep_shared_edges(city: Hierarchy, level: Level) -> None:
    collection = level_feature_collection(city.at_level(level))
    shapes = np.array([shapely.geometry.shape(f["geometry"]) for f in collection["features"]], dtype=object)
    assert shapely.coverage_is_valid(shapes)
    assert all(shapely.is_valid(shapes))
    union = shapely.union_all(shapes)
    # No new gaps: the simplified union has no more holes than the city, and nothing overlaps.
    holes = int(np.sum(shapely.get_num_interior_rings(shapely.get_parts(union))))
    city_holes = int(np.sum(shapely.get_num_interior_rings(shapely.get_parts(city.city.geometry))))
    assert holes <= city_holes
    assert float(np.sum(shapely.area(shapes))) == pytest.approx(union.area, rel=1e-9)
