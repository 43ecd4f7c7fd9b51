"""Generate a deterministic, seamless fictional city so the dashboard runs without real data."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.hierarchy import Level, Unit
from geo.sampling import random_points_in
from geo.snap_rounding import GeometryArray, snap_coverage

__all__ = ["DEFAULT_SPEC", "DemoCitySpec", "generate_demo_city"]

EARTH_RADIUS_M = 6_371_008.8
GRID_SIZE_DEG = 1e-7
LLOYD_ITERATIONS = 3
COMMUNITIES_PER_PROGRESS_STEP = 20

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

# Syllables for fictional place names; tuples keep their order across runs.
_DISTRICT_SYLLABLES = (
    tuple("东西南北中新长青安平江河山湖云金玉龙凤华"),
    tuple("城阳宁兴丰台陵川原林港桥浦州溪峰岭泉湾"),
)
_STREET_SYLLABLES = (
    tuple("朝建和光明胜友新德福永康丰宁文兴华民盛嘉"),
    tuple("阳安兴华庆平新乐园苑泰和昌源祥顺通达荣宁"),
)
_COMMUNITY_SYLLABLES = (
    tuple("翠碧锦绣春秋梅兰竹菊枫桂樱松柏杨柳荷桃李"),
    tuple("苑园庭湾里坊村院庄居府湖畔岸山林溪港洲亭"),
)


@dataclass(frozen=True, slots=True)
class DemoCitySpec:
    """Fix the counts, seed and place of the demo city; equal specs give identical cities."""

    seed: int = 20261123
    city_code: str = "9901"
    city_name: str = "示范市"
    districts: int = 11
    streets: int = 100
    communities: int = 1000
    grids: int = 12410
    center_lon: float = 118.80
    center_lat: float = 32.05
    radius_km: float = 45.0
    households_per_grid: int = 600

    def validate(self) -> None:
        """Reject specs that cannot produce a well-formed tree.

        Raises
        ------
        ValueError
            On a malformed code, non-increasing counts or non-positive sizes.
        """
        if len(self.city_code) != 4 or not self.city_code.isdigit():
            raise ValueError(f"city_code must be 4 digits, got {self.city_code!r}")
        if not 1 <= self.districts <= 99:
            raise ValueError(f"districts must be in 1..99, got {self.districts}")
        counts = (self.districts, self.streets, self.communities, self.grids)
        if any(b < a for a, b in itertools.pairwise(counts)):
            raise ValueError(f"counts must not decrease level by level, got {counts}")
        if not self.radius_km > 0 or not self.households_per_grid > 0:
            raise ValueError("radius_km and households_per_grid must be positive")
        if not (-180 < self.center_lon < 180 and -80 < self.center_lat < 80):
            raise ValueError("centre must be a lon/lat inside (-180, 180) x (-80, 80)")


DEFAULT_SPEC = DemoCitySpec()


@dataclass(slots=True)
class _Layer:
    """Hold one level of the tree while it is being built, in metres."""

    geoms: GeometryArray
    parent: IntArray


def generate_demo_city(
    spec: DemoCitySpec = DEFAULT_SPEC,
    progress: Callable[[int, int], None] | None = None,
) -> list[Unit]:
    """Build the nested units of a fictional city from ``spec``.

    The outline is split top-down into districts, streets, communities and
    grids with Lloyd-relaxed Voronoi cells clipped to their parent, so every
    unit is a compact convex polygon. All grids are then snap-rounded together
    to 1e-7 degrees and every higher unit is the union of its grids, so each
    level is a seamless coverage and children tile their parent exactly.

    Parameters
    ----------
    spec : DemoCitySpec
        Counts, seed, location and size; the same spec always yields the
        same units and coordinates.
    progress : callable, optional
        Called as ``progress(done, total)`` while communities are split into
        grids, with ``total == spec.communities``.

    Returns
    -------
    list of Unit
        City first, then districts, streets, communities and grids, each
        level sorted by code.

    Raises
    ------
    ValueError
        If the spec is inconsistent (see `DemoCitySpec.validate`).
    """
    spec.validate()
    rng = np.random.default_rng(spec.seed)
    city = _city_outline(spec, rng)
    root = _Layer(
        geoms=np.array([city], dtype=object),
        parent=np.zeros(1, dtype=np.intp),
    )
    totals = (spec.districts, spec.streets, spec.communities, spec.grids)
    widths = (2, 3, 3, 3)
    layers = [root]
    for depth, (total, width) in enumerate(zip(totals, widths, strict=True)):
        report = progress if depth == 3 else None
        layers.append(_split_level(layers[-1], total, width, rng, report))

    to_lonlat = _metres_to_lonlat(spec)
    grids = snap_coverage(shapely.transform(layers[4].geoms, to_lonlat), GRID_SIZE_DEG)
    geoms_by_depth: list[GeometryArray] = [grids]
    for depth in (3, 2, 1, 0):
        geoms_by_depth.insert(0, _dissolve(geoms_by_depth[0], layers[depth + 1].parent, len(layers[depth].geoms)))
    households = _grid_households(spec, rng)
    return _assemble(spec, layers, geoms_by_depth, households, rng)


def _city_outline(spec: DemoCitySpec, rng: np.random.Generator) -> shapely.Polygon:
    """Draw a slightly irregular convex outline with area pi * radius**2."""
    n = 72
    theta = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    aspect = rng.uniform(1.1, 1.3)
    tilt = rng.uniform(0.0, math.pi)
    wobble = np.exp(rng.normal(0.0, 0.06, n))
    ex = np.sqrt(aspect) * np.cos(theta) * wobble
    ey = np.sin(theta) * wobble / np.sqrt(aspect)
    x = ex * math.cos(tilt) - ey * math.sin(tilt)
    y = ex * math.sin(tilt) + ey * math.cos(tilt)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    radius_m = spec.radius_km * 1000.0
    scale = radius_m * math.sqrt(math.pi / float(shapely.area(hull)))
    outline: shapely.Polygon = shapely.transform(hull, lambda c: c * scale)
    return outline


def _metres_to_lonlat(spec: DemoCitySpec) -> Callable[[FloatArray], FloatArray]:
    """Return the inverse equirectangular projection around the city centre."""
    lat_scale = math.degrees(1.0 / EARTH_RADIUS_M)
    lon_scale = lat_scale / math.cos(math.radians(spec.center_lat))
    offset = np.array([spec.center_lon, spec.center_lat])
    factors = np.array([lon_scale, lat_scale])

    def convert(coords: FloatArray) -> FloatArray:
        """Map local metres to lon/lat degrees."""
        out: FloatArray = coords * factors + offset
        return out

    return convert


def _allocate(total: int, weights: FloatArray) -> IntArray:
    """Split ``total`` proportionally to ``weights`` by largest remainder, >= 1 each."""
    n = weights.size
    if total < n:
        raise ValueError(f"cannot give {n} parents at least one of {total} children")
    quotas = total * weights / weights.sum()
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


def _split_level(
    layer: _Layer,
    total: int,
    width: int,
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None,
) -> _Layer:
    """Split every polygon of ``layer`` into relaxed Voronoi children."""
    parents = layer.geoms
    counts = _allocate(total, np.asarray(shapely.area(parents), dtype=np.float64))
    if int(counts.max()) >= 10**width:
        raise ValueError(f"a parent would need {int(counts.max())} children (max {10**width - 1})")
    step = COMMUNITIES_PER_PROGRESS_STEP if progress is not None else parents.size
    geoms: list[GeometryArray] = []
    owners: list[IntArray] = []
    for start in range(0, parents.size, step):
        idx = np.arange(start, min(start + step, parents.size))
        g, o = _split_batch(parents[idx], counts[idx], rng)
        geoms.append(g)
        owners.append(idx[o])
        if progress is not None:
            progress(int(idx[-1]) + 1, parents.size)
    return _Layer(geoms=np.concatenate(geoms), parent=np.concatenate(owners))


def _split_batch(parents: GeometryArray, counts: IntArray, rng: np.random.Generator) -> tuple[GeometryArray, IntArray]:
    """Split a batch of parents at once; children come out grouped by parent, in code order."""
    owner = np.repeat(np.arange(parents.size), counts)
    seeds = np.concatenate([np.asarray(random_points_in(p, int(k), rng)) for p, k in zip(parents, counts, strict=True)])
    multi = counts > 1
    cells = np.asarray(parents[owner], dtype=object)
    if multi.any():
        sel = multi[owner]
        split_parents, group = np.unique(owner[sel], return_inverse=True)
        sub_seeds = seeds[sel]
        parents_sel = parents[owner[sel]]
        for iteration in range(LLOYD_ITERATIONS + 1):
            vor = shapely.voronoi_polygons(
                shapely.multipoints(sub_seeds, indices=group),
                extend_to=parents[split_parents],
                ordered=True,
            )
            parts = np.asarray(shapely.get_parts(vor), dtype=object)
            if parts.size != sub_seeds.shape[0]:
                raise RuntimeError("Voronoi diagram lost a cell; duplicate seed points?")
            clipped = shapely.intersection(parts, parents_sel)
            if iteration < LLOYD_ITERATIONS:
                sub_seeds = np.asarray(shapely.get_coordinates(shapely.centroid(clipped)))
        cells[sel] = clipped
    if not np.all(shapely.get_type_id(cells) == 3):
        raise RuntimeError("clipping a Voronoi cell produced a non-polygon")
    order = _reading_order(cells, owner, parents, counts)
    return cells[order], owner[order]


def _reading_order(cells: GeometryArray, owner: IntArray, parents: GeometryArray, counts: IntArray) -> IntArray:
    """Order children row by row from north-west, grouped by parent, for stable codes."""
    centre = np.asarray(shapely.get_coordinates(shapely.centroid(cells)))
    top = np.asarray(shapely.bounds(parents))[:, 3]
    band = np.sqrt(np.asarray(shapely.area(parents)) / counts)
    row = np.floor((top[owner] - centre[:, 1]) / band[owner])
    order: IntArray = np.lexsort((centre[:, 0], row, owner))
    return order


def _dissolve(children: GeometryArray, parent: IntArray, n_parents: int) -> GeometryArray:
    """Union the children of each parent; exact because children form a coverage."""
    order = np.argsort(parent, kind="stable")
    starts = np.searchsorted(parent[order], np.arange(n_parents + 1))
    out = np.empty(n_parents, dtype=object)
    for i in range(n_parents):
        out[i] = shapely.coverage_union_all(children[order[starts[i] : starts[i + 1]]])
    result: GeometryArray = shapely.orient_polygons(out)
    return result


def _grid_households(spec: DemoCitySpec, rng: np.random.Generator) -> IntArray:
    """Draw grid household counts around the spec mean, sd 10 %, clipped to +-1/3."""
    mean = spec.households_per_grid
    low, high = round(mean * 2 / 3), round(mean * 4 / 3)
    raw = np.rint(rng.normal(mean, 0.1 * mean, spec.grids))
    out: IntArray = np.clip(raw, low, high).astype(np.intp)
    return out


def _names(
    count: int,
    syllables: tuple[tuple[str, ...], tuple[str, ...]],
    suffix: str,
    rng: np.random.Generator,
) -> list[str]:
    """Pick ``count`` distinct two-character names with ``suffix``."""
    first, second = syllables
    pool = len(first) * len(second)
    if count > pool:
        raise ValueError(f"cannot name {count} siblings uniquely from {pool} combinations")
    picks = rng.choice(pool, size=count, replace=False)
    return [f"{first[p // len(second)]}{second[p % len(second)]}{suffix}" for p in picks]


def _assemble(
    spec: DemoCitySpec,
    layers: list[_Layer],
    geoms_by_depth: list[GeometryArray],
    grid_households: IntArray,
    rng: np.random.Generator,
) -> list[Unit]:
    """Turn the per-level arrays into Unit records with codes, names and households."""
    households = [grid_households]
    for depth in (3, 2, 1, 0):
        sums = np.bincount(layers[depth + 1].parent, weights=households[0], minlength=len(layers[depth].geoms))
        households.insert(0, sums.astype(np.intp))
    units = [
        Unit(
            spec.city_code,
            spec.city_name,
            Level.CITY,
            None,
            int(households[0][0]),
            geoms_by_depth[0][0],
        )
    ]
    codes = [spec.city_code]
    naming = {
        1: (_DISTRICT_SYLLABLES, "区", 2),
        2: (_STREET_SYLLABLES, "街道", 3),
        3: (_COMMUNITY_SYLLABLES, "社区", 3),
    }
    for depth in (1, 2, 3, 4):
        parent = layers[depth].parent
        width = 2 if depth == 1 else 3
        level_codes: list[str] = []
        names: list[str] = []
        # Children are stored grouped by parent in code order.
        start = 0
        while start < parent.size:
            stop = start + int(np.searchsorted(parent[start:], parent[start], side="right"))
            k = stop - start
            level_codes.extend(f"{codes[parent[start]]}{i:0{width}d}" for i in range(1, k + 1))
            if depth == 4:
                names.extend(f"第{i}网格" for i in range(1, k + 1))
            else:
                syllables, suffix, _ = naming[depth]
                names.extend(_names(k, syllables, suffix, rng))
            start = stop
        level = Level(depth)
        for i, code in enumerate(level_codes):
            units.append(
                Unit(
                    code,
                    names[i],
                    level,
                    codes[parent[i]],
                    int(households[depth][i]),
                    geoms_by_depth[depth][i],
                )
            )
        codes = level_codes
    return units
