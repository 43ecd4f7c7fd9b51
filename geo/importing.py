"""Turn the features of a boundary file into units of one level and fit them into the tree."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.errors import GeoImportError
from geo.hierarchy import Level, Unit

__all__ = [
    "CODE_DIGITS",
    "DEFAULT_CODE_FIELDS",
    "DEFAULT_NAME_FIELDS",
    "DEFAULT_PARENT_FIELDS",
    "attach_level",
    "rollup_households",
    "units_from_layer",
]

# GB/T 2260 districts and the statistical division codes of streets and communities.
CODE_DIGITS = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
CITY_DIGITS = 4
MAX_CODE_LENGTH = 24
DEFAULT_CODE_FIELDS = ("adcode", "code")
DEFAULT_NAME_FIELDS = ("name",)
DEFAULT_PARENT_FIELDS = ("parent_code", "parent_adcode")
_POLYGONAL = (3, 6)


def _pick_field(columns: Sequence[str], given: str | None, defaults: Sequence[str], *, file: str) -> str | None:
    """Return the field to read: the one asked for (which must exist) or the first default present."""
    if given is not None:
        if given not in columns:
            raise GeoImportError(
                f"no such field; the file has {', '.join(columns) or 'no fields'}", file=file, field=given
            )
        return given
    return next((f for f in defaults if f in columns), None)


def _text(value: Any) -> str | None:
    """Normalise a property value to text: integral numbers lose their '.0', blanks become None."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return text or None


def units_from_layer(
    frame: Any,
    level: Level,
    *,
    file: str | Path,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    households_field: str | None = None,
) -> list[Unit]:
    """Read one level's units from a GeoDataFrame, checking every field of every feature.

    ``parent_code`` is filled from ``parent_field`` when there is one (for
    districts it is left empty: their parent is always the city); otherwise it
    is None and `attach_level` resolves it.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Features in lon/lat, as `geo.files.read_layer` returns them.
    level : Level
        DISTRICT, STREET, COMMUNITY or GRID.
    file : str or Path
        Named in errors.
    code_field, name_field, parent_field, households_field : str, optional
        Property names; defaults: ``adcode`` or ``code``; ``name``;
        ``parent_code`` or ``parent_adcode`` (below districts only); none
        (households 0). Grids without a code field get codes in `attach_level`.

    Returns
    -------
    list of Unit
        In file order.

    Raises
    ------
    GeoImportError
        Naming the field, the feature index and the file of the first problem.

    Examples
    --------
    >>> import geopandas
    >>> frame = geopandas.GeoDataFrame({"adcode": [320102], "name": ["玄武区"]},
    ...                                geometry=[shapely.box(118.8, 32.0, 118.9, 32.1)], crs=4326)
    >>> [(u.code, u.name) for u in units_from_layer(frame, Level.DISTRICT, file="d.geojson")]
    [('320102', '玄武区')]
    >>> units_from_layer(frame, Level.STREET, file="d.geojson")
    Traceback (most recent call last):
    ...
    geo.errors.GeoImportError: d.geojson: feature 0: field 'adcode': a street code has 9 digits, got '320102'
    """
    level = Level(level)
    if level is Level.CITY:
        raise GeoImportError("the city is derived from its districts; import districts instead", file=file)
    name = str(file)
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    code_col = _pick_field(columns, code_field, DEFAULT_CODE_FIELDS, file=name)
    if code_col is None and level is not Level.GRID:
        raise GeoImportError(
            f"no code field: pass --code-field (looked for {', '.join(DEFAULT_CODE_FIELDS)})", file=name
        )
    name_col = _pick_field(columns, name_field, DEFAULT_NAME_FIELDS, file=name)
    if name_col is None and level is not Level.GRID:
        raise GeoImportError(
            f"no name field: pass --name-field (looked for {', '.join(DEFAULT_NAME_FIELDS)})", file=name
        )
    parent_col = None
    if level is not Level.DISTRICT:
        parent_col = _pick_field(columns, parent_field, DEFAULT_PARENT_FIELDS, file=name)
    hh_col = _pick_field(columns, households_field, (), file=name)
    if len(frame) == 0:
        raise GeoImportError("has no features", file=name)

    geoms = frame.geometry.to_numpy()
    units: list[Unit] = []
    seen: dict[str, int] = {}
    digits = CODE_DIGITS.get(level)
    for i in range(len(frame)):
        row = frame.iloc[i]
        code = _text(row[code_col]) if code_col is not None else None
        if code_col is not None:
            if code is None:
                raise GeoImportError("is empty", file=name, feature=i, field=code_col)
            if digits is not None and (len(code) != digits or not code.isdigit()):
                raise GeoImportError(
                    f"a {level.name.lower()} code has {digits} digits, got {code!r}",
                    file=name,
                    feature=i,
                    field=code_col,
                )
            if len(code) > MAX_CODE_LENGTH:
                raise GeoImportError(f"longer than {MAX_CODE_LENGTH} characters", file=name, feature=i, field=code_col)
            if code in seen:
                raise GeoImportError(
                    f"duplicate code {code!r} (also feature {seen[code]})", file=name, feature=i, field=code_col
                )
            seen[code] = i
        label = _text(row[name_col]) if name_col is not None else None
        if name_col is not None and label is None:
            raise GeoImportError("is empty", file=name, feature=i, field=name_col)
        parent = _text(row[parent_col]) if parent_col is not None else None
        households = 0
        if hh_col is not None:
            raw = row[hh_col]
            value = _text(raw)
            if value is None or not value.isdigit():
                raise GeoImportError(
                    f"household count must be a whole number >= 0, got {raw!r}", file=name, feature=i, field=hh_col
                )
            households = int(value)
        geom = geoms[i]
        if geom is None or shapely.is_empty(geom):
            raise GeoImportError("has no geometry", file=name, feature=i, field="geometry")
        if shapely.get_type_id(geom) not in _POLYGONAL:
            raise GeoImportError(
                f"must be a Polygon or MultiPolygon, got {geom.geom_type}", file=name, feature=i, field="geometry"
            )
        geom = shapely.force_2d(geom)
        if shapely.get_type_id(geom) == 6 and shapely.get_num_geometries(geom) == 1:
            geom = shapely.get_geometry(geom, 0)  # writers promote to multi; a single part is a Polygon
        units.append(Unit(code or "", label or "", level, parent, households, geom))
    return units


