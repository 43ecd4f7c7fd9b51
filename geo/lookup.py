"""Find which grid a lon/lat point falls in, fast enough for bulk device data."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.hierarchy import Hierarchy, Level, Unit
from geo.measure import haversine_m
from geo.spatial_index import CellIndex

__all__ = ["DEFAULT_NEAR_M", "GridLocator", "PlacementStatus", "Placements"]

DEFAULT_NEAR_M = 50.0
_METRES_PER_DEGREE_LAT = 111_195.0


class PlacementStatus(enum.IntEnum):
    """Say how a point was placed: inside a grid, snapped to a nearby one, outside, or not a number."""

    INSIDE = 0
    NEAR = 1
    OUTSIDE = 2
    INVALID = 3


@dataclass(frozen=True, slots=True)
class Placements:
    """Hold where each of N points fell: status, grid code and the code of every ancestor level.

    ``codes[level][i]`` is None exactly when ``status[i]`` is OUTSIDE or INVALID.
    """

    status: npt.NDArray[np.int8]
    codes: dict[Level, list[str | None]]
    distance_m: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Count the points."""
        return int(self.status.size)

    @property
    def grids(self) -> list[str | None]:
        """Return the grid code of each point."""
        return self.codes[Level.GRID]


class GridLocator:
    """Place points on grids with an STRtree; shared edges and corners go to the lowest code.

    A point exactly on a boundary between grids belongs to the grid with the
    lowest code among those touching it, so every point inside the city maps
    to exactly one grid and the answer never depends on index order.

    Lookups go through a `geo.spatial_index.CellIndex` (a coarse raster in
    front of exact tests on prepared geometries); the STRtree stays for the
    nearest-grid search of `place`.

    Examples
    --------
    >>> import shapely
    >>> from geo.hierarchy import Level, Unit
    >>> west = Unit("990101001001001", "第1网格", Level.GRID, "990101001001", 600,
    ...             shapely.box(118.0, 32.0, 118.1, 32.1))
    >>> east = Unit("990101001001002", "第2网格", Level.GRID, "990101001001", 600,
    ...             shapely.box(118.1, 32.0, 118.2, 32.1))
    >>> locator = GridLocator([east, west])
    >>> locator.locate(118.15, 32.05)
    '990101001001002'
    >>> locator.locate(118.1, 32.05)  # on the shared edge: lowest code wins
    '990101001001001'
    >>> locator.locate(120.0, 30.0) is None
    True
    >>> locator.locate_many([118.05, float("nan")], [32.05, 32.05])
    ['990101001001001', None]
    """

    __slots__ = ("_ancestors", "_codes", "_geoms", "_index", "_tree")

    def __init__(self, grids: Sequence[Unit]) -> None:
        """Index the grid outlines, sorted by code so the lowest tree index wins ties.

        Raises
        ------
        ValueError
            If a unit is not at GRID level or a code repeats.
        """
        ordered = sorted(grids, key=lambda u: u.code)
        for unit in ordered:
            if unit.level is not Level.GRID:
                raise ValueError(f"unit {unit.code!r} is {unit.level.name}, not GRID")
        codes = [u.code for u in ordered]
        if len(set(codes)) != len(codes):
            raise ValueError("grid codes must be unique")
        self._codes: tuple[str, ...] = tuple(codes)
        self._geoms = np.array([u.geometry for u in ordered], dtype=object)
        self._tree: Any = shapely.STRtree(self._geoms)
        self._index = CellIndex(self._geoms if self._geoms.size else [shapely.box(0, 0, 1, 1)])
        self._ancestors: dict[Level, list[str | None]] = {}

    @classmethod
    def for_hierarchy(cls, hierarchy: Hierarchy) -> GridLocator:
        """Index the grids of ``hierarchy`` and remember their ancestors for `place`."""
        locator = cls(hierarchy.at_level(Level.GRID))
        for level in (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY):
            column: list[str | None] = []
            for code in locator._codes:
                ups = [a for a in hierarchy.ancestors(code) if hierarchy.get(a).level is level]
                column.append(ups[0] if ups else None)
            locator._ancestors[level] = column
        return locator

    def locate(self, lon: float, lat: float) -> str | None:
        """Return the grid code at ``(lon, lat)``.

        Parameters
        ----------
        lon, lat : float
            WGS84 degrees.

        Returns
        -------
        str or None
            The grid code, or None outside every grid or for NaN/inf input.
        """
        x, y = float(lon), float(lat)
        if not (math.isfinite(x) and math.isfinite(y)) or not self._codes:
            return None
        found = self._index.query_one(x, y)
        return self._codes[found] if found >= 0 else None

    def locate_many(
        self,
        lons: Sequence[float] | npt.NDArray[Any],
        lats: Sequence[float] | npt.NDArray[Any],
    ) -> list[str | None]:
        """Return the grid code for each point, with one bulk tree query.

        Parameters
        ----------
        lons, lats : sequence of float or numpy.ndarray
            WGS84 degrees, same length.

        Returns
        -------
        list of (str or None)
            One entry per point, None where the point is outside every grid
            or not finite.

        Raises
        ------
        ValueError
            If ``lons`` and ``lats`` differ in shape.
        """
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"lons and lats differ in length: {x.size} != {y.size}")
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        none = len(self._codes)
        best = np.full(x.size, none, dtype=np.intp)
        if finite.size and none:
            found = self._index.query(x[finite], y[finite])
            best[finite] = np.where(found >= 0, found, none)
        codes = self._codes
        return [codes[i] if i < none else None for i in best.tolist()]

    def place(
        self,
        lons: Sequence[float] | npt.NDArray[Any],
        lats: Sequence[float] | npt.NDArray[Any],
        near_m: float = DEFAULT_NEAR_M,
    ) -> Placements:
        """Place each point on one grid and all its ancestors, with an explicit outside result.

        A point inside the city goes to its grid by the rule of `locate_many`
        (lowest code on shared edges). A point outside every grid but within
        ``near_m`` metres (great-circle) of one goes to the nearest grid, status
        NEAR (ties: lowest code). Farther points are OUTSIDE; NaN/inf are INVALID.
        Ancestor codes need a locator built with `for_hierarchy`.

        Parameters
        ----------
        lons, lats : sequence of float or numpy.ndarray
            WGS84 degrees, same length.
        near_m : float, default 50
            Snapping distance for points just outside the city.

        Returns
        -------
        Placements

        Examples
        --------
        >>> import shapely
        >>> from geo.hierarchy import Hierarchy, Level, Unit
        >>> box = shapely.box(118.0, 32.0, 118.1, 32.1)
        >>> tree = Hierarchy([Unit("9901", "c", Level.CITY, None, 0, box),
        ...                   Unit("990101", "d", Level.DISTRICT, "9901", 0, box),
        ...                   Unit("990101001", "s", Level.STREET, "990101", 0, box),
        ...                   Unit("990101001001", "m", Level.COMMUNITY, "990101001", 0, box),
        ...                   Unit("990101001001001", "g", Level.GRID, "990101001001", 0, box)])
        >>> got = GridLocator.for_hierarchy(tree).place([118.05, 118.1003, 118.2], [32.05, 32.05, 32.05])
        >>> [PlacementStatus(s).name for s in got.status], got.codes[Level.DISTRICT]
        (['INSIDE', 'NEAR', 'OUTSIDE'], ['990101', '990101', None])
        """
        if near_m < 0:
            raise ValueError(f"near_m must be >= 0, got {near_m}")
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError(f"lons and lats differ in length: {x.size} != {y.size}")
        status = np.full(x.size, PlacementStatus.OUTSIDE, dtype=np.int8)
        grid = np.full(x.size, -1, dtype=np.intp)
        distance = np.zeros(x.size, dtype=np.float64)
        finite = np.isfinite(x) & np.isfinite(y)
        status[~finite] = PlacementStatus.INVALID
        distance[~finite] = np.nan
        idx = np.flatnonzero(finite)
        if idx.size and self._codes:
            found = self._index.query(x[idx], y[idx])
            grid[idx] = found
            status[idx[found >= 0]] = PlacementStatus.INSIDE
            out = idx[found < 0]
            if out.size and near_m > 0:
                self._snap(x, y, out, near_m, grid, status, distance)
            distance[status == PlacementStatus.OUTSIDE] = np.inf
        codes: dict[Level, list[str | None]] = {}
        picked = grid.tolist()
        codes[Level.GRID] = [self._codes[g] if g >= 0 else None for g in picked]
        for level, column in self._ancestors.items():
            codes[level] = [column[g] if g >= 0 else None for g in picked]
        return Placements(status, codes, distance)

    def _snap(
        self,
        x: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        out: npt.NDArray[np.intp],
        near_m: float,
        grid: npt.NDArray[np.intp],
        status: npt.NDArray[np.int8],
        distance: npt.NDArray[np.float64],
    ) -> None:
        """Snap outside points within ``near_m`` to their nearest grid."""
        # A degree search radius that is never shorter than near_m at these latitudes.
        cos_lat = np.cos(np.radians(np.clip(np.abs(y[out]).max(), 0.0, 89.0)))
        radius = near_m / (_METRES_PER_DEGREE_LAT * cos_lat) * 1.01
        points = shapely.points(x[out], y[out])
        hits = np.asarray(self._tree.query(points, predicate="dwithin", distance=radius), dtype=np.intp)
        if hits.shape[1] == 0:
            return
        which, cand = hits
        nearest = shapely.get_coordinates(shapely.shortest_line(self._geoms[cand], points[which]))[0::2]
        metres = haversine_m(x[out][which], y[out][which], nearest[:, 0], nearest[:, 1])
        order = np.lexsort((cand, metres, which))
        first = order[np.unique(which[order], return_index=True)[1]]
        ok = metres[first] <= near_m
        target = out[which[first][ok]]
        grid[target] = cand[first][ok]
        status[target] = PlacementStatus.NEAR
        distance[target] = metres[first][ok]
