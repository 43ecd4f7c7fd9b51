"""Convert between WGS84 and the obfuscated Chinese datums GCJ-02 and BD-09.

The forward formulas (WGS84 -> GCJ-02 -> BD-09) are the publicly documented ones used
by every open implementation (Krasovsky ellipsoid constants, the ``out of China``
bounding box). There is no closed-form inverse, so the inverses solve
``forward(w) == target`` by fixed-point iteration until the residual is below
1e-12 degrees; the round trip is exact to far better than a millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "to_wgs84_transform",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]
Pair = tuple[FloatArray, FloatArray]

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_MAX_ITERATIONS = 30
_RESIDUAL_DEG = 1e-12

DATUMS = ("wgs84", "gcj02", "bd09")


def _arrays(lon: Any, lat: Any) -> Pair:
    """Return float64 copies of the inputs broadcast to one shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.astype(np.float64, copy=True), y.astype(np.float64, copy=True)


def _in_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    """Tell which points the GCJ-02 offset applies to (the published rough box)."""
    result: npt.NDArray[np.bool_] = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return result


def _offset(lon: FloatArray, lat: FloatArray) -> Pair:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 points."""
    x = lon - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: Any, lat: Any) -> Pair:
    """Shift WGS84 lon/lat to GCJ-02 (points outside China are returned unchanged).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(118.7969, 32.0603)
    >>> round(float(lon - 118.7969), 4), round(float(lat - 32.0603), 4)
    (0.0052, -0.0021)
    """
    x, y = _arrays(lon, lat)
    dlon, dlat = _offset(x, y)
    return x + dlon, y + dlat


def gcj02_to_bd09(lon: Any, lat: Any) -> Pair:
    """Shift GCJ-02 lon/lat to Baidu's BD-09.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(118.8021, 32.0582)
    >>> round(float(lon - 118.8021), 3), round(float(lat - 32.0582), 3)
    (0.006, 0.006)
    """
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward: Callable[[Any, Any], Pair], lon: Any, lat: Any) -> Pair:
    """Solve ``forward(w) == (lon, lat)`` for w by fixed-point iteration."""
    tx, ty = _arrays(lon, lat)
    wx, wy = tx.copy(), ty.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(wx, wy)
        rx, ry = fx - tx, fy - ty
        wx -= rx
        wy -= ry
        finite = np.isfinite(rx) & np.isfinite(ry)
        if not finite.any() or float(np.max(np.abs(np.concatenate([rx[finite], ry[finite]])))) < _RESIDUAL_DEG:
            break
    return wx, wy


def gcj02_to_wgs84(lon: Any, lat: Any) -> Pair:
    """Shift GCJ-02 lon/lat back to WGS84 (the exact inverse of `wgs84_to_gcj02`).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(118.7969, 32.0603))
    >>> abs(float(lon) - 118.7969) < 1e-9 and abs(float(lat) - 32.0603) < 1e-9
    True
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: Any, lat: Any) -> Pair:
    """Shift BD-09 lon/lat back to GCJ-02 (the exact inverse of `gcj02_to_bd09`).

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(118.8021, 32.0582))
    >>> abs(float(lon) - 118.8021) < 1e-9 and abs(float(lat) - 32.0582) < 1e-9
    True
    """
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: Any, lat: Any) -> Pair:
    """Shift BD-09 lon/lat to WGS84 through GCJ-02.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(118.7969, 32.0603)))
    >>> abs(float(lon) - 118.7969) < 1e-9 and abs(float(lat) - 32.0603) < 1e-9
    True
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84_transform(datum: str) -> Callable[[FloatArray], FloatArray]:
    """Return a ``shapely.transform`` callback that converts ``datum`` coordinates to WGS84.

    Parameters
    ----------
    datum : {"wgs84", "gcj02", "bd09"}
        The datum the coordinates are in.

    Raises
    ------
    ValueError
        For any other datum name.

    Examples
    --------
    >>> import shapely
    >>> shapely.transform(shapely.Point(118.8021, 32.0582), to_wgs84_transform("gcj02")).x < 118.8021
    True
    """
    name = datum.lower().replace("-", "").replace("_", "")
    if name not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    inverse = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}[name]

    def convert(coords: FloatArray) -> FloatArray:
        """Convert an (n, 2) array of lon/lat."""
        if inverse is None:
            return coords
        lon, lat = inverse(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return convert
