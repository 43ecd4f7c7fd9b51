"""Generate the missing levels of a real city: streets, communities and grids inside real parents."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.coverage import GRID_SIZE_DEG, dissolve_upwards
from geo.errors import GenerationError
from geo.hierarchy import Level, Unit
from geo.importing import rollup_households
from geo.measure import LocalProjection
from geo.sampling import random_points_in
from geo.snap_rounding import GeometryArray, snap_coverage

__all__ = ["GenerationSpec", "HouseholdWeights", "StreetListing", "allocate", "generate_levels", "split_polygon"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
GRIDS_PER_COMMUNITY = 12
COMMUNITIES_PER_STREET = 10
MAX_CHILDREN = 999
SEGMENT_DEG = 0.001
_VORONOI_RETRIES = 5


@dataclass(frozen=True, slots=True)
class StreetListing:
    """Name one official street (街道/镇) and the district it belongs to, e.g. from the statistical code list."""

    code: str
    name: str
    district_code: str


@dataclass(frozen=True, slots=True)
class HouseholdWeights:
    """Hold household counts at lon/lat points; they drive how many units go where and how big they are."""

    lon: FloatArray
    lat: FloatArray
    households: FloatArray


@dataclass(frozen=True, slots=True)
class GenerationSpec:
    """Say how many units to generate; exactly one of ``grids`` and ``households_per_grid`` is set."""

    grids: int | None = None
    households_per_grid: int | None = None
    communities: int | None = None
    streets: int | None = None
    street_list: tuple[StreetListing, ...] = field(default_factory=tuple)
    seed: int = 20261123
    lloyd_iterations: int = 3


def allocate(total: int, weights: FloatArray) -> IntArray:
    """Split ``total`` in proportion to ``weights`` by largest remainder, at least 1 each.

    Examples
    --------
    >>> allocate(10, np.array([1.0, 1.0, 3.0])).tolist()
    [2, 2, 6]
    """
    n = weights.size
    if total < n:
        raise GenerationError(f"cannot give each of {n} parents at least one of {total} children")
    safe = np.where(weights > 0, weights, 0.0)
    if not safe.sum() > 0:
        safe = np.ones(n)
    quotas = total * safe / safe.sum()
    counts: IntArray = np.maximum(np.floor(quotas).astype(np.intp), 1)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(quotas - np.floor(quotas)), kind="stable")
        counts[order[:short]] += 1
    while short < 0:
        excess = np.where(counts > 1, counts - quotas, -np.inf)
        counts[int(np.argmax(excess))] -= 1
        short += 1
    return counts


def split_polygon(
    parent: Any,
    k: int,
    rng: np.random.Generator,
    density: tuple[FloatArray, FloatArray] | None = None,
    iterations: int = 3,
) -> GeometryArray:
    """Split a (possibly non-convex, multi-part) polygon into ``k`` compact pieces that tile it exactly.

    Seeds are drawn inside the parent (in proportion to ``density`` weights
    when given, uniformly otherwise), relaxed by ``iterations`` Lloyd steps
    (density-weighted centroids), and their Voronoi cells clipped to the
    parent. A cell that the clipping cut into several parts keeps its largest
    part; each smaller part joins the cell that shares the longest edge with it
    (or stays with its own cell when it touches no other, e.g. an island).

    Parameters
    ----------
    parent : shapely.Polygon or shapely.MultiPolygon
        In planar coordinates (metres).
    k : int
        Number of pieces, >= 1.
    rng : numpy.random.Generator
        Randomness; the result depends only on the inputs and its state.
    density : (xy, weights), optional
        Points (n, 2) inside or near the parent and their weights.
    iterations : int, default 3
        Lloyd relaxation steps.

    Returns
    -------
    numpy.ndarray of Polygon (MultiPolygon only for island parts)

    Examples
    --------
    >>> u_shape = shapely.Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    >>> cells = split_polygon(u_shape, 5, np.random.default_rng(1))
    >>> len(cells), round(float(shapely.area(shapely.union_all(cells))), 6), bool(shapely.coverage_is_valid(cells))
    (5, 700.0, True)
    >>> {c.geom_type for c in cells}
    {'Polygon'}
    """
    if k < 1:
        raise GenerationError(f"cannot split into {k} pieces")
    if k == 1:
        return np.array([parent], dtype=object)
    for _ in range(_VORONOI_RETRIES):
        seeds = _seeds(parent, k, rng, density)
        cells: GeometryArray | None = None
        for step in range(iterations + 1):
            vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
            parts = np.asarray(shapely.get_parts(vor), dtype=object)
            if parts.size != k:
                cells = None
                break
            cells = np.asarray(shapely.intersection(parts, parent), dtype=object)
            if step < iterations:
                seeds = _centres(cells, density)
        if cells is not None and not np.asarray(shapely.is_empty(cells), dtype=bool).any():
            return _merge_pieces(cells)
    raise GenerationError(f"could not split a polygon into {k} pieces (Voronoi lost cells)")


def _seeds(parent: Any, k: int, rng: np.random.Generator, density: tuple[FloatArray, FloatArray] | None) -> FloatArray:
    """Draw k distinct seed points inside the parent, following the density when there is one."""
    if density is not None:
        xy, w = density
        inside = np.asarray(shapely.contains_xy(parent, xy[:, 0], xy[:, 1]), dtype=bool) & (w > 0)
        if int(inside.sum()) >= k:
            pick = rng.choice(np.flatnonzero(inside), size=k, replace=False, p=w[inside] / w[inside].sum())
            seeds: FloatArray = xy[pick] + rng.normal(0.0, 1.0, (k, 2))
            ok = np.asarray(shapely.contains_xy(parent, seeds[:, 0], seeds[:, 1]), dtype=bool)
            seeds[~ok] = xy[pick][~ok]
            if np.unique(seeds, axis=0).shape[0] == k:
                return seeds
    return np.asarray(random_points_in(parent, k, rng), dtype=np.float64)


def _centres(cells: GeometryArray, density: tuple[FloatArray, FloatArray] | None) -> FloatArray:
    """Return each cell's (density-weighted) centroid, or a point inside it when that falls outside."""
    centres = np.asarray(shapely.get_coordinates(shapely.centroid(cells)), dtype=np.float64)
    if density is not None:
        xy, w = density
        tree = shapely.STRtree(cells)
        pts, cell = np.asarray(tree.query(shapely.points(xy), predicate="intersects"), dtype=np.intp)
        mass = np.bincount(cell, weights=w[pts], minlength=cells.size)
        sx = np.bincount(cell, weights=w[pts] * xy[pts, 0], minlength=cells.size)
        sy = np.bincount(cell, weights=w[pts] * xy[pts, 1], minlength=cells.size)
        has = mass > 0
        centres[has] = np.column_stack([sx[has] / mass[has], sy[has] / mass[has]])
    ok = np.asarray(shapely.contains_xy(cells, centres[:, 0], centres[:, 1]), dtype=bool)
    if not ok.all():
        inner = np.asarray(shapely.get_coordinates(shapely.point_on_surface(cells[~ok])), dtype=np.float64)
        centres[~ok] = inner
    return centres


