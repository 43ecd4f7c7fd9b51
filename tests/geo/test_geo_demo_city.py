"""Check the generated demo city: counts, codes, names, households, determinism, seamlessness."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
import shapely

from geo import DemoCitySpec, Hierarchy, Level, Unit, generate_demo_city
from geo.demo_city import DEFAULT_SPEC

CODE_LENGTH = {
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.STREET: 9,
    Level.COMMUNITY: 12,
    Level.GRID: 15,
}
NAME_SUFFIX = {Level.DISTRICT: "区", Level.STREET: "街道", Level.COMMUNITY: "社区"}
PARENT_LEVELS = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY]


def level_geoms(city: Hierarchy, level: Level) -> list[shapely.Geometry]:
    """Collect the outlines of one level in code order."""
    return [u.geometry for u in city.at_level(level)]


@pytest.mark.parametrize("level", list(Level))
def test_counts_per_level_match_spec(geo_spec: DemoCitySpec, geo_city: Hierarchy, level: Level) -> None:
    expected = (
        1,
        geo_spec.districts,
        geo_spec.streets,
        geo_spec.communities,
        geo_spec.grids,
    )
    assert len(geo_city.at_level(level)) == expected[level]


def test_units_come_ordered_by_level_then_code(geo_spec: DemoCitySpec, geo_units: list[Unit]) -> None:
    keys = [(u.level, u.code) for u in geo_units]
    assert keys == sorted(keys)
    assert geo_units[0].code == geo_spec.city_code


@pytest.mark.parametrize("level", list(Level))
def test_codes_have_level_length_and_parent_prefix(geo_city: Hierarchy, level: Level) -> None:
    for unit in geo_city.at_level(level):
        assert unit.code.isdigit()
        assert len(unit.code) == CODE_LENGTH[level]
        if level is Level.CITY:
            assert unit.parent_code is None
        else:
            assert unit.parent_code is not None
            assert unit.code.startswith(unit.parent_code)


@pytest.mark.parametrize("level", PARENT_LEVELS)
def test_child_codes_are_consecutive_from_one(geo_city: Hierarchy, level: Level) -> None:
    width = 2 if level is Level.CITY else 3
    for parent in geo_city.at_level(level):
        suffixes = [c.code[len(parent.code) :] for c in geo_city.children(parent.code)]
        assert suffixes == [f"{i:0{width}d}" for i in range(1, len(suffixes) + 1)]


@pytest.mark.parametrize("level", PARENT_LEVELS)
def test_names_unique_within_parent(geo_city: Hierarchy, level: Level) -> None:
    for parent in geo_city.at_level(level):
        names = [c.name for c in geo_city.children(parent.code)]
        assert len(set(names)) == len(names)


@pytest.mark.parametrize("level", [Level.DISTRICT, Level.STREET, Level.COMMUNITY])
def test_names_are_two_chinese_chars_and_suffix(geo_city: Hierarchy, level: Level) -> None:
    suffix = NAME_SUFFIX[level]
    for unit in geo_city.at_level(level):
        stem = unit.name.removesuffix(suffix)
        assert unit.name.endswith(suffix)
        assert len(stem) == 2
        assert all("\u4e00" <= ch <= "\u9fff" for ch in stem)


def test_grid_names_count_within_community(geo_city: Hierarchy) -> None:
    for community in geo_city.at_level(Level.COMMUNITY):
        names = [g.name for g in geo_city.children(community.code)]
        assert names == [f"第{i}网格" for i in range(1, len(names) + 1)]


def test_city_name_and_code_from_spec(geo_city: Hierarchy) -> None:
    assert geo_city.city.code == "9901"
    assert geo_city.city.name == "示范市"


def test_grid_households_near_spec(geo_city: Hierarchy) -> None:
    households = np.array([g.households for g in geo_city.at_level(Level.GRID)])
    assert households.min() >= 400
    assert households.max() <= 800
    assert abs(households.mean() - 600) < 20
    assert households.std() > 20


@pytest.mark.parametrize("level", PARENT_LEVELS)
def test_households_sum_over_children(geo_city: Hierarchy, level: Level) -> None:
    for unit in geo_city.at_level(level):
        kids = geo_city.children(unit.code)
        assert unit.households == sum(k.households for k in kids)
        grids = geo_city.grids_under(unit.code)
        assert unit.households == sum(geo_city.get(c).households for c in grids)


def test_generation_is_deterministic(geo_spec: DemoCitySpec, geo_units: list[Unit]) -> None:
    again = generate_demo_city(geo_spec)
    assert [u.code for u in again] == [u.code for u in geo_units]
    assert [u.name for u in again] == [u.name for u in geo_units]
    assert [u.households for u in again] == [u.households for u in geo_units]
    assert shapely.to_wkb([u.geometry for u in again]).tolist() == (
        shapely.to_wkb([u.geometry for u in geo_units]).tolist()
    )


def test_different_seed_gives_different_geometry(geo_spec: DemoCitySpec, geo_units: list[Unit]) -> None:
    other = generate_demo_city(dataclasses.replace(geo_spec, seed=7))
    assert len(other) == len(geo_units)
    assert not shapely.equals_exact(other[0].geometry, geo_units[0].geometry)
    grids_a = {u.code: u.geometry for u in geo_units if u.level is Level.GRID}
    grids_b = {u.code: u.geometry for u in other if u.level is Level.GRID}
    same = sum(bool(shapely.equals_exact(g, grids_b.get(c))) for c, g in grids_a.items())
    assert same == 0


@pytest.mark.parametrize("level", list(Level))
def test_every_unit_is_a_valid_single_polygon(geo_city: Hierarchy, level: Level) -> None:
    geoms = level_geoms(geo_city, level)
    assert all(shapely.get_type_id(geoms) == 3)
    assert all(shapely.is_valid(geoms))
    assert all(shapely.get_num_interior_rings(geoms) == 0)
    assert all(shapely.area(geoms) > 0)


@pytest.mark.parametrize("level", list(Level))
def test_each_level_is_a_valid_coverage(geo_city: Hierarchy, level: Level) -> None:
    geoms = level_geoms(geo_city, level)
    assert shapely.coverage_is_valid(geoms)
    # Narrow gaps (not just overlaps) count as invalid with a gap width.
    assert shapely.coverage_is_valid(geoms, gap_width=1e-4)


@pytest.mark.parametrize("level", list(Level))
def test_each_level_tiles_the_city_without_gaps(geo_city: Hierarchy, level: Level) -> None:
    city = geo_city.city.geometry
    union = shapely.coverage_union_all(level_geoms(geo_city, level))
    assert shapely.get_type_id(union) == 3
    assert shapely.get_num_interior_rings(union) == 0
    assert shapely.area(shapely.symmetric_difference(union, city)) < 1e-9 * shapely.area(city)


@pytest.mark.parametrize("level", PARENT_LEVELS)
def test_children_tile_their_parent_exactly(geo_city: Hierarchy, level: Level) -> None:
    for parent in geo_city.at_level(level):
        kids = [k.geometry for k in geo_city.children(parent.code)]
        union = shapely.coverage_union_all(kids)
        diff = shapely.area(shapely.symmetric_difference(union, parent.geometry))
        assert diff < 1e-9 * shapely.area(parent.geometry)
        assert all(shapely.covered_by(kids, parent.geometry))


@pytest.mark.parametrize("level", list(Level))
def test_coordinates_sit_on_the_1e7_degree_grid(geo_city: Hierarchy, level: Level) -> None:
    coords = shapely.get_coordinates(level_geoms(geo_city, level)) * 1e7
    assert np.abs(coords - np.round(coords)).max() < 1e-3


@pytest.mark.parametrize("level", [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID])
def test_units_are_compact_and_convex(geo_city: Hierarchy, level: Level) -> None:
    geoms = level_geoms(geo_city, level)
    hull_ratio = shapely.area(geoms) / shapely.area(shapely.convex_hull(geoms))
    assert hull_ratio.min() > 0.999
    compactness = 4 * np.pi * shapely.area(geoms) / shapely.length(geoms) ** 2
    assert compactness.min() > 0.25


def test_vertices_are_shared_across_parent_borders(geo_city: Hierarchy) -> None:
    # A vertex of one grid lying on another grid's boundary must be a vertex of it too.
    grids = level_geoms(geo_city, Level.GRID)
    tree = shapely.STRtree(grids)
    for i, grid in enumerate(grids[:60]):
        points = shapely.points(shapely.get_coordinates(grid))
        for p_idx, g_idx in zip(*tree.query(points, predicate="intersects"), strict=True):
            if g_idx == i:
                continue
            vertices = {tuple(c) for c in shapely.get_coordinates(grids[g_idx]).tolist()}
            assert tuple(shapely.get_coordinates(points[p_idx])[0].tolist()) in vertices


def test_city_area_is_pi_r_squared_scaled(geo_city: Hierarchy) -> None:
    area_km2 = _area_km2(geo_city.city.geometry)
    assert 0.97 * np.pi * 45**2 < area_km2 < 1.03 * np.pi * 45**2


def test_progress_reports_communities_split(geo_spec: DemoCitySpec) -> None:
    calls: list[tuple[int, int]] = []
    generate_demo_city(geo_spec, progress=lambda done, total: calls.append((done, total)))
    n = geo_spec.communities
    assert calls
    assert calls[-1] == (n, n)
    assert all(total == n for _, total in calls)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})


def test_progress_does_not_change_the_result(geo_spec: DemoCitySpec, geo_units: list[Unit]) -> None:
    with_progress = generate_demo_city(geo_spec, progress=lambda done, total: None)
    assert shapely.to_wkb([u.geometry for u in with_progress]).tolist() == (
        shapely.to_wkb([u.geometry for u in geo_units]).tolist()
    )


@pytest.mark.parametrize(
    "counts",
    [(1, 1, 1, 1), (1, 2, 3, 5), (2, 2, 2, 2), (4, 5, 9, 9)],
    ids=lambda c: "-".join(map(str, c)),
)
def test_degenerate_counts_still_nest(counts: tuple[int, int, int, int]) -> None:
    districts, streets, communities, grids = counts
    spec = dataclasses.replace(
        DEFAULT_SPEC,
        districts=districts,
        streets=streets,
        communities=communities,
        grids=grids,
        radius_km=5.0,
    )
    city = Hierarchy(generate_demo_city(spec))
    assert [len(city.at_level(lv)) for lv in Level] == [1, *counts]
    for level in Level:
        geoms = level_geoms(city, level)
        assert shapely.coverage_is_valid(geoms)
        assert all(shapely.get_type_id(geoms) == 3)
    for level in PARENT_LEVELS:
        for parent in city.at_level(level):
            assert city.children(parent.code)


@pytest.mark.parametrize(
    "changes",
    [
        {"seed": 7, "districts": 3, "streets": 9, "communities": 40, "grids": 400},
        {"seed": 1, "center_lon": -73.9, "center_lat": 40.7, "radius_km": 12.0},
        {"seed": 2, "districts": 20, "streets": 60, "communities": 200, "grids": 2000},
    ],
    ids=["seed7-400", "new-york-small", "many-districts"],
)
def test_other_specs_are_seamless(changes: dict[str, object]) -> None:
    spec = dataclasses.replace(
        DEFAULT_SPEC,
        **{"districts": 4, "streets": 12, "communities": 50, "grids": 500, **changes},  # type: ignore[arg-type]
    )
    city = Hierarchy(generate_demo_city(spec))
    counts = (1, spec.districts, spec.streets, spec.communities, spec.grids)
    assert tuple(len(city.at_level(lv)) for lv in Level) == counts
    for level in Level:
        geoms = level_geoms(city, level)
        assert shapely.coverage_is_valid(geoms)
        assert all(shapely.get_type_id(geoms) == 3)
    for level in PARENT_LEVELS:
        for parent in city.at_level(level):
            kids = [k.geometry for k in city.children(parent.code)]
            diff = shapely.symmetric_difference(shapely.coverage_union_all(kids), parent.geometry)
            assert shapely.area(diff) < 1e-9 * shapely.area(parent.geometry)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"city_code": "99"}, "city_code"),
        ({"city_code": "99x1"}, "city_code"),
        ({"districts": 0}, "districts"),
        ({"districts": 100, "streets": 100, "communities": 100, "grids": 100}, "districts"),
        ({"streets": 2}, "decrease"),
        ({"communities": 50}, "decrease"),
        ({"grids": 900}, "decrease"),
        ({"radius_km": 0.0}, "positive"),
        ({"households_per_grid": 0}, "positive"),
        ({"center_lat": 95.0}, "centre"),
        ({"districts": 1, "streets": 1, "communities": 1, "grids": 1000}, "children"),
    ],
)
def test_invalid_specs_are_rejected(changes: dict[str, object], message: str) -> None:
    spec = dataclasses.replace(DEFAULT_SPEC, **changes)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        generate_demo_city(spec)


def test_default_spec_matches_the_contract() -> None:
    spec = DemoCitySpec()
    assert spec == DEFAULT_SPEC
    assert (spec.seed, spec.city_code, spec.city_name) == (20261123, "9901", "示范市")
    assert (spec.districts, spec.streets, spec.communities, spec.grids) == (11, 100, 1000, 12410)
    assert (spec.center_lon, spec.center_lat, spec.radius_km) == (118.80, 32.05, 45.0)
    assert spec.households_per_grid == 600


def test_sibling_grid_counts_follow_area(geo_city: Hierarchy) -> None:
    # Largest-remainder allocation keeps grid sizes similar across communities.
    areas = [shapely.area(g.geometry) for g in geo_city.at_level(Level.GRID)]
    assert max(areas) / min(areas) < 25
    sizes = Counter(len(geo_city.children(c.code)) for c in geo_city.at_level(Level.COMMUNITY))
    assert min(sizes) >= 1


def _area_km2(geom: shapely.Geometry) -> float:
    """Measure geodesic area on the WGS84 ellipsoid."""
    from pyproj import Geod

    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(area) / 1e6
