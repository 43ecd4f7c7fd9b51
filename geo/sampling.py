"""Draw random points inside polygons, e.g. to place demo devices on the map."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely  # type: ignore[import-untyped, unused-ignore]

__all__ = ["random_points_in", "random_points_in_each"]

_MAX_ROUNDS = 1000


def random_points_in(
    polygon: shapely.Polygon | shapely.MultiPolygon,
    n: int,
    rng: np.random.Generator,
) -> list[tuple[float, float]]:
    """Return ``n`` uniform random points strictly inside ``polygon``.

    Rejection sampling in the bounding box, one vectorised batch per round,
    so the result depends only on ``polygon``, ``n`` and the state of ``rng``.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        Area to sample, in any planar coordinates (lon/lat for units).
    n : int
        Number of points, ``>= 0``.
    rng : numpy.random.Generator
        Source of randomness; advanced in place.

    Returns
    -------
    list of (float, float)
        ``(x, y)`` tuples, i.e. ``(lon, lat)`` for WGS84 geometries.

    Raises
    ------
    ValueError
        If ``n`` is negative, or the polygon is empty or has no area.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    area: float = shapely.area(polygon)
    if shapely.is_empty(polygon) or not area > 0.0:
        raise ValueError("cannot sample points in an empty or zero-area polygon")
    minx, miny, maxx, maxy = (float(v) for v in shapely.bounds(polygon))
    fill = area / ((maxx - minx) * (maxy - miny))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    found = 0
    for _ in range(_MAX_ROUNDS):
        batch = math.ceil((n - found) / fill * 1.25) + 8
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = np.asarray(shapely.contains_xy(polygon, x, y), dtype=bool)
        xs.append(x[inside])
        ys.append(y[inside])
        found += int(inside.sum())
        if found >= n:
            break
    else:  # pragma: no cover - needs a pathological polygon
        raise ValueError("rejection sampling did not converge; polygon too thin")
    all_x = np.concatenate(xs)[:n]
    all_y = np.concatenate(ys)[:n]
    return list(zip(all_x.tolist(), all_y.tolist(), strict=True))


def random_points_in_each(
    polygons: Sequence[shapely.Polygon | shapely.MultiPolygon], n: int, rng: np.random.Generator
) -> list[list[tuple[float, float]]]:
    """Draw ``n`` uniform points strictly inside each polygon, all polygons in one vectorised pass.

    Candidates are drawn in every polygon's bounding box at once and kept by one
    ``contains_xy`` call; the rare polygon left short falls back to :func:`random_points_in`.

    Examples
    --------
    >>> squares = [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 7)]
    >>> pts = random_points_in_each(squares, 3, np.random.default_rng(1))
    >>> [len(p) for p in pts], all(squares[1].contains(shapely.Point(x, y)) for x, y in pts[1])
    ([3, 3], True)
    """
    if n <= 0 or not len(polygons):
        return [[] for _ in polygons]
    geoms = np.asarray(polygons, dtype=object)
    bounds = shapely.bounds(geoms)
    tries = 4 * n  # convex-ish cells fill most of their box; the fallback covers the rest
    index = np.repeat(np.arange(len(geoms)), tries)
    x = rng.uniform(bounds[index, 0], bounds[index, 2])
    y = rng.uniform(bounds[index, 1], bounds[index, 3])
    inside = np.asarray(shapely.contains_xy(geoms[index], x, y), dtype=bool)
    out: list[list[tuple[float, float]]] = [[] for _ in polygons]
    for i, xi, yi in zip(index[inside].tolist(), x[inside].tolist(), y[inside].tolist(), strict=True):
        if len(out[i]) < n:
            out[i].append((xi, yi))
    for i, pts in enumerate(out):
        if len(pts) < n:
            pts.extend(random_points_in(polygons[i], n - len(pts), rng))
    return out
