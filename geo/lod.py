"""Simplify units into GeoJSON levels of detail that the browser map can draw quickly."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.hierarchy import Level, Unit
from geo.snap_rounding import GeometryArray, snap_coverage

__all__ = ["DEFAULT_TOLERANCE_M", "METRES_PER_DEGREE", "level_feature_collection"]

METRES_PER_DEGREE = 111_000.0

DEFAULT_TOLERANCE_M: Mapping[Level, float] = MappingProxyType(
    {
        Level.CITY: 120.0,
        Level.DISTRICT: 120.0,
        Level.STREET: 120.0,
        Level.COMMUNITY: 40.0,
        Level.GRID: 15.0,
    }
)


def level_feature_collection(
    units: Sequence[Unit],
    tolerance_m: float | None = None,
    precision: float = 1e-5,
    *,
    simplify_boundary: bool = True,
) -> dict[str, Any]:
    """Return the units as a simplified GeoJSON FeatureCollection (RFC 7946).

    All outlines are simplified together with ``shapely.coverage_simplify`` so
    neighbours keep identical shared edges, then coordinates are rounded to
    ``precision`` degrees and exteriors oriented counter-clockwise.

    Parameters
    ----------
    units : sequence of Unit
        Normally one level, e.g. all streets or all grids of one district;
        they should form a coverage (no overlaps).
    tolerance_m : float, optional
        Simplification tolerance in metres (converted at 111,000 m per
        degree); defaults to `DEFAULT_TOLERANCE_M` of the finest level
        present. ``0`` keeps every vertex.
    precision : float, default 1e-5
        Coordinate grid in degrees (1e-5 is about 1 m).
    simplify_boundary : bool, default True
        Also simplify the outer boundary of the set. Pass False when the map
        loads adjacent sets separately (e.g. grids per district) so their
        borders still match.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "features": [...]}`` of plain,
        JSON-serialisable values; each feature has ``id`` = code and
        ``properties`` code, name, level (int), parent and households.

    Raises
    ------
    ValueError
        If ``tolerance_m`` is negative or ``precision`` is not positive.
    """
    if not precision > 0:
        raise ValueError(f"precision must be positive, got {precision}")
    if not units:
        return {"type": "FeatureCollection", "features": []}
    if tolerance_m is None:
        tolerance_m = DEFAULT_TOLERANCE_M[max(u.level for u in units)]
    if tolerance_m < 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    geoms = np.array([u.geometry for u in units], dtype=object)
    if tolerance_m > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance_m / METRES_PER_DEGREE, simplify_boundary=simplify_boundary)
    shapes = shapely.orient_polygons(_round_coverage(geoms, precision))
    geometries = _geometries_json(shapes)
    features = [
        {
            "type": "Feature",
            "id": unit.code,
            "properties": {
                "code": unit.code,
                "name": unit.name,
                "level": int(unit.level),
                "parent": unit.parent_code,
                "households": int(unit.households),
            },
            "geometry": geometry,
        }
        for unit, geometry in zip(units, geometries, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _round_coverage(geoms: GeometryArray, precision: float) -> GeometryArray:
    """Round vertices to the grid, re-noding the whole set only if that breaks a shape."""
    decimals = max(0, math.ceil(-math.log10(precision)))

    def snap(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Round each coordinate independently so shared vertices stay shared."""
        out: npt.NDArray[np.float64] = np.round(np.round(coords / precision) * precision, decimals)
        return out

    rounded: GeometryArray = shapely.remove_repeated_points(shapely.transform(geoms, snap))
    broken = ~np.asarray(shapely.is_valid(rounded), dtype=bool) | np.asarray(shapely.is_empty(rounded), dtype=bool)
    if not broken.any():
        return rounded
    try:
        snapped: GeometryArray = snap_coverage(geoms, precision)
    except ValueError:  # a unit narrower than the grid: repair shapes one by one
        rounded[broken] = shapely.make_valid(rounded[broken])
        return rounded
    return snapped


def _geometries_json(shapes: GeometryArray) -> list[dict[str, Any]]:
    """Encode polygonal geometries as GeoJSON geometries, extracting coordinates in bulk."""
    type_ids = np.asarray(shapely.get_type_id(shapes), dtype=np.intp)
    if not np.isin(type_ids, (3, 6)).all():
        raise ValueError("only Polygon and MultiPolygon units can be encoded")
    parts, part_owner = shapely.get_parts(shapes, return_index=True)
    rings, ring_owner = shapely.get_rings(parts, return_index=True)
    coords, coord_owner = shapely.get_coordinates(rings, return_index=True)
    cuts = np.flatnonzero(np.diff(coord_owner)) + 1
    ring_lists: list[list[list[float]]] = [c.tolist() for c in np.split(coords, cuts)]
    polygons: list[list[list[list[float]]]] = [[] for _ in range(len(parts))]
    for ring, owner in zip(ring_lists, ring_owner.tolist(), strict=True):
        polygons[owner].append(ring)
    grouped: list[list[list[list[list[float]]]]] = [[] for _ in range(len(shapes))]
    for polygon, owner in zip(polygons, part_owner.tolist(), strict=True):
        grouped[owner].append(polygon)
    return [
        {"type": "Polygon", "coordinates": polys[0]} if type_id == 3 else {"type": "MultiPolygon", "coordinates": polys}
        for polys, type_id in zip(grouped, type_ids.tolist(), strict=True)
    ]
