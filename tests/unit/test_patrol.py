"""Patrol rules: distances on the ellipsoid, local days, and which points a day covered."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.patrol import (
    PatrolPoint,
    PointStatus,
    day_bounds,
    day_status,
    distance_m,
    local_day,
    not_checked,
    valid_lonlat,
)

NANJING = (118.7969, 32.0603)


@pytest.mark.parametrize(
    ("dlon", "dlat", "metres"),
    [
        (0.0, 0.001, 110.9),  # a thousandth of a degree of latitude near 32° N
        (0.001, 0.0, 94.5),  # a thousandth of longitude is shorter by cos(32°)
        (0.0, 0.01, 1109.0),
    ],
)
def test_distance_matches_the_ellipsoid(dlon: float, dlat: float, metres: float) -> None:
    lon, lat = NANJING
    assert distance_m(lon, lat, lon + dlon, lat + dlat) == pytest.approx(metres, rel=2e-3)
    assert distance_m(lon + dlon, lat + dlat, lon, lat) == pytest.approx(metres, rel=2e-3)  # symmetric


def test_distance_between_two_cities() -> None:
    # Nanjing (Xinjiekou) to Shanghai (People's Square): about 270 km as the crow flies.
    assert distance_m(*NANJING, 121.4737, 31.2304) == pytest.approx(268_000, rel=0.02)


@pytest.mark.parametrize(
    ("lon", "lat", "ok"),
    [
        (118.8, 32.0, True),
        (-180, -90, True),
        (180.01, 0, False),
        (0, 91, False),
        (float("inf"), 0, False),
        ("118", 32, False),
        (None, 32, False),
        (False, 0, False),
    ],
)
def test_valid_lonlat(lon: object, lat: object, ok: bool) -> None:
    assert valid_lonlat(lon, lat) is ok


def test_local_days_follow_the_city_offset() -> None:
    # 23:59 UTC on the 22nd is 07:59 on the 23rd in UTC+8, but still the 22nd in UTC-5.
    ts = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)
    assert local_day(ts, 480) == date(2026, 11, 23)
    assert local_day(ts, -300) == date(2026, 11, 22)
    start, end = day_bounds(date(2026, 11, 23), 480)
    assert local_day(start, 480) == date(2026, 11, 23)
    assert local_day(end, 480) == date(2026, 11, 24)
    assert (end - start).total_seconds() == 86_400


POINTS = [PatrolPoint(i, "g1", f"p{i}", 118.0, 32.0) for i in (1, 2, 3)]


def test_a_day_is_judged_per_point_by_its_checkins() -> None:
    day = date(2026, 11, 23)
    today = day_status(POINTS, {1: 1, 3: 4}, per_day=1, day=day, today=day)
    assert [d.status for d in today] == [PointStatus.CHECKED, PointStatus.DUE, PointStatus.CHECKED]
    assert [d.checkins for d in today] == [1, 0, 4]
    past = day_status(POINTS, {1: 1}, per_day=1, day=day, today=date(2026, 11, 24))
    assert [d.status for d in past] == [PointStatus.CHECKED, PointStatus.MISSED, PointStatus.MISSED]
    assert [p.id for p in not_checked(past)] == [2, 3]


def test_two_visits_a_day_are_needed_when_the_policy_says_so() -> None:
    day = date(2026, 11, 23)
    judged = day_status(POINTS, {1: 1, 2: 2}, per_day=2, day=day, today=date(2026, 12, 1))
    assert [d.status for d in judged] == [PointStatus.MISSED, PointStatus.CHECKED, PointStatus.MISSED]
    assert day_status(POINTS, {}, per_day=0, day=day, today=day)[0].status is PointStatus.CHECKED