def _merge_pieces(cells: GeometryArray) -> GeometryArray:
    """Give every detached part of a cell to the neighbour sharing the longest edge with it."""
    out = np.array([_largest(c) for c in cells], dtype=object)
    pieces = [(i, p) for i, c in enumerate(cells) for p in shapely.get_parts(c) if shapely.get_type_id(p) == 3]
    pieces = [(i, p) for i, p in pieces if not shapely.equals_exact(p, out[i], 0.0)]
    if not pieces:
        return out
    for i, piece in sorted(pieces, key=lambda t: -float(shapely.area(t[1]))):
        shared = np.asarray(shapely.length(shapely.intersection(out, shapely.boundary(piece))), dtype=np.float64)
        shared[i] = 0.0
        best = int(np.argmax(shared))
        target = best if shared[best] > 0 else i
        out[target] = shapely.coverage_union_all(np.array([out[target], piece], dtype=object))
    return out


def _largest(geom: Any) -> Any:
    """Return the largest polygon of a geometry."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3]
    return max(parts, key=lambda p: float(shapely.area(p)))


def generate_levels(
    units: Sequence[Unit],
    spec: GenerationSpec,
    weights: HouseholdWeights | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Unit]:
    """Fill in every level below the deepest one the tree has, down to grids.

    Each parent is split with `split_polygon` in a local equal-area projection.
    Child counts follow household weights when given, area otherwise. Streets
    take their codes and names from ``spec.street_list`` (in code order, laid
    out row by row from the north-west); other units get their parent's code
    plus 3 digits and a placeholder name (第N街道, 第N社区, 第N网格). All grids
    are snap-rounded together and every higher unit is rebuilt as the union of
    its children, so each level is a valid coverage tiling its parents.

    Parameters
    ----------
    units : sequence of Unit
        A tree whose deepest level is DISTRICT, STREET or COMMUNITY, seamless
        (run `geo.coverage.repair` first).
    spec : GenerationSpec
        Counts and seed; equal inputs give identical output.
    weights : HouseholdWeights, optional
        Households at points; generated units get the sum inside them.
    progress : callable, optional
        ``progress(done, total)`` over all parents split.

    Returns
    -------
    list of Unit
        The whole tree with the new levels.

    Raises
    ------
    GenerationError
        If the counts cannot be met or the options contradict each other.

    Examples
    --------
    >>> city = Unit("9901", "c", Level.CITY, None, 0, shapely.box(118.0, 32.0, 118.1, 32.1))
    >>> d = Unit("990101", "d", Level.DISTRICT, "9901", 0, city.geometry)
    >>> tree = generate_levels([city, d], GenerationSpec(grids=40, communities=4, streets=2, seed=1))
    >>> [sum(u.level is lv for u in tree) for lv in Level]
    [1, 1, 2, 4, 40]
    """
    deepest = max(u.level for u in units)
    if deepest is Level.GRID:
        raise GenerationError("the city already has grids; nothing to generate")
    if deepest is Level.CITY:
        raise GenerationError("import districts first")
    if (spec.grids is None) == (spec.households_per_grid is None):
        raise GenerationError("give exactly one of --grids and --households-per-grid")
    if spec.households_per_grid is not None and weights is None:
        raise GenerationError("--households-per-grid needs household weights (--weights)")
    rng = np.random.default_rng(spec.seed)
    proj = LocalProjection.around([u.geometry for u in units if u.level is Level.CITY])
    density: tuple[FloatArray, FloatArray] | None = None
    if weights is not None:
        pts = proj.to_metres(shapely.points(weights.lon, weights.lat))
        density = (np.asarray(shapely.get_coordinates(pts), dtype=np.float64), weights.households.astype(np.float64))
    total_hh = float(weights.households.sum()) if weights is not None else 0.0
    grids_total = spec.grids if spec.grids is not None else max(1, round(total_hh / (spec.households_per_grid or 1)))
    communities_total = spec.communities or max(1, round(grids_total / GRIDS_PER_COMMUNITY))
    streets_total = spec.streets or max(1, round(communities_total / COMMUNITIES_PER_STREET))

    kept = sorted(units, key=lambda u: (u.level, u.code))
    parents = [u for u in kept if u.level is deepest]
    # Short segments keep straight lon/lat edges straight enough through the projection round trip.
    outlines = shapely.segmentize(np.array([u.geometry for u in parents], dtype=object), SEGMENT_DEG)
    geoms = np.asarray(proj.to_metres(outlines), dtype=object)
    codes = [u.code for u in parents]
    layers: list[tuple[Level, list[str], list[str], IntArray, GeometryArray]] = []
    totals = {Level.STREET: streets_total, Level.COMMUNITY: communities_total, Level.GRID: grids_total}
    todo = [lv for lv in (Level.STREET, Level.COMMUNITY, Level.GRID) if lv > deepest]
    estimate = [len(parents), *(totals[lv] for lv in todo[:-1])]
    done, grand = 0, sum(estimate)
    for level in todo:
        weight = _unit_weights(geoms, density)
        counts, listed = _child_counts(level, codes, weight, totals[level], spec)
        if int(counts.max()) > MAX_CHILDREN:
            raise GenerationError(f"a parent would need {int(counts.max())} {level.name.lower()}s (max {MAX_CHILDREN})")
        new_geoms: list[Any] = []
        owner: list[int] = []
        new_codes: list[str] = []
        names: list[str] = []
        for p, (code, geom, k) in enumerate(zip(codes, geoms, counts.tolist(), strict=True)):
            cells = split_polygon(geom, int(k), rng, density, spec.lloyd_iterations)
            cells = cells[_reading_order(cells)]
            rows = listed.get(code)
            for n, cell in enumerate(cells, start=1):
                new_geoms.append(cell)
                owner.append(p)
                if rows is not None:
                    new_codes.append(rows[n - 1].code)
                    names.append(rows[n - 1].name)
                else:
                    new_codes.append(f"{code}{n:03d}")
                    names.append(f"第{n}{_SUFFIX[level]}")
            done += 1
            if progress is not None:
                progress(done, grand)
        layers.append((level, new_codes, names, np.asarray(owner, dtype=np.intp), np.array(new_geoms, dtype=object)))
        codes, geoms = new_codes, np.array(new_geoms, dtype=object)
    return _assemble(kept, parents, layers, proj, density)


_SUFFIX = {Level.STREET: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格"}


def _unit_weights(geoms: GeometryArray, density: tuple[FloatArray, FloatArray] | None) -> FloatArray:
    """Return each unit's households (from the density points) or, without weights, its area."""
    if density is None:
        return np.asarray(shapely.area(geoms), dtype=np.float64)
    xy, w = density
    tree = shapely.STRtree(geoms)
    pts, unit = np.asarray(tree.query(shapely.points(xy), predicate="intersects"), dtype=np.intp)
    first = np.unique(pts, return_index=True)[1]
    return np.bincount(unit[first], weights=w[pts[first]], minlength=geoms.size).astype(np.float64)


