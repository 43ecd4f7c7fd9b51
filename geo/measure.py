"""Measure lon/lat geometry in metres through a local equal-area projection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import shapely  # type: ignore[import-untyped, unused-ignore]

__all__ = ["LocalProjection", "haversine_m"]

FloatArray = npt.NDArray[np.float64]
EARTH_RADIUS_M = 6_371_008.8


class LocalProjection:
    """Project lon/lat to metres and back with a Lambert azimuthal equal-area centred on a place.

    Areas are exact (equal-area) and distances are within 0.1 % over a city of 100 km.

    Examples
    --------
    >>> proj = LocalProjection(118.8, 32.0)
    >>> box = shapely.box(118.8, 32.0, 118.81, 32.01)
    >>> round(float(proj.area_m2(box)[0]) / 1e6, 3)
    1.048
    """

    __slots__ = ("_back", "_fwd", "lat", "lon")

    def __init__(self, lon: float, lat: float) -> None:
        """Build both transformers once; pyproj transforms are the costly part to create."""
        self.lon = float(lon)
        self.lat = float(lat)
        laea = pyproj.CRS.from_proj4(f"+proj=laea +lat_0={self.lat} +lon_0={self.lon} +ellps=WGS84 +units=m")
        wgs84 = pyproj.CRS.from_epsg(4326)
        self._fwd = pyproj.Transformer.from_crs(wgs84, laea, always_xy=True)
        self._back = pyproj.Transformer.from_crs(laea, wgs84, always_xy=True)

    @classmethod
    def around(cls, geoms: Any) -> LocalProjection:
        """Return the projection centred on the bounding box of ``geoms``."""
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        return cls((minx + maxx) / 2.0, (miny + maxy) / 2.0)

    def _apply(self, transformer: pyproj.Transformer) -> Callable[[FloatArray], FloatArray]:
        def convert(coords: FloatArray) -> FloatArray:
            """Transform an (n, 2) coordinate array."""
            x, y = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return convert

    def to_metres(self, geoms: Any) -> Any:
        """Return ``geoms`` in projected metres."""
        return shapely.transform(geoms, self._apply(self._fwd))

    def to_lonlat(self, geoms: Any) -> Any:
        """Return projected ``geoms`` back in lon/lat."""
        return shapely.transform(geoms, self._apply(self._back))

    def area_m2(self, geoms: Any) -> FloatArray:
        """Return the area of each lon/lat geometry in square metres."""
        out: FloatArray = np.atleast_1d(np.asarray(shapely.area(self.to_metres(geoms)), dtype=np.float64))
        return out

    def length_m(self, geoms: Any) -> FloatArray:
        """Return the length (perimeter for polygons) of each lon/lat geometry in metres."""
        out: FloatArray = np.atleast_1d(np.asarray(shapely.length(self.to_metres(geoms)), dtype=np.float64))
        return out


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> FloatArray:
    """Return great-circle distances in metres on the mean Earth sphere.

    Examples
    --------
    >>> round(float(haversine_m(118.0, 32.0, 118.0, 33.0)[0]))
    111195
    """
    p1, p2 = np.radians(np.asarray(lat1, dtype=np.float64)), np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    out: FloatArray = np.atleast_1d(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))
    return out