def attach_level(
    existing: Sequence[Unit],
    new: Sequence[Unit],
    level: Level,
    *,
    file: str | Path,
    city_name: str | None = None,
    city_code: str | None = None,
    parent_field: str = "parent",
) -> list[Unit]:
    """Return the whole new tree with ``new`` as ``level``, replacing that level and all below it.

    Districts start a new city: its code is the 4-digit prefix shared by the
    district codes (or ``city_code``), its outline the union of the districts.
    Lower levels need the level above to exist; each unit's parent is, in this
    order: the parent field, the longest existing parent code that prefixes the
    unit's code, or the parent that contains the unit's representative point
    (largest overlap as a last resort). Grids without codes get their
    community's code plus 3 digits, in file order.

    Raises
    ------
    GeoImportError
        If the parent level is missing, a parent cannot be found, or codes do
        not nest under their parents.

    Examples
    --------
    >>> d = Unit("320102", "玄武区", Level.DISTRICT, None, 0, shapely.box(0, 0, 1, 1))
    >>> tree = attach_level([], [d], Level.DISTRICT, file="d.geojson", city_name="南京市")
    >>> [(u.code, u.parent_code) for u in tree]
    [('3201', None), ('320102', '3201')]
    >>> s = Unit("320102002", "梅园新村街道", Level.STREET, None, 7, shapely.box(0, 0, 1, 1))
    >>> [(u.code, u.parent_code, u.households) for u in attach_level(tree, [s], Level.STREET, file="s.gpkg")]
    [('3201', None, 7), ('320102', '3201', 7), ('320102002', '320102', 7)]
    """
    level = Level(level)
    name = str(file)
    if level is Level.DISTRICT:
        return rollup_households(_new_city(new, name, city_name, city_code))
    parents = [u for u in existing if u.level == level - 1]
    if not parents:
        raise GeoImportError(
            f"import the {Level(level - 1).name.lower()} level first: a {level.name.lower()} needs a parent", file=name
        )
    kept = [u for u in existing if u.level < level]
    placed = _resolve_parents(parents, new, level, name, parent_field)
    return rollup_households([*kept, *placed])


def _new_city(districts: Sequence[Unit], file: str, city_name: str | None, city_code: str | None) -> list[Unit]:
    """Build the city above a fresh set of districts."""
    prefixes = sorted({u.code[:CITY_DIGITS] for u in districts})
    if city_code is None:
        if len(prefixes) != 1:
            raise GeoImportError(
                f"districts belong to several cities ({', '.join(prefixes)}); pass --city-code", file=file
            )
        city_code = prefixes[0]
    if len(city_code) != CITY_DIGITS or not city_code.isdigit():
        raise GeoImportError(f"a city code has {CITY_DIGITS} digits, got {city_code!r}", file=file)
    outline = shapely.union_all(shapely.make_valid(np.array([u.geometry for u in districts], dtype=object)))
    outline = _polygonal(outline)
    city = Unit(city_code, city_name or city_code, Level.CITY, None, 0, outline)
    return [city, *(Unit(u.code, u.name, u.level, city_code, u.households, u.geometry) for u in districts)]