def _child_counts(
    level: Level, codes: list[str], weight: FloatArray, total: int, spec: GenerationSpec
) -> tuple[IntArray, dict[str, list[StreetListing]]]:
    """Return how many children each parent gets, and the listed streets per district."""
    listed: dict[str, list[StreetListing]] = {}
    if level is Level.STREET and spec.street_list:
        for row in sorted(spec.street_list, key=lambda r: r.code):
            listed.setdefault(row.district_code, []).append(row)
        listed = {c: rows for c, rows in listed.items() if c in set(codes)}
        if not listed:
            raise GenerationError("the street list names none of the districts")
        per_weight = sum(len(r) for r in listed.values()) / max(
            1e-12, float(sum(w for c, w in zip(codes, weight.tolist(), strict=True) if c in listed))
        )
        counts = np.array(
            [
                len(listed[c]) if c in listed else max(1, round(w * per_weight))
                for c, w in zip(codes, weight, strict=True)
            ],
            dtype=np.intp,
        )
        return counts, listed
    return allocate(max(total, len(codes)), weight), listed


def _reading_order(cells: GeometryArray) -> IntArray:
    """Order sibling cells row by row from the north-west, so codes read like a page."""
    if cells.size == 1:
        return np.zeros(1, dtype=np.intp)
    centre = np.asarray(shapely.get_coordinates(shapely.point_on_surface(cells)), dtype=np.float64)
    band = math.sqrt(float(np.sum(shapely.area(cells))) / cells.size)
    row = np.floor((centre[:, 1].max() - centre[:, 1]) / band)
    order: IntArray = np.lexsort((centre[:, 0], row))
    return order


