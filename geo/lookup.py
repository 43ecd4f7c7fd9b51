"""Find which grid a lon/lat point falls in, fast enough for bulk device data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.hierarchy import Level, Unit

__all__ = ["GridLocator"]


class GridLocator:
    """Place points on grids with an STRtree; shared edges and corners go to the lowest code.

    A point exactly on a boundary between grids belongs to the grid with the
    lowest code among those touching it, so every point inside the city maps
    to exactly one grid and the answer never depends on index order.

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

    __slots__ = ("_codes", "_tree")

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
        self._tree: Any = shapely.STRtree([u.geometry for u in ordered])

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
        return self.locate_many([lon], [lat])[0]

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
            points = shapely.points(x[finite], y[finite])
            hits = np.asarray(self._tree.query(points, predicate="intersects"), dtype=np.intp)
            np.minimum.at(best, finite[hits[0]], hits[1])
        codes = self._codes
        return [codes[i] if i < none else None for i in best.tolist()]
