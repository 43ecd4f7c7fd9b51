"""`python app.py geo …`: import, validate, repair, generate and export city geography (issue 3)."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from geo.coverage import DEFAULT_TOLERANCE_M, repair, validate
from geo.errors import GenerationError, GeoImportError, GeoRepairError
from geo.files import EXPORT_FORMATS, read_layer, read_street_list, read_weights, write_units
from geo.generation import GenerationSpec, generate_levels
from geo.hierarchy import Hierarchy, HierarchyError, Level
from geo.importing import attach_level, units_from_layer
from geo.lod import level_feature_collection
from runtime.bootstrap import GEO_SOURCE_KEY, open_database
from settings import Settings
from storage.repositories import GeoRepository, MetaRepository

__all__ = ["add_parser", "run"]

_LEVELS = {"district": Level.DISTRICT, "street": Level.STREET, "community": Level.COMMUNITY, "grid": Level.GRID}
_ALL_LEVELS = {"city": Level.CITY, **_LEVELS}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare the `geo` command and its subcommands."""
    geo = sub.add_parser("geo", help="import, validate, repair, generate and export city geography")
    cmds = geo.add_subparsers(dest="geo_command", metavar="SUBCOMMAND", required=True)
    imp = cmds.add_parser("import", help="import one level from a GeoJSON, GeoPackage or Shapefile")
    imp.add_argument("file", type=Path)
    imp.add_argument("--level", required=True, choices=sorted(_LEVELS))
    imp.add_argument("--code-field", help="property with the unit code (default: adcode or code)")
    imp.add_argument("--name-field", help="property with the unit name (default: name)")
    imp.add_argument("--parent-field", help="property with the parent's code (default: parent_code/parent_adcode)")
    imp.add_argument("--households-field", help="property with the household count (default: none, 0)")
    imp.add_argument("--crs", help="the file's real coordinates: EPSG:xxxx, gcj02 or bd09 (default: as declared)")
    imp.add_argument("--city-name", help="name of the city (district import; default: its code)")
    imp.add_argument("--city-code", help="4-digit city code (district import; default: from the district codes)")
    val = cmds.add_parser("validate", help="report gaps, overlaps, invalid shapes, spills, duplicates, orphans")
    val.add_argument("--min-area", type=float, default=1.0, help="smallest area reported, m² (default 1)")
    rep = cmds.add_parser("repair", help="resolve overlaps and slivers so every level is seamless")
    rep.add_argument(
        "--tolerance", type=float, default=DEFAULT_TOLERANCE_M, help="widest gap between districts to fill, metres"
    )
    gen = cmds.add_parser("generate", help="generate the missing streets, communities and grids")
    size = gen.add_mutually_exclusive_group(required=True)
    size.add_argument("--grids", type=int, help="number of grids in the city")
    size.add_argument("--households-per-grid", type=int, help="grid size in households (needs --weights)")
    gen.add_argument("--communities", type=int, help="number of communities (default grids / 12)")
    gen.add_argument("--streets", type=int, help="number of streets (default communities / 10)")
    gen.add_argument("--streets-csv", type=Path, help="official street codes and names (columns code, name, areaCode)")
    gen.add_argument("--weights", type=Path, help="point or polygon layer with household counts")
    gen.add_argument("--weights-field", default="households", help="household field of --weights")
    gen.add_argument("--seed", type=int, default=20261123)
    exp = cmds.add_parser("export", help="write one level as GeoJSON or GeoPackage")
    exp.add_argument("--level", required=True, choices=sorted(_ALL_LEVELS))
    exp.add_argument("--format", required=True, choices=sorted(EXPORT_FORMATS))
    exp.add_argument("--output", "-o", required=True, type=Path)
    cmds.add_parser("lod", help="print the GeoJSON size of each level of detail")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `geo` subcommand; return the exit status (1 on refused input or a dirty validation)."""
    engine = open_database(settings)
    try:
        command = args.geo_command
        if command == "import":
            return _import(args, engine)
        if command == "validate":
            return _validate(args, engine)
        if command == "repair":
            return _repair(args, engine)
        if command == "generate":
            return _generate(args, engine)
        if command == "export":
            return _export(args, engine)
        return _lod(engine)
    except (GeoImportError, GeoRepairError, GenerationError, HierarchyError) as exc:
        print(f"error: {exc}", flush=True)
        return 1
    finally:
        engine.dispose()


def _import(args: argparse.Namespace, engine: object) -> int:
    level = _LEVELS[args.level]
    repo = GeoRepository(engine)  # type: ignore[arg-type]
    meta = MetaRepository(engine)  # type: ignore[arg-type]
    source = meta.get(GEO_SOURCE_KEY) or ""
    existing = [] if level is Level.DISTRICT else repo.load_units()
    if level is not Level.DISTRICT and source.startswith("demo:"):
        raise GeoImportError("the database holds the demo city; import districts first", file=args.file)
    frame = read_layer(args.file, args.crs)
    new = units_from_layer(
        frame,
        level,
        file=args.file,
        code_field=args.code_field,
        name_field=args.name_field,
        parent_field=args.parent_field,
        households_field=args.households_field,
    )
    units = attach_level(
        existing,
        new,
        level,
        file=args.file,
        city_name=args.city_name,
        city_code=args.city_code,
        parent_field=args.parent_field or "parent_code",
    )
    Hierarchy(units)  # refuse a malformed tree before anything is written
    mark = f"import:{args.file.name}" if level is Level.DISTRICT else f"{source};import:{args.file.name}"
    repo.replace_all(units, source=mark)
    counts = Counter(u.level for u in units)
    print(f"imported {len(new)} {args.level} units from {args.file}; the tree now has " + _counts(counts), flush=True)
    return 0


def _counts(counts: Counter[Level]) -> str:
    return ", ".join(f"{counts[lv]} {lv.name.lower()}" for lv in Level if counts[lv])


def _validate(args: argparse.Namespace, engine: object) -> int:
    units = GeoRepository(engine).load_units()  # type: ignore[arg-type]
    findings = validate(units, min_area_m2=args.min_area)
    for finding in findings:
        print(finding)
    kinds = Counter(f.kind for f in findings)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "clean"
    print(f"validated {len(units)} units: {summary}", flush=True)
    return 1 if findings else 0


def _repair(args: argparse.Namespace, engine: object) -> int:
    repo = GeoRepository(engine)  # type: ignore[arg-type]
    source = MetaRepository(engine).get(GEO_SOURCE_KEY)  # type: ignore[arg-type]
    units = repo.load_units()
    fixed, changes = repair(units, tolerance_m=args.tolerance)
    Hierarchy(fixed)
    repo.replace_all(fixed, source=source)
    for change in changes:
        print(change)
    total = sum(c.area_m2 for c in changes if c.kind != "gap_left")
    print(f"repaired {len(units)} units: {len(changes)} changes, {total:,.0f} m² reassigned", flush=True)
    return 0


def _generate(args: argparse.Namespace, engine: object) -> int:
    repo = GeoRepository(engine)  # type: ignore[arg-type]
    source = MetaRepository(engine).get(GEO_SOURCE_KEY) or "import:?"  # type: ignore[arg-type]
    streets = tuple(read_street_list(args.streets_csv)) if args.streets_csv else ()
    weights = read_weights(args.weights, args.weights_field) if args.weights else None
    spec = GenerationSpec(
        grids=args.grids,
        households_per_grid=args.households_per_grid,
        communities=args.communities,
        streets=args.streets,
        street_list=streets,
        seed=args.seed,
    )
    started = time.perf_counter()
    with tqdm(total=0, desc="generate", unit="parent", disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        units = generate_levels(repo.load_units(), spec, weights, progress)
    Hierarchy(units)
    repo.replace_all(units, source=f"{source};generate:{args.seed}")
    elapsed = time.perf_counter() - started
    print(f"generated in {elapsed:.1f} s; the tree now has {_counts(Counter(u.level for u in units))}", flush=True)
    return 0


def _export(args: argparse.Namespace, engine: object) -> int:
    level = _ALL_LEVELS[args.level]
    units = [u for u in GeoRepository(engine).load_units() if u.level is level]  # type: ignore[arg-type]
    if not units:
        print(f"error: no {args.level} units to export", flush=True)
        return 1
    path = write_units(units, args.output, args.format)
    print(f"exported {len(units)} {args.level} units to {path}", flush=True)
    return 0


def _lod(engine: object) -> int:
    hierarchy = Hierarchy(GeoRepository(engine).load_units())  # type: ignore[arg-type]
    for level in Level:
        units = hierarchy.at_level(level)
        if units:
            size = len(json.dumps(level_feature_collection(units), ensure_ascii=False).encode())
            print(f"{level.name.lower():<10} {len(units):>6} units {size:>12,} bytes", flush=True)
    return 0
