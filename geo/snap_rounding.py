"""Snap a polygon coverage onto a coordinate grid so neighbours share identical vertices."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

__all__ = ["snap_coverage"]

GeometryArray = npt.NDArray[np.object_]


def snap_coverage(geoms: Any, grid_size: float) -> GeometryArray:
    """Return ``geoms`` snap-rounded together onto a grid, as a valid coverage.

    The boundaries of all polygons are noded at once with snap rounding, the
    resulting faces are polygonised and every face is given back to the input
    polygon that holds its interior point (or overlaps it most). Afterwards
    every vertex is a multiple of ``grid_size``, adjacent polygons share
    exactly the same vertices along common edges, and gaps or overlaps
    narrower than the grid disappear.

    Parameters
    ----------
    geoms : array_like of shapely.Polygon
        An (almost) valid coverage; tiny slivers from floating-point clipping
        are fine.
    grid_size : float
        Coordinate grid, e.g. ``1e-7`` degrees.

    Returns
    -------
    numpy.ndarray of shapely geometries
        Same length and order as ``geoms``.

    Raises
    ------
    ValueError
        If an input polygon receives no face (it is narrower than the grid).
    """
    src = np.asarray(geoms, dtype=object)
    if src.size == 0:
        return np.empty(0, dtype=object)
    lines = shapely.union_all(shapely.boundary(src), grid_size=grid_size)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))), dtype=object)
    owner = _face_owners(src, faces, grid_size)
    missing = np.setdiff1d(np.arange(src.size), owner)
    if missing.size:
        raise ValueError(f"polygons {missing.tolist()} vanished at grid size {grid_size}")
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(src.size + 1))
    out = np.empty(src.size, dtype=object)
    for i in range(src.size):
        mine = faces[order[starts[i] : starts[i + 1]]]
        out[i] = mine[0] if mine.size == 1 else shapely.coverage_union_all(mine)
    result: GeometryArray = shapely.orient_polygons(out)
    return result


def _face_owners(src: GeometryArray, faces: GeometryArray, grid_size: float) -> npt.NDArray[np.intp]:
    """Map each face to the source polygon it belongs to, robust to slivers; -1 for real holes.

    A face inside no source is a sliver left by floating-point clipping (given to the
    neighbour it overlaps or borders most) unless it is wider than a few grid cells:
    then it is a hole of the coverage (e.g. an enclave) and stays empty.
    """
    tree = shapely.STRtree(src)
    probes = shapely.point_on_surface(faces)
    hits = np.asarray(tree.query(probes, predicate="within"), dtype=np.intp)
    owner = np.full(faces.size, -1, dtype=np.intp)
    counts = np.bincount(hits[0], minlength=faces.size)
    single = counts[hits[0]] == 1
    owner[hits[0][single]] = hits[1][single]
    for f in np.flatnonzero(owner < 0).tolist():
        candidates = np.asarray(tree.query(faces[f]), dtype=np.intp)
        if candidates.size == 0:
            owner[f] = int(tree.query_nearest(faces[f])[0])
            continue
        overlap = shapely.area(shapely.intersection(src[candidates], faces[f]))
        width = 2.0 * shapely.area(faces[f]) / max(shapely.length(faces[f]), 1e-300)
        if not overlap.max() > 1e-6 * shapely.area(faces[f]) and width > 4 * grid_size:
            continue
        shared = shapely.length(shapely.intersection(src[candidates], faces[f].boundary))
        owner[f] = int(candidates[np.lexsort((shared, overlap))[-1]])
    return owner
