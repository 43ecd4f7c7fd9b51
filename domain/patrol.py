"""Patrol check-ins (报点打卡): how far a phone is from a point, and which points a day covered.

Every check-in is stored; a point counts as checked on a local day once it has ``per_day``
check-ins that day (extra visits do not cover other points). Until the day is over, a point
not yet checked is *due*; after it, *missed*.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from pyproj import Geod

__all__ = [
    "Checkin",
    "PatrolPoint",
    "PointDay",
    "PointStatus",
    "day_bounds",
    "day_status",
    "distance_m",
    "local_day",
    "not_checked",
    "valid_lonlat",
]

_WGS84 = Geod(ellps="WGS84")


class PointStatus(enum.StrEnum):
    """A patrol point on one local day."""

    CHECKED = "checked"  # enough check-ins that day
    DUE = "due"  # today, not (yet) enough
    MISSED = "missed"  # a day that is over, not enough


@dataclass(frozen=True, slots=True)
class PatrolPoint:
    """A place in a grid its worker must check in at."""

    id: int
    grid_code: str
    name: str
    lon: float
    lat: float
    active: bool = True


@dataclass(frozen=True, slots=True)
class Checkin:
    """One stored check-in: who, where the phone was, how far from the point."""

    id: int
    point_id: int
    grid_code: str
    username: str
    ts: datetime
    lon: float
    lat: float
    distance_m: float
    note: str


@dataclass(frozen=True, slots=True)
class PointDay:
    """A point's check-ins on one day and what that makes it."""

    point: PatrolPoint
    checkins: int
    status: PointStatus


def valid_lonlat(lon: object, lat: object) -> bool:
    """Whether lon/lat are finite numbers on the globe.

    >>> valid_lonlat(118.8, 32.0), valid_lonlat(200, 0), valid_lonlat(float("nan"), 0), valid_lonlat(True, 0)
    (True, False, False, False)
    """
    for v in (lon, lat):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            return False
    assert isinstance(lon, int | float) and isinstance(lat, int | float)
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the distance in metres between two lon/lat points on the WGS84 ellipsoid.

    >>> round(distance_m(118.0, 32.0, 118.0, 32.001))  # a thousandth of a degree of latitude
    111
    >>> distance_m(118.0, 32.0, 118.0, 32.0)
    0.0
    """
    _, _, metres = _WGS84.inv(lon1, lat1, lon2, lat2)
    return float(metres)


def local_day(ts: datetime, utc_offset_min: int) -> date:
    """The city's local calendar day of a moment.

    >>> local_day(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), 480)  # 01:00 on the 23rd in UTC+8
    datetime.date(2026, 11, 23)
    """
    return ts.astimezone(timezone(timedelta(minutes=utc_offset_min))).date()


def day_bounds(day: date, utc_offset_min: int) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a local day, in UTC.

    >>> [t.isoformat() for t in day_bounds(date(2026, 11, 23), 480)]
    ['2026-11-22T16:00:00+00:00', '2026-11-23T16:00:00+00:00']
    """
    start = datetime.combine(day, time(0), timezone(timedelta(minutes=utc_offset_min))).astimezone(UTC)
    return start, start + timedelta(days=1)


def day_status(
    points: Iterable[PatrolPoint], counts: Mapping[int, int], *, per_day: int, day: date, today: date
) -> list[PointDay]:
    """Judge each point on a day from its number of check-ins that day (``counts`` by point id).

    >>> p = [PatrolPoint(1, "g", "a", 0, 0), PatrolPoint(2, "g", "b", 0, 0)]
    >>> [d.status.value for d in day_status(p, {1: 2}, per_day=1, day=date(2026, 1, 1), today=date(2026, 1, 1))]
    ['checked', 'due']
    >>> [d.status.value for d in day_status(p, {1: 2}, per_day=1, day=date(2026, 1, 1), today=date(2026, 1, 2))]
    ['checked', 'missed']
    """
    open_status = PointStatus.DUE if day >= today else PointStatus.MISSED
    out: list[PointDay] = []
    for point in points:
        n = counts.get(point.id, 0)
        out.append(PointDay(point, n, PointStatus.CHECKED if n >= per_day else open_status))
    return out


def not_checked(days: Sequence[PointDay]) -> list[PatrolPoint]:
    """The points of a day that were not checked (missed, or still due today)."""
    return [d.point for d in days if d.status is not PointStatus.CHECKED]
