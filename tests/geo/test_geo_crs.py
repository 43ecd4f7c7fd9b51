"""Check the GCJ-02 and BD-09 conversions: exact inverses and the ~500 m shift at Nanjing."""

from __future__ import annotations

import numpy as np
import pytest

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84_transform,
    wgs84_to_gcj02,
)
from geo.measure import haversine_m

RNG = np.random.default_rng(3)
CHINA_LON = RNG.uniform(74.0, 134.0, 20_000)
CHINA_LAT = RNG.uniform(18.0, 53.0, 20_000)


def test_gcj02_round_trip_error_below_1e_6_degrees() -> None:
    lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(CHINA_LON, CHINA_LAT))
    assert np.max(np.abs(lon - CHINA_LON)) < 1e-6
    assert np.max(np.abs(lat - CHINA_LAT)) < 1e-6


def test_bd09_round_trip_error_below_1e_6_degrees() -> None:
    lon, lat = bd09_to_gcj02(*gcj02_to_bd09(CHINA_LON, CHINA_LAT))
    assert np.max(np.abs(lon - CHINA_LON)) < 1e-6
    assert np.max(np.abs(lat - CHINA_LAT)) < 1e-6
    lon, lat = bd09_to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(CHINA_LON, CHINA_LAT)))
    assert np.max(np.abs(lon - CHINA_LON)) < 1e-6


def test_nanjing_shift_is_about_500_m() -> None:
    lon, lat = 118.7969, 32.0603  # Drum Tower
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = float(haversine_m(lon, lat, glon, glat)[0])
    assert 400 < shift < 600
    assert float(glon) - lon == pytest.approx(0.0052, abs=5e-4)
    assert float(glat) - lat == pytest.approx(-0.0021, abs=5e-4)


def test_outside_china_is_unchanged() -> None:
    lon, lat = wgs84_to_gcj02([2.35, -74.0], [48.85, 40.7])
    assert lon.tolist() == [2.35, -74.0] and lat.tolist() == [48.85, 40.7]


def test_unknown_datum_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown datum"):
        to_wgs84_transform("tokyo")