def _polygonal(geom: Any) -> Any:
    """Keep only the polygonal parts of a geometry, as a Polygon or MultiPolygon."""
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _resolve_parents(
    parents: Sequence[Unit], new: Sequence[Unit], level: Level, file: str, parent_field: str
) -> list[Unit]:
    """Give every new unit a parent and, for grids without one, a code."""
    by_code = {p.code: p for p in parents}
    parent_geoms = np.array([p.geometry for p in parents], dtype=object)
    tree = shapely.STRtree(parent_geoms)
    digits = CODE_DIGITS.get(level)
    resolved: list[tuple[Unit, str]] = []
    for i, unit in enumerate(new):
        parent = unit.parent_code
        if parent is not None:
            if parent not in by_code:
                raise GeoImportError(
                    f"names parent {parent!r}, which is not an existing {Level(level - 1).name.lower()}",
                    file=file,
                    feature=i,
                    field=parent_field,
                )
        elif unit.code:
            parent = next((unit.code[:k] for k in range(len(unit.code) - 1, 0, -1) if unit.code[:k] in by_code), None)
        if parent is None:
            parent = _containing(tree, parents, unit.geometry)
            if parent is None:
                raise GeoImportError(
                    f"lies outside every {Level(level - 1).name.lower()}", file=file, feature=i, field="geometry"
                )
        if digits is not None and not unit.code.startswith(parent):
            raise GeoImportError(
                f"code {unit.code!r} does not start with its parent's code {parent!r}",
                file=file,
                feature=i,
                field="code",
            )
        resolved.append((unit, parent))
    out: list[Unit] = []
    numbering: dict[str, int] = {}
    taken = {u.code for u, _ in resolved if u.code}
    for unit, parent in resolved:
        code = unit.code
        if not code:
            n = numbering.get(parent, 0)
            while True:
                n += 1
                code = f"{parent}{n:03d}"
                if code not in taken:
                    break
            if n > 999:
                raise GeoImportError(f"more than 999 grids in community {parent!r}; give grids codes", file=file)
            numbering[parent] = n
            taken.add(code)
        label = unit.name or f"第{code[-3:].lstrip('0') or '0'}网格"
        out.append(Unit(code, label, level, parent, unit.households, unit.geometry))
    return out


def _containing(tree: Any, parents: Sequence[Unit], geom: Any) -> str | None:
    """Return the parent holding the unit's representative point, else the one overlapping it most."""
    probe = shapely.point_on_surface(shapely.make_valid(geom))
    hits = np.asarray(tree.query(probe, predicate="intersects"), dtype=np.intp)
    if hits.size == 0:
        hits = np.asarray(tree.query(geom), dtype=np.intp)
        if hits.size == 0:
            return None
        overlap = shapely.area(shapely.intersection([parents[h].geometry for h in hits], shapely.make_valid(geom)))
        if not overlap.max() > 0:
            return None
        hits = hits[[int(np.argmax(overlap))]]
    found: str = min(parents[h].code for h in hits.tolist())
    return found


def rollup_households(units: Sequence[Unit]) -> list[Unit]:
    """Return the units with every parent's households set to the sum over its children.

    Units without children keep their own count; order is preserved.

    Examples
    --------
    >>> box = shapely.box(0, 0, 1, 1)
    >>> tree = [Unit("9901", "c", Level.CITY, None, 0, box), Unit("990101", "d", Level.DISTRICT, "9901", 5, box)]
    >>> [u.households for u in rollup_households(tree)]
    [5, 5]
    """
    totals: dict[str, int] = {}
    has_children: set[str] = set()
    for unit in sorted(units, key=lambda u: -int(u.level)):
        own = totals.get(unit.code, 0) if unit.code in has_children else unit.households
        totals[unit.code] = own
        if unit.parent_code is not None:
            has_children.add(unit.parent_code)
            totals[unit.parent_code] = totals.get(unit.parent_code, 0) + own
    return [
        Unit(u.code, u.name, u.level, u.parent_code, totals[u.code], u.geometry) if u.code in has_children else u
        for u in units
    ]
