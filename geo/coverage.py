"""Check and repair a unit tree so every level is a seamless coverage nested in its parents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.errors import GeoRepairError
from geo.hierarchy import Level, Unit
from geo.measure import LocalProjection
from geo.snap_rounding import GeometryArray

__all__ = ["DEFAULT_TOLERANCE_M", "GRID_SIZE_DEG", "Change", "Finding", "dissolve_upwards", "repair", "validate"]

GRID_SIZE_DEG = 1e-7
DEFAULT_TOLERANCE_M = 50.0
MIN_AREA_M2 = 1.0
_POLYGONAL = (3, 6)


@dataclass(frozen=True, slots=True)
class Finding:
    """Describe one problem `validate` found: what, which units, how big and where."""

    kind: str  # invalid | duplicate_code | orphan | overlap | gap | outside_parent | wrong_level
    level: Level
    codes: tuple[str, ...]
    area_m2: float
    lon: float
    lat: float
    detail: str = ""

    def __str__(self) -> str:
        """Format as one line for the command output."""
        where = f"at {self.lon:.6f},{self.lat:.6f}" if np.isfinite(self.lon) else ""
        codes = ",".join(self.codes)
        return (
            f"{self.kind:<15} {self.level.name.lower():<9} {codes:<32} {self.area_m2:>14,.1f} m² {where} {self.detail}"
        )


@dataclass(frozen=True, slots=True)
class Change:
    """Describe one change `repair` made: what, to which units, how much area and where."""

    kind: str  # invalid_fixed | overlap_resolved | gap_filled | outside_trimmed | gap_left
    level: Level
    codes: tuple[str, ...]  # the unit that received or lost the area first
    area_m2: float
    lon: float
    lat: float

    def __str__(self) -> str:
        """Format as one line for the command output."""
        return (
            f"{self.kind:<16} {self.level.name.lower():<9} {','.join(self.codes):<32} "
            f"{self.area_m2:>14,.1f} m² at {self.lon:.6f},{self.lat:.6f}"
        )


def _where(geom: Any) -> tuple[float, float]:
    """Return a point inside (or on) ``geom`` to say where a problem is."""
    if geom is None or shapely.is_empty(geom):
        return float("nan"), float("nan")
    p = shapely.point_on_surface(geom)
    return float(shapely.get_x(p)), float(shapely.get_y(p))


def _polygonal(geom: Any) -> Any:
    """Return the polygonal part of ``geom`` (an empty Polygon when there is none)."""
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGONAL]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def _pieces(geom: Any) -> list[Any]:
    """Return the polygons of a geometry, skipping empty and non-polygonal parts."""
    return [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3 and not shapely.is_empty(p)]


def validate(units: Sequence[Unit], min_area_m2: float = MIN_AREA_M2) -> list[Finding]:
    """Report everything that keeps the tree from being seamless and properly nested.

    Checks, level by level: invalid geometries, duplicate codes, orphans (a
    missing parent or a parent of the wrong level), overlaps between
    siblings-or-cousins of one level, gaps (parts of a parent no child covers,
    and holes enclosed by the districts), and children reaching outside their
    parent. Areas are in square metres (local equal-area projection); pieces
    under ``min_area_m2`` are ignored as rounding noise.

    Parameters
    ----------
    units : sequence of Unit
        The whole tree.
    min_area_m2 : float, default 1.0
        Smallest overlap, gap or spill reported.

    Returns
    -------
    list of Finding
        Empty when the tree is clean.

    Examples
    --------
    >>> city = Unit("9901", "c", Level.CITY, None, 0, shapely.box(0, 0, 0.02, 0.01))
    >>> a = Unit("990101", "a", Level.DISTRICT, "9901", 0, shapely.box(0, 0, 0.011, 0.01))
    >>> b = Unit("990102", "b", Level.DISTRICT, "9901", 0, shapely.box(0.01, 0, 0.02, 0.01))
    >>> [(f.kind, f.codes, round(f.area_m2, -3)) for f in validate([city, a, b])]
    [('overlap', ('990101', '990102'), 123000.0)]
    """
    findings: list[Finding] = []
    if not units:
        return findings
    proj = LocalProjection.around([u.geometry for u in units])
    by_code: dict[str, Unit] = {}
    for unit in units:
        if unit.code in by_code:
            findings.append(Finding("duplicate_code", unit.level, (unit.code,), 0.0, *_where(unit.geometry)))
        else:
            by_code[unit.code] = unit
    for unit in by_code.values():
        if unit.level is Level.CITY:
            continue
        parent = by_code.get(unit.parent_code or "")
        if parent is None:
            findings.append(
                Finding("orphan", unit.level, (unit.code,), 0.0, *_where(unit.geometry), f"parent {unit.parent_code}")
            )
        elif parent.level != unit.level - 1:
            findings.append(
                Finding("wrong_level", unit.level, (unit.code,), 0.0, *_where(unit.geometry), f"parent {parent.code}")
            )
    for level in (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID):
        members = sorted((u for u in by_code.values() if u.level is level), key=lambda u: u.code)
        if members:
            findings.extend(_validate_level(members, by_code, level, proj, min_area_m2))
    return findings


def _validate_level(
    members: list[Unit], by_code: dict[str, Unit], level: Level, proj: LocalProjection, min_area_m2: float
) -> list[Finding]:
    """Check one level: validity, overlaps, gaps in each parent, spills out of parents."""
    out: list[Finding] = []
    geoms = np.array([u.geometry for u in members], dtype=object)
    valid = np.asarray(shapely.is_valid(geoms), dtype=bool)
    for i in np.flatnonzero(~valid).tolist():
        reason = shapely.is_valid_reason(geoms[i])
        out.append(Finding("invalid", level, (members[i].code,), 0.0, *_where(geoms[i]), reason))
    fixed = np.array([_polygonal(g) for g in shapely.make_valid(geoms)], dtype=object)
    tree = shapely.STRtree(fixed)
    left, right = np.asarray(tree.query(fixed, predicate="intersects"), dtype=np.intp)
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size:
        inner = np.asarray(shapely.relate_pattern(fixed[left], fixed[right], "T********"), dtype=bool)
        left, right = left[inner], right[inner]
        shared = shapely.intersection(fixed[left], fixed[right])
        areas = proj.area_m2(shared) if left.size else np.zeros(0)
        for a, b, geom, area in zip(left.tolist(), right.tolist(), shared, areas.tolist(), strict=True):
            if area >= min_area_m2:
                out.append(Finding("overlap", level, (members[a].code, members[b].code), area, *_where(geom)))
    children: dict[str, list[int]] = defaultdict(list)
    for i, unit in enumerate(members):
        if unit.parent_code in by_code:
            children[unit.parent_code].append(i)
    parents_at = [u for u in by_code.values() if u.level == level - 1]
    for parent in sorted(parents_at, key=lambda u: u.code):
        frame = _polygonal(shapely.make_valid(parent.geometry))
        if parent.level is Level.CITY:  # holes inside the city are gaps between districts too
            frame = shapely.union_all([shapely.Polygon(shapely.get_exterior_ring(p)) for p in _pieces(frame)])
        idx = children.get(parent.code, [])
        covered = shapely.union_all(fixed[idx]) if idx else shapely.Polygon()
        gap = shapely.difference(frame, covered)
        pieces = _pieces(gap)
        if pieces:
            areas = proj.area_m2(np.array(pieces, dtype=object))
            for piece, area in zip(pieces, areas.tolist(), strict=True):
                if area >= min_area_m2:
                    out.append(Finding("gap", level, (parent.code,), area, *_where(piece), "not covered by any child"))
        if idx:
            spills = shapely.difference(fixed[idx], frame)
            areas = proj.area_m2(spills)
            for i, spill, area in zip(idx, spills, areas.tolist(), strict=True):
                if area >= min_area_m2:
                    out.append(
                        Finding(
                            "outside_parent", level, (members[i].code,), area, *_where(spill), f"parent {parent.code}"
                        )
                    )
    return out


def repair(
    units: Sequence[Unit], tolerance_m: float = DEFAULT_TOLERANCE_M, grid_size: float = GRID_SIZE_DEG
) -> tuple[list[Unit], list[Change]]:
    """Make every level a seamless coverage nested exactly in its parents, and say what changed.

    Level by level from the districts down, all outlines of the level (and of
    the level above) are noded together with snap rounding on a ``grid_size``
    grid and polygonised into faces. Each face then goes to exactly one unit:

    * a face inside one unit stays with it;
    * a face inside several (an overlap) goes to the lowest code among them;
    * a face inside none but enclosed (a gap) goes to the neighbour sharing the
      longest edge with it, among the children of the parent the face lies in;
      between districts (no parent outline to follow) only gaps at most
      ``tolerance_m`` wide (2 x area / perimeter) are filled, wider holes are
      left and reported as ``gap_left``;
    * a face outside a unit's parent is trimmed from it.

    Finally every parent is rebuilt as the union of its children, so the
    levels nest exactly; the city is the union of its districts.

    Parameters
    ----------
    units : sequence of Unit
        The whole tree (it must pass the orphan and duplicate checks).
    tolerance_m : float, default 50
        Widest gap between districts that is filled.
    grid_size : float, default 1e-7
        Snap-rounding grid in degrees (about 1 cm).

    Returns
    -------
    (list of Unit, list of Change)
        The repaired tree (same codes, names and households) and the changes.

    Raises
    ------
    GeoRepairError
        If a unit has no parent in the tree, or a parent has no children on a
        level where others do (the missing children must be imported or generated).

    Examples
    --------
    >>> city = Unit("9901", "c", Level.CITY, None, 0, shapely.box(0, 0, 0.02, 0.01))
    >>> a = Unit("990101", "a", Level.DISTRICT, "9901", 0, shapely.box(0, 0, 0.011, 0.01))
    >>> b = Unit("990102", "b", Level.DISTRICT, "9901", 0, shapely.box(0.01, 0, 0.02, 0.01))
    >>> fixed, changes = repair([city, a, b])
    >>> [(c.kind, c.codes) for c in changes], validate(fixed)
    ([('overlap_resolved', ('990101', '990102'))], [])
    """
    if tolerance_m < 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    by_code = {u.code: u for u in units}
    proj = LocalProjection.around([u.geometry for u in units])
    changes: list[Change] = []
    geometry: dict[str, Any] = {}
    levels = sorted({u.level for u in units if u.level is not Level.CITY})
    for level in levels:
        members = sorted((u for u in units if u.level is level), key=lambda u: u.code)
        for unit in members:
            if by_code.get(unit.parent_code or "") is None:
                raise GeoRepairError(f"unit {unit.code!r} has no parent {unit.parent_code!r} in the tree")
        parents = sorted((u for u in units if u.level == level - 1), key=lambda u: u.code)
        raw = np.array([u.geometry for u in members], dtype=object)
        valid = np.asarray(shapely.is_valid(raw), dtype=bool)
        for i in np.flatnonzero(~valid).tolist():
            changes.append(Change("invalid_fixed", level, (members[i].code,), 0.0, *_where(raw[i])))
        geoms = np.array([_polygonal(g) for g in shapely.make_valid(raw)], dtype=object)
        if level is Level.DISTRICT:
            frames = None
        else:
            with_children = {u.parent_code for u in members}
            empty = [p.code for p in parents if p.code not in with_children]
            if empty:
                raise GeoRepairError(
                    f"{len(empty)} {Level(level - 1).name.lower()}(s) have no {level.name.lower()} "
                    f"(first {empty[0]!r}); import or generate the missing units first"
                )
            frames = np.array([geometry[p.code] for p in parents], dtype=object)
        parent_index = {p.code: i for i, p in enumerate(parents)}
        owner_parent = np.array([parent_index.get(u.parent_code or "", -1) for u in members], dtype=np.intp)
        new_geoms, level_changes = _resolve_level(
            [u.code for u in members], geoms, owner_parent, frames, tolerance_m, grid_size, proj, level
        )
        changes.extend(level_changes)
        for unit, geom in zip(members, new_geoms, strict=True):
            geometry[unit.code] = geom
        if frames is not None:  # parents become the exact union of their children
            for parent, geom in zip(parents, dissolve_upwards(new_geoms, owner_parent, len(parents)), strict=True):
                geometry[parent.code] = geom
    rebuilt = _rebuild_all(units, geometry)
    return rebuilt, changes


def _rebuild_all(units: Sequence[Unit], geometry: dict[str, Any]) -> list[Unit]:
    """Rebuild every parent from its children, finest level first, and return the new units."""
    levels = sorted({u.level for u in units}, reverse=True)
    for level in levels:
        if level is Level.CITY:
            continue
        members = sorted((u for u in units if u.level is level), key=lambda u: u.code)
        parents = sorted((u for u in units if u.level == level - 1), key=lambda u: u.code)
        index = {p.code: i for i, p in enumerate(parents)}
        owner = np.array([index[u.parent_code or ""] for u in members], dtype=np.intp)
        dissolved = dissolve_upwards(np.array([geometry[u.code] for u in members], dtype=object), owner, len(parents))
        for parent, geom in zip(parents, dissolved, strict=True):
            if not shapely.is_empty(geom):
                geometry[parent.code] = geom
    return [Unit(u.code, u.name, u.level, u.parent_code, u.households, geometry.get(u.code, u.geometry)) for u in units]


def dissolve_upwards(children: GeometryArray, parent: npt.NDArray[np.intp], n_parents: int) -> GeometryArray:
    """Return the union of each parent's children (exact: they form a coverage).

    Examples
    --------
    >>> kids = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object)
    >>> dissolve_upwards(kids, np.array([0, 0]), 1)[0].area
    2.0
    """
    order = np.argsort(parent, kind="stable")
    starts = np.searchsorted(parent[order], np.arange(n_parents + 1))
    out = np.empty(n_parents, dtype=object)
    for i in range(n_parents):
        mine = children[order[starts[i] : starts[i + 1]]]
        out[i] = shapely.Polygon() if mine.size == 0 else shapely.coverage_union_all(mine)
    result: GeometryArray = shapely.orient_polygons(out)
    return result


def _resolve_level(
    codes: list[str],
    geoms: GeometryArray,
    owner_parent: npt.NDArray[np.intp],
    frames: GeometryArray | None,
    tolerance_m: float,
    grid_size: float,
    proj: LocalProjection,
    level: Level,
) -> tuple[GeometryArray, list[Change]]:
    """Split one level into noded faces and give each face to exactly one unit."""
    outlines = [shapely.boundary(geoms)]
    if frames is not None:
        outlines.append(shapely.boundary(frames))
    lines = shapely.union_all(np.concatenate(outlines), grid_size=grid_size)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))), dtype=object)
    probes = shapely.point_on_surface(faces)
    unit_tree = shapely.STRtree(geoms)
    fi, ui = np.asarray(unit_tree.query(probes, predicate="intersects"), dtype=np.intp)
    face_frame = np.full(faces.size, -1, dtype=np.intp)
    if frames is not None:
        frame_tree = shapely.STRtree(frames)
        pf, pi = np.asarray(frame_tree.query(probes, predicate="intersects"), dtype=np.intp)
        face_frame[pf] = pi  # frames form a coverage; a probe is interior to at most one
    owner = np.full(faces.size, -1, dtype=np.intp)
    areas = proj.area_m2(faces)
    tally: dict[tuple[str, tuple[str, ...]], list[Any]] = {}

    def note(kind: str, who: tuple[str, ...], face: int) -> None:
        """Add a face's area to the change it belongs to, remembering its largest face."""
        entry = tally.setdefault((kind, who), [0.0, -1.0, face])
        entry[0] += float(areas[face])
        if areas[face] > entry[1]:
            entry[1], entry[2] = float(areas[face]), face

    # Faces inside one or more units: the lowest code wins, inside the face's own parent.
    order = np.lexsort((ui, fi))
    fi, ui = fi[order], ui[order]
    for f, u in zip(fi.tolist(), ui.tolist(), strict=True):
        if frames is not None and owner_parent[u] != face_frame[f]:
            note("outside_trimmed", (codes[u],), f)
            continue
        if owner[f] < 0:
            owner[f] = u
        elif owner[f] != u:
            note("overlap_resolved", (codes[owner[f]], codes[u]), f)
    if frames is not None:
        outside = face_frame < 0
        owner[outside] = -2  # outside every parent: dropped
    # Gaps go to the neighbour with the longest shared edge, largest gaps first.
    gaps = np.flatnonzero(owner == -1)
    if gaps.size:
        widths = 2.0 * areas[gaps] / np.maximum(proj.length_m(faces[gaps]), 1e-9)
        face_tree = shapely.STRtree(faces)
        for g, width in sorted(zip(gaps.tolist(), widths.tolist(), strict=True), key=lambda t: -areas[t[0]]):
            if frames is None and width > tolerance_m:
                note("gap_left", ("-",), g)
                continue
            near = np.asarray(face_tree.query(faces[g], predicate="touches"), dtype=np.intp)
            near = near[owner[near] >= 0]
            if frames is not None:
                near = near[owner_parent[owner[near]] == face_frame[g]]
            if near.size == 0:
                note("gap_left", ("-",), g)
                continue
            shared = shapely.length(shapely.intersection(faces[near], shapely.boundary(faces[g])))
            per_owner: dict[int, float] = defaultdict(float)
            for o, length in zip(owner[near].tolist(), np.asarray(shared).tolist(), strict=True):
                per_owner[o] += length
            best = min(per_owner, key=lambda o: (-per_owner[o], codes[o]))
            owner[g] = best
            note("gap_filled", (codes[best],), g)
    result = np.empty(len(codes), dtype=object)
    grouped: dict[int, list[int]] = defaultdict(list)
    for f, o in enumerate(owner.tolist()):
        if o >= 0:
            grouped[o].append(f)
    for u in range(len(codes)):
        mine = faces[grouped.get(u, [])]
        if mine.size == 0:
            raise GeoRepairError(
                f"{level.name.lower()} {codes[u]!r} vanished: it lies inside others or outside its parent"
            )
        result[u] = mine[0] if mine.size == 1 else shapely.coverage_union_all(mine)
    changes = [
        Change(kind, level, who, total, *_where(faces[largest]))
        for (kind, who), (total, _, largest) in sorted(tally.items(), key=lambda kv: -kv[1][0])
    ]
    out: GeometryArray = shapely.orient_polygons(result)
    return out, changes
