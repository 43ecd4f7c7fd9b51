"""Check point-to-grid lookup, including points on shared edges and corners."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import GridLocator, Hierarchy, Level, Unit, random_points_in

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


@pytest.fixture(scope="module")
def grids(geo_city: Hierarchy) -> tuple[Unit, ...]:
    """Return the grids of the small city."""
    return geo_city.at_level(Level.GRID)


@pytest.fixture(scope="module")
def locator(grids: tuple[Unit, ...]) -> GridLocator:
    """Index the small city's grids."""
    return GridLocator(grids)


def touching(grids: tuple[Unit, ...], x: float, y: float) -> list[str]:
    """Return, by brute force, the codes of all grids that touch or contain a point."""
    point = shapely.Point(x, y)
    return sorted(g.code for g in grids if shapely.intersects(g.geometry, point))


def shared_vertices(grids: tuple[Unit, ...], min_grids: int) -> list[tuple[float, float]]:
    """Return real coverage vertices used by at least ``min_grids`` grids, sorted."""
    counts: Counter[tuple[float, float]] = Counter()
    for g in grids:
        ring = shapely.get_coordinates(g.geometry)[:-1]
        counts.update({(float(x), float(y)) for x, y in ring.tolist()})
    return sorted(v for v, n in counts.items() if n >= min_grids)


def shared_edge_points(grids: tuple[Unit, ...]) -> list[tuple[float, float]]:
    """Return midpoints of shared edges that lie exactly on both neighbours."""
    seen: dict[tuple[tuple[float, float], tuple[float, float]], str] = {}
    found: list[tuple[float, float]] = []
    for g in grids:
        ring = [tuple(c) for c in shapely.get_coordinates(g.geometry).tolist()]
        for a, b in itertools.pairwise(ring):
            key = (min(a, b), max(a, b))
            if key in seen and seen[key] != g.code:
                mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                if len(touching(grids, *mid)) == 2:
                    found.append(mid)
                if len(found) >= 25:
                    return found
            seen[key] = g.code
    return found


def test_interior_point_maps_to_its_grid(grids: tuple[Unit, ...], locator: GridLocator) -> None:
    for g in grids[::7]:
        inside = shapely.point_on_surface(g.geometry)
        assert locator.locate(inside.x, inside.y) == g.code


def test_point_on_shared_edge_goes_to_lowest_code(grids: tuple[Unit, ...], locator: GridLocator) -> None:
    points = shared_edge_points(grids)
    assert len(points) >= 10
    shuffled = GridLocator(list(reversed(grids)))
    for x, y in points:
        owners = touching(grids, x, y)
        assert len(owners) == 2
        assert locator.locate(x, y) == owners[0]
        assert shuffled.locate(x, y) == owners[0]


@pytest.mark.parametrize("min_grids", [2, 3])
def test_point_on_shared_vertex_goes_to_lowest_code(
    grids: tuple[Unit, ...], locator: GridLocator, min_grids: int
) -> None:
    vertices = shared_vertices(grids, min_grids)
    assert len(vertices) > 50
    shuffled = GridLocator(list(reversed(grids)))
    for x, y in vertices[:: max(1, len(vertices) // 60)]:
        owners = touching(grids, x, y)
        assert len(owners) >= min_grids
        assert locator.locate(x, y) == owners[0]
        assert shuffled.locate(x, y) == owners[0]
        assert locator.locate_many([x, x], [y, y]) == [owners[0], owners[0]]


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(0.0, 0.0), (118.8, 40.0), (-118.8, 32.05), (180.0, 90.0)],
)
def test_outside_is_none(locator: GridLocator, lon: float, lat: float) -> None:
    assert locator.locate(lon, lat) is None


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (math.nan, 32.05),
        (118.8, math.nan),
        (math.inf, 32.05),
        (118.8, -math.inf),
        (math.nan, math.nan),
    ],
)
def test_non_finite_is_none(locator: GridLocator, lon: float, lat: float) -> None:
    assert locator.locate(lon, lat) is None
    assert locator.locate_many([lon, 118.8], [lat, 32.05])[0] is None


def test_locate_many_equals_locate(geo_city: Hierarchy, locator: GridLocator) -> None:
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = geo_city.bounds(geo_city.city.code)
    lons = rng.uniform(minx - 0.05, maxx + 0.05, 1000)
    lats = rng.uniform(miny - 0.05, maxy + 0.05, 1000)
    lons[::97] = np.nan
    bulk = locator.locate_many(lons, lats)
    assert bulk == [locator.locate(x, y) for x, y in zip(lons, lats, strict=True)]
    assert bulk == locator.locate_many(lons.tolist(), lats.tolist())
    assert None in bulk
    assert sum(c is not None for c in bulk) > 500


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.floats(118.0, 119.6) | NON_FINITE,
            st.floats(31.3, 32.8) | NON_FINITE,
        ),
        max_size=20,
    )
)
def test_locate_many_equals_locate_hypothesis(locator: GridLocator, points: list[tuple[float, float]]) -> None:
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    assert locator.locate_many(lons, lats) == [locator.locate(x, y) for x, y in points]


def test_every_point_inside_the_city_has_a_grid(geo_city: Hierarchy, locator: GridLocator) -> None:
    points = random_points_in(geo_city.city.geometry, 5000, np.random.default_rng(12))
    codes = locator.locate_many([p[0] for p in points], [p[1] for p in points])
    assert None not in codes
    for (x, y), code in list(zip(points, codes, strict=True))[:300]:
        assert code is not None
        assert geo_city.get(code).geometry.intersects(shapely.Point(x, y))


def test_city_vertices_map_to_a_grid(geo_city: Hierarchy, locator: GridLocator) -> None:
    xs, ys = shapely.get_coordinates(geo_city.city.geometry).T
    assert None not in locator.locate_many(xs, ys)


def test_empty_input(locator: GridLocator) -> None:
    assert locator.locate_many([], []) == []
    assert locator.locate_many(np.array([]), np.array([])) == []


def test_empty_locator() -> None:
    empty = GridLocator([])
    assert empty.locate(118.8, 32.05) is None
    assert empty.locate_many([118.8], [32.05]) == [None]


def test_mismatched_lengths_raise(locator: GridLocator) -> None:
    with pytest.raises(ValueError, match="differ"):
        locator.locate_many([1.0, 2.0], [1.0])


def test_only_grids_accepted(geo_city: Hierarchy) -> None:
    with pytest.raises(ValueError, match="not GRID"):
        GridLocator(geo_city.at_level(Level.COMMUNITY))


def test_duplicate_codes_rejected(grids: tuple[Unit, ...]) -> None:
    with pytest.raises(ValueError, match="unique"):
        GridLocator([grids[0], grids[0]])
