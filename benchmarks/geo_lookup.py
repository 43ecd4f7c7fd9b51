"""Point-to-grid lookup on Nanjing's 12,410 generated grids, next to a plain STRtree measured in the same run.

What is measured: ``GridLocator`` (a coarse cell raster in front of exact tests on prepared geometries),
batch of 1 (``locate``, one call per point) and batch of 10,000 (``locate_many``), in points/s; and the
ceiling it is compared with: ``shapely.STRtree.query(points, predicate="intersects")`` on the same grids
and points, batched and one at a time. Also: the time to import the real GCJ-02 district file, repair it
and generate the 12,410 grids, the index build time, and the GeoJSON bytes of each level of detail.

Run: ``python -m benchmarks.geo_lookup [--repeat R]``. Reads ``../shared/data`` beside the checkout.
The last line is machine-readable: ``geo_lookup: <batched> points/s (<ratio>x STRtree)``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from geo.coverage import repair
from geo.files import read_layer, read_street_list
from geo.generation import GenerationSpec, generate_levels
from geo.hierarchy import Hierarchy, Level
from geo.importing import attach_level, units_from_layer
from geo.lod import level_feature_collection
from geo.lookup import GridLocator
from geo.sampling import random_points_in

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
GCJ = DATA / "boundaries" / "nanjing_districts_320100_gcj02.geojson"
STREETS = DATA / "admin_codes" / "nanjing_streets_2022.csv"
GRIDS = 12_410
BATCH = 10_000
SINGLES = 20_000


def _rate(fn: Callable[[], object], points: int, repeat: int) -> float:
    """Return the median points/s of ``repeat`` runs of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return points / statistics.median(times)


def main() -> None:
    """Build Nanjing, then time both lookups on the same points."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not GCJ.exists():
        raise SystemExit(f"shared data missing: {GCJ}")
    start = time.perf_counter()
    layer = units_from_layer(read_layer(GCJ, "gcj02"), Level.DISTRICT, file=GCJ)
    imported = attach_level([], layer, Level.DISTRICT, file=GCJ, city_name="南京市")
    repaired, _ = repair(imported)
    units = generate_levels(repaired, GenerationSpec(grids=GRIDS, street_list=tuple(read_street_list(STREETS))))
    pipeline_s = time.perf_counter() - start
    city = Hierarchy(units)
    grids = city.at_level(Level.GRID)
    start = time.perf_counter()
    locator = GridLocator.for_hierarchy(city)
    build_s = time.perf_counter() - start
    tree = shapely.STRtree([g.geometry for g in grids])

    rng = np.random.default_rng(1)
    pts = np.asarray(random_points_in(city.city.geometry, BATCH, rng))
    x, y = pts[:, 0].copy(), pts[:, 1].copy()
    points = shapely.points(x, y)
    assert locator.locate_many(x[:2000], y[:2000]) == [
        grids[int(i)].code for i in _strtree_first(tree, points[:2000], len(grids))
    ]

    ours_batch = _rate(lambda: locator.locate_many(x, y), BATCH, args.repeat)
    tree_batch = _rate(lambda: tree.query(points, predicate="intersects"), BATCH, args.repeat)
    xs, ys = x[:SINGLES].tolist(), y[:SINGLES].tolist()
    single_points = list(points[: len(xs)])
    ours_one = _rate(lambda: [locator.locate(a, b) for a, b in zip(xs, ys, strict=True)], len(xs), args.repeat)
    ours_one_many = _rate(
        lambda: [locator.locate_many([a], [b]) for a, b in zip(xs, ys, strict=True)], len(xs), args.repeat
    )
    tree_one = _rate(lambda: [tree.query(p, predicate="intersects") for p in single_points], len(xs), args.repeat)

    print(f"Nanjing import (GCJ-02) + repair + generate {GRIDS} grids: {pipeline_s:.1f} s (limit 60 s)")
    print(f"index build: {build_s:.2f} s for {len(grids)} grids")
    print(f"{'lookup':<34}{'ours':>14}{'plain STRtree':>16}{'ratio':>8}")
    print(
        f"{'batch of 10,000 (locate_many)':<34}{ours_batch:>14,.0f}{tree_batch:>16,.0f}{ours_batch / tree_batch:>7.1f}x"
    )
    print(f"{'batch of 1 (locate)':<34}{ours_one:>14,.0f}{tree_one:>16,.0f}{ours_one / tree_one:>7.1f}x")
    print(f"{'batch of 1 (locate_many)':<34}{ours_one_many:>14,.0f}{tree_one:>16,.0f}{ours_one_many / tree_one:>7.1f}x")
    print("GeoJSON per level of detail (geo.lod defaults, uncompressed):")
    for level in Level:
        fc = level_feature_collection(city.at_level(level))
        size = len(json.dumps(fc, ensure_ascii=False, separators=(",", ":")).encode())
        print(f"  {level.name.lower():<10}{len(fc['features']):>7} units {size:>12,} bytes")
    print(f"geo_lookup: {ours_batch:,.0f} points/s ({ours_batch / tree_batch:.1f}x STRtree)")


def _strtree_first(tree: shapely.STRtree, points: np.ndarray, n: int) -> list[int]:
    """Return the lowest grid index hit by each point (the reference answer)."""
    hits = tree.query(points, predicate="intersects")
    best = np.full(len(points), n)
    np.minimum.at(best, hits[0], hits[1])
    return [int(b) for b in best]


if __name__ == "__main__":
    main()
