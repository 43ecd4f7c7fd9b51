"""Check uniform random point sampling inside polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import random_points_in

SQUARE = shapely.box(0.0, 0.0, 1.0, 1.0)
CANONICAL = {
    "square": SQUARE,
    "triangle": shapely.Polygon([(0, 0), (4, 0), (0, 3)]),
    "l-shape": shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)]),
    "with-hole": shapely.box(0, 0, 10, 10).difference(shapely.box(1, 1, 9, 9)),
    "multipolygon": shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(50, 50, 51, 51)]),
    "lonlat": shapely.box(118.7, 32.0, 118.9, 32.1),
}


@pytest.mark.parametrize("name", CANONICAL)
def test_points_strictly_inside(name: str) -> None:
    polygon = CANONICAL[name]
    points = random_points_in(polygon, 500, np.random.default_rng(1))
    assert len(points) == 500
    assert all(isinstance(x, float) and isinstance(y, float) for x, y in points)
    xs, ys = np.array(points).T
    assert shapely.contains_xy(polygon, xs, ys).all()


@pytest.mark.parametrize("name", CANONICAL)
def test_same_seed_same_points(name: str) -> None:
    polygon = CANONICAL[name]
    a = random_points_in(polygon, 50, np.random.default_rng(3))
    b = random_points_in(polygon, 50, np.random.default_rng(3))
    c = random_points_in(polygon, 50, np.random.default_rng(4))
    assert a == b
    assert a != c


def test_points_are_uniform() -> None:
    points = np.array(random_points_in(SQUARE, 4000, np.random.default_rng(5)))
    assert abs((points[:, 0] < 0.5).mean() - 0.5) < 0.04
    assert abs((points[:, 1] < 0.25).mean() - 0.25) < 0.04
    multi = CANONICAL["multipolygon"]
    far = np.array(random_points_in(multi, 2000, np.random.default_rng(6)))[:, 0] > 25
    assert abs(far.mean() - 0.5) < 0.05


def test_zero_points() -> None:
    assert random_points_in(SQUARE, 0, np.random.default_rng(0)) == []


@pytest.mark.parametrize(
    ("polygon", "n", "message"),
    [
        (SQUARE, -1, "n must be"),
        (shapely.Polygon(), 3, "empty"),
        (shapely.Polygon([(0, 0), (1, 1), (2, 2)]), 3, "zero-area"),
    ],
    ids=["negative", "empty", "degenerate"],
)
def test_bad_input_raises(polygon: shapely.Polygon, n: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        random_points_in(polygon, n, np.random.default_rng(0))


def test_random_points_in_each_fills_every_polygon_inside() -> None:
    import numpy as np
    import shapely

    from geo.sampling import random_points_in_each

    # A thin diagonal sliver fills ~2 % of its box: it exercises the per-polygon fallback.
    sliver = shapely.Polygon([(0, 0), (10, 10), (10, 10.2), (0, 0.2)])
    polys = [shapely.box(0, 0, 1, 1), sliver, shapely.box(3, 3, 3.5, 4).difference(shapely.box(3.1, 3.1, 3.4, 3.9))]
    pts = random_points_in_each(polys, 25, np.random.default_rng(3))
    assert [len(p) for p in pts] == [25, 25, 25]
    for poly, ps in zip(polys, pts, strict=True):
        assert all(poly.contains(shapely.Point(x, y)) for x, y in ps)
    again = random_points_in_each(polys, 25, np.random.default_rng(3))
    assert again == pts