def _assemble(
    kept: list[Unit],
    parents: list[Unit],
    layers: list[tuple[Level, list[str], list[str], IntArray, GeometryArray]],
    proj: LocalProjection,
    density: tuple[FloatArray, FloatArray] | None,
) -> list[Unit]:
    """Snap the new grids together, rebuild every level above from them, and build the units."""
    finest = layers[-1]
    grids = snap_coverage(proj.to_lonlat(finest[4]), GRID_SIZE_DEG)
    geoms_by_layer: list[GeometryArray] = [grids]
    for depth in range(len(layers) - 1, 0, -1):
        geoms_by_layer.insert(0, dissolve_upwards(geoms_by_layer[0], layers[depth][3], len(layers[depth - 1][1])))
    parent_codes = [u.code for u in parents]
    new_units: list[Unit] = []
    for depth, (level, codes, names, owner, _) in enumerate(layers):
        above = parent_codes if depth == 0 else layers[depth - 1][1]
        hh = _unit_weights(proj.to_metres(geoms_by_layer[depth]), density) if density is not None else None
        for i, code in enumerate(codes):
            households_i = round(float(hh[i])) if hh is not None else 0
            new_units.append(Unit(code, names[i], level, above[owner[i]], households_i, geoms_by_layer[depth][i]))
    top = dissolve_upwards(geoms_by_layer[0], layers[0][3], len(parents))
    rebuilt = {p.code: g for p, g in zip(parents, top, strict=True)}
    tree = [Unit(u.code, u.name, u.level, u.parent_code, u.households, rebuilt.get(u.code, u.geometry)) for u in kept]
    return _rebuild_above(rollup_households([*tree, *new_units]))


def _rebuild_above(units: list[Unit]) -> list[Unit]:
    """Rebuild the existing levels above the generated ones from their children."""
    geometry = {u.code: u.geometry for u in units}
    deepest_kept = max(u.level for u in units)
    for level in range(int(deepest_kept), 0, -1):
        members = sorted((u for u in units if u.level == level), key=lambda u: u.code)
        parents = sorted((u for u in units if u.level == level - 1), key=lambda u: u.code)
        index = {p.code: i for i, p in enumerate(parents)}
        owner = np.array([index[u.parent_code or ""] for u in members], dtype=np.intp)
        dissolved = dissolve_upwards(np.array([geometry[u.code] for u in members], dtype=object), owner, len(parents))
        for parent, geom in zip(parents, dissolved, strict=True):
            geometry[parent.code] = geom
    return [Unit(u.code, u.name, u.level, u.parent_code, u.households, geometry[u.code]) for u in units]
