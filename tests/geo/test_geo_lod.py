"""Check the simplified GeoJSON levels of detail sent to the browser map."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.geometry

from geo import Hierarchy, Level, Unit, level_feature_collection
from geo.lod import DEFAULT_TOLERANCE_M


def shapes_of(collection: dict[str, Any]) -> list[shapely.Geometry]:
    """Parse the features' geometries back into shapely objects."""
    return [shapely.geometry.shape(f["geometry"]) for f in collection["features"]]


def vertex_count(geoms: list[shapely.Geometry]) -> int:
    """Count all coordinates of the geometries."""
    return int(shapely.get_num_coordinates(geoms).sum())


@pytest.fixture(scope="module")
def collections(geo_city: Hierarchy) -> dict[Level, dict[str, Any]]:
    """Build the default LOD of every level once."""
    return {lv: level_feature_collection(geo_city.at_level(lv)) for lv in Level}


@pytest.mark.parametrize("level", list(Level))
def test_one_feature_per_unit_with_properties(
    geo_city: Hierarchy, collections: dict[Level, dict[str, Any]], level: Level
) -> None:
    units = geo_city.at_level(level)
    fc = collections[level]
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == len(units)
    for unit, feature in zip(units, fc["features"], strict=True):
        assert feature["type"] == "Feature"
        assert feature["id"] == unit.code
        assert feature["properties"] == {
            "code": unit.code,
            "name": unit.name,
            "level": int(level),
            "parent": unit.parent_code,
            "households": unit.households,
        }
        assert type(feature["properties"]["level"]) is int


@pytest.mark.parametrize("level", list(Level))
def test_json_serialisable_round_trip(collections: dict[Level, dict[str, Any]], level: Level) -> None:
    fc = collections[level]
    text = json.dumps(fc, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == fc


@pytest.mark.parametrize("level", list(Level))
def test_simplified_level_is_still_a_valid_coverage(collections: dict[Level, dict[str, Any]], level: Level) -> None:
    shapes = shapes_of(collections[level])
    assert all(shapely.is_valid(shapes))
    assert shapely.coverage_is_valid(shapes)


@pytest.mark.parametrize("level", list(Level))
def test_vertex_count_reduced(geo_city: Hierarchy, collections: dict[Level, dict[str, Any]], level: Level) -> None:
    before = vertex_count([u.geometry for u in geo_city.at_level(level)])
    after = vertex_count(shapes_of(collections[level]))
    assert after < before


@pytest.mark.parametrize("level", list(Level))
def test_area_preserved_roughly(geo_city: Hierarchy, collections: dict[Level, dict[str, Any]], level: Level) -> None:
    original = shapely.area([u.geometry for u in geo_city.at_level(level)])
    simplified = shapely.area(shapes_of(collections[level]))
    assert np.abs(simplified - original).sum() < 0.02 * original.sum()


@pytest.mark.parametrize("level", list(Level))
def test_exteriors_counter_clockwise_and_rounded(collections: dict[Level, dict[str, Any]], level: Level) -> None:
    for shape in shapes_of(collections[level]):
        for polygon in shapely.get_parts(shape):
            assert polygon.exterior.is_ccw
            assert all(not ring.is_ccw for ring in polygon.interiors)
        coords = shapely.get_coordinates(shape) * 1e5
        assert np.abs(coords - np.round(coords)).max() < 1e-6


def test_coordinate_text_is_short(collections: dict[Level, dict[str, Any]]) -> None:
    ring = collections[Level.DISTRICT]["features"][0]["geometry"]["coordinates"][0]
    assert all(len(repr(v)) <= len("118.12345") for point in ring for v in point)


def test_default_tolerances() -> None:
    assert DEFAULT_TOLERANCE_M[Level.DISTRICT] == 120
    assert DEFAULT_TOLERANCE_M[Level.STREET] == 120
    assert DEFAULT_TOLERANCE_M[Level.COMMUNITY] == 40
    assert DEFAULT_TOLERANCE_M[Level.GRID] == 15


def test_larger_tolerance_drops_more_vertices(geo_city: Hierarchy) -> None:
    streets = geo_city.at_level(Level.STREET)
    fine = vertex_count(shapes_of(level_feature_collection(streets, tolerance_m=10)))
    coarse = vertex_count(shapes_of(level_feature_collection(streets, tolerance_m=500)))
    assert coarse < fine


def test_zero_tolerance_only_rounds(geo_city: Hierarchy) -> None:
    districts = geo_city.at_level(Level.DISTRICT)
    shapes = shapes_of(level_feature_collection(districts, tolerance_m=0, precision=1e-7))
    for unit, shape in zip(districts, shapes, strict=True):
        assert shapely.equals(unit.geometry, shape)


def test_one_districts_grids_keep_their_outline(geo_city: Hierarchy) -> None:
    district = geo_city.at_level(Level.DISTRICT)[0]
    grids = [geo_city.get(c) for c in geo_city.grids_under(district.code)]
    fc = level_feature_collection(grids, simplify_boundary=False)
    shapes = shapes_of(fc)
    assert len(shapes) == len(grids)
    assert shapely.coverage_is_valid(shapes)
    union = shapely.coverage_union_all(shapes)
    diff = shapely.area(shapely.symmetric_difference(union, district.geometry))
    assert diff < 1e-4 * shapely.area(district.geometry)


def test_empty_input_gives_empty_collection() -> None:
    assert level_feature_collection([]) == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"tolerance_m": -1.0}, "tolerance_m"), ({"precision": 0.0}, "precision")],
)
def test_bad_arguments_raise(geo_city: Hierarchy, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        level_feature_collection(geo_city.at_level(Level.DISTRICT), **kwargs)


def test_rounding_that_breaks_a_shape_falls_back_to_snap_rounding() -> None:
    # Rounding (5, 0.4) to (5, 0) would make the lower polygon touch itself.
    lower = shapely.Polygon([(0, 0), (10, 0), (10, 1), (5, 0.4), (0, 1)])
    upper = shapely.Polygon([(0, 1), (5, 0.4), (10, 1), (10, 2), (0, 2)])
    units = [
        Unit("990101001001001", "第1网格", Level.GRID, "990101001001", 600, lower),
        Unit("990101001001002", "第2网格", Level.GRID, "990101001001", 600, upper),
    ]
    fc = level_feature_collection(units, tolerance_m=0, precision=1.0)
    shapes = shapes_of(fc)
    assert all(shapely.is_valid(shapes))
    assert shapely.coverage_is_valid(shapes)
    assert fc["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert shapely.area(shapely.union_all(shapes)) == pytest.approx(20.0)
    json.dumps(fc)
