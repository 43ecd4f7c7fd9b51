"""Check validate and repair on canonical broken trees, and that repair leaves a clean tree."""

from __future__ import annotations

import shapely

from geo.coverage import repair, validate
from geo.hierarchy import Hierarchy, Level, Unit

D = 0.01  # about 1 km


def tree(a: shapely.Geometry, b: shapely.Geometry) -> list[Unit]:
    city = shapely.union_all(shapely.make_valid([a, b]))
    return [
        Unit("9901", "c", Level.CITY, None, 0, city),
        Unit("990101", "a", Level.DISTRICT, "9901", 0, a),
        Unit("990102", "b", Level.DISTRICT, "9901", 0, b),
    ]


def kinds(units: list[Unit]) -> list[str]:
    return sorted(f.kind for f in validate(units))


def test_overlap_is_found_and_resolved_to_the_lowest_code() -> None:
    units = tree(shapely.box(0, 0, 1.1 * D, D), shapely.box(D, 0, 2 * D, D))
    assert kinds(units) == ["overlap"]
    fixed, changes = repair(units)
    assert [c.kind for c in changes] == ["overlap_resolved"]
    assert validate(fixed) == []
    assert fixed[1].geometry.area > fixed[2].geometry.area  # the overlap went to 990101


def test_sliver_gap_is_filled_and_wide_hole_is_left() -> None:
    a = shapely.box(0, 0, D, 2 * D)
    b = shapely.Polygon(
        [
            (D, 0),
            (2 * D, 0),
            (2 * D, 2 * D),
            (D, 2 * D),
            (D, 1.9 * D),
            (1.0001 * D, 1.9 * D),
            (1.0001 * D, 0.1 * D),
            (D, 0.1 * D),
        ]
    )
    units = tree(a, b)
    assert "gap" in kinds(units)
    fixed, changes = repair(units, tolerance_m=5.0)
    assert [c.kind for c in changes] == ["gap_filled"]
    assert validate(fixed) == []
    ring = shapely.box(0, 0, 3 * D, 3 * D).difference(shapely.box(D, D, 2 * D, 2 * D))
    holed = [
        Unit("9901", "c", Level.CITY, None, 0, ring),
        Unit("990101", "a", Level.DISTRICT, "9901", 0, ring.intersection(shapely.box(0, 0, 1.5 * D, 3 * D))),
        Unit("990102", "b", Level.DISTRICT, "9901", 0, ring.intersection(shapely.box(1.5 * D, 0, 3 * D, 3 * D))),
    ]
    _, changes = repair(holed, tolerance_m=50.0)
    assert [c.kind for c in changes] == ["gap_left"]


def test_invalid_geometry_is_reported_and_fixed() -> None:
    bowtie = shapely.Polygon([(0, 0), (D, D), (D, 0), (0, D)])
    units = tree(bowtie, shapely.box(D, 0, 2 * D, D))
    assert "invalid" in kinds(units)
    fixed, changes = repair(units)
    assert "invalid_fixed" in [c.kind for c in changes]
    assert all(shapely.is_valid(u.geometry) for u in fixed)
    assert validate(fixed) == []


def test_children_outside_parent_are_trimmed_and_gaps_in_parent_filled() -> None:
    units = tree(shapely.box(0, 0, D, D), shapely.box(D, 0, 2 * D, D))
    units += [
        Unit("990101001", "s1", Level.STREET, "990101", 0, shapely.box(0, 0, 0.5 * D, 1.2 * D)),  # spills north
        Unit("990101002", "s2", Level.STREET, "990101", 0, shapely.box(0.5 * D, 0, 0.99 * D, D)),  # leaves a gap
        Unit("990102001", "s3", Level.STREET, "990102", 0, shapely.box(D, 0, 2 * D, D)),
    ]
    assert kinds(units) == ["gap", "outside_parent"]
    fixed, changes = repair(units)
    assert {c.kind for c in changes} == {"outside_trimmed", "gap_filled"}
    assert validate(fixed) == []
    Hierarchy(fixed)


def test_orphans_and_duplicates_are_reported() -> None:
    units = tree(shapely.box(0, 0, D, D), shapely.box(D, 0, 2 * D, D))
    units += [
        Unit("990109001", "lost", Level.STREET, "990109", 0, shapely.box(0, 0, D, D)),
        Unit("990101", "again", Level.DISTRICT, "9901", 0, shapely.box(0, 0, D, D)),
    ]
    found = kinds(units)
    assert "orphan" in found and "duplicate_code" in found


def test_findings_carry_area_and_location() -> None:
    units = tree(shapely.box(0, 0, 1.1 * D, D), shapely.box(D, 0, 2 * D, D))
    (finding,) = validate(units)
    assert 0 < finding.lon - D < 0.1 * D and 0 < finding.lat < D
    assert 100_000 < finding.area_m2 < 130_000
    assert "990101,990102" in str(finding)
