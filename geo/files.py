"""Read and write boundary files (GeoJSON, GeoPackage, Shapefile) with geopandas and pyogrio."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas  # type: ignore[import-untyped, unused-ignore]
import numpy as np
import pyproj
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.crs import DATUMS, to_wgs84_transform
from geo.errors import GeoImportError
from geo.generation import HouseholdWeights, StreetListing
from geo.hierarchy import Level, Unit
from geo.importing import CODE_DIGITS
from geo.sampling import random_points_in

__all__ = ["EXPORT_FORMATS", "read_layer", "read_street_list", "read_weights", "write_units"]

EXPORT_FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG"}
_EPSG = re.compile(r"^epsg:\d+$", re.IGNORECASE)


def read_layer(path: str | Path, crs: str | None = None) -> Any:
    """Read a vector file into a GeoDataFrame in WGS84 lon/lat (EPSG:4326).

    Parameters
    ----------
    path : str or Path
        A GeoJSON, GeoPackage or Shapefile (anything GDAL reads).
    crs : str, optional
        The coordinate system the file's coordinates are really in, overriding
        what the file says: ``"EPSG:xxxx"``, or ``"gcj02"`` / ``"bd09"`` for
        lon/lat in the Chinese obfuscated datums. By default the file's own CRS
        is used (EPSG:4326 when it declares none).

    Returns
    -------
    geopandas.GeoDataFrame
        Index 0..n-1 in file order, geometry in EPSG:4326.

    Raises
    ------
    GeoImportError
        If the file cannot be read or ``crs`` is not understood.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "one.geojson"
    >>> _ = tmp.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
    ...     '"properties": {"adcode": 320102}, "geometry": {"type": "Point", "coordinates": [118.8, 32.05]}}]}')
    >>> frame = read_layer(tmp, crs="gcj02")
    >>> frame.crs.to_epsg(), round(frame.geometry.iloc[0].x, 4)
    (4326, 118.7948)
    """
    source = Path(path)
    if not source.exists():
        raise GeoImportError("file not found", file=source)
    try:
        frame = geopandas.read_file(source, engine="pyogrio")
    except Exception as exc:
        raise GeoImportError(f"cannot read: {exc}", file=source) from exc
    frame = frame.reset_index(drop=True)
    wanted = None if crs is None else crs.strip().lower().replace("-", "").replace("_", "")
    if wanted in DATUMS and wanted != "wgs84":
        frame = frame.set_crs(4326, allow_override=True)
        frame.geometry = shapely.transform(frame.geometry.to_numpy(), to_wgs84_transform(wanted))
        return frame
    if wanted == "wgs84":
        return frame.set_crs(4326, allow_override=True)
    if crs is not None:
        if not _EPSG.match(crs.strip()):
            raise GeoImportError(f"unknown --crs {crs!r}; use EPSG:<code>, gcj02 or bd09", file=source)
        try:
            declared = pyproj.CRS.from_user_input(crs.strip())
        except pyproj.exceptions.CRSError as exc:
            raise GeoImportError(f"unknown --crs {crs!r}: {exc}", file=source) from exc
        frame = frame.set_crs(declared, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def write_units(units: Sequence[Unit], path: str | Path, fmt: str) -> Path:
    """Write units as a layer that `read_layer` and the importer read back unchanged.

    Columns are ``code``, ``name``, ``level`` (int), ``parent_code`` and
    ``households``, geometry in EPSG:4326.

    Parameters
    ----------
    units : sequence of Unit
        Normally one level.
    path : str or Path
        The output file; replaced if it exists.
    fmt : {"geojson", "gpkg"}
        The file format.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.hierarchy import Level
    >>> u = Unit("320102", "玄武区", Level.DISTRICT, "3201", 0, shapely.box(118.8, 32.0, 118.9, 32.1))
    >>> out = write_units([u], pathlib.Path(tempfile.mkdtemp()) / "d.gpkg", "gpkg")
    >>> list(read_layer(out)["code"])
    ['320102']
    """
    driver = EXPORT_FORMATS.get(fmt.lower())
    if driver is None:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    target = Path(path)
    if target.exists():
        target.unlink()
    frame = geopandas.GeoDataFrame(
        {
            "code": [u.code for u in units],
            "name": [u.name for u in units],
            "level": [int(u.level) for u in units],
            "parent_code": [u.parent_code or "" for u in units],
            "households": [int(u.households) for u in units],
        },
        geometry=[u.geometry for u in units],
        crs="EPSG:4326",
    )
    frame.to_file(target, driver=driver, engine="pyogrio")
    return target


def read_street_list(
    path: str | Path,
    code_field: str = "code",
    name_field: str = "name",
    district_field: str | None = "areaCode",
) -> list[StreetListing]:
    """Read official street codes and names (no geometry) from a CSV file.

    The district of each street is ``district_field`` when the file has it,
    else the first 6 digits of the 9-digit street code.

    Raises
    ------
    GeoImportError
        Naming the file, row and field of a missing column or a malformed code.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = tmp.write_text("code,name\\n320102002,梅园新村街道\\n", encoding="utf-8")
    >>> read_street_list(tmp)
    [StreetListing(code='320102002', name='梅园新村街道', district_code='320102')]
    """
    source = Path(path)
    if not source.exists():
        raise GeoImportError("file not found", file=source)
    with source.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for wanted in (code_field, name_field):
            if wanted not in columns:
                raise GeoImportError(f"no such column; the file has {', '.join(columns)}", file=source, field=wanted)
        rows: list[StreetListing] = []
        for i, row in enumerate(reader):
            code = (row.get(code_field) or "").strip()
            if len(code) != CODE_DIGITS[Level.STREET] or not code.isdigit():
                raise GeoImportError(
                    f"a street code has 9 digits, got {code!r}", file=source, feature=i, field=code_field
                )
            name = (row.get(name_field) or "").strip()
            if not name:
                raise GeoImportError("is empty", file=source, feature=i, field=name_field)
            district = code[: CODE_DIGITS[Level.DISTRICT]]
            if district_field is not None and district_field in columns:
                district = (row.get(district_field) or "").strip() or district
            rows.append(StreetListing(code, name, district))
    return rows


def read_weights(
    path: str | Path, households_field: str, crs: str | None = None, samples: int = 16
) -> HouseholdWeights:
    """Read household counts from a point or polygon layer as weighted lon/lat points.

    A polygon's households are spread over ``samples`` random points inside it
    (seeded by its index, so reading is deterministic).

    Raises
    ------
    GeoImportError
        Naming the file, feature and field of a missing or negative count.
    """
    frame = read_layer(path, crs)
    if households_field not in frame.columns:
        raise GeoImportError("no such field", file=path, field=households_field)
    lons: list[float] = []
    lats: list[float] = []
    weights: list[float] = []
    geoms = frame.geometry.to_numpy()
    for i, (geom, raw) in enumerate(zip(geoms, frame[households_field].tolist(), strict=True)):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = float("nan")
        if not value >= 0:
            raise GeoImportError(
                f"household count must be >= 0, got {raw!r}", file=path, feature=i, field=households_field
            )
        if geom is None or shapely.is_empty(geom):
            raise GeoImportError("has no geometry", file=path, feature=i, field="geometry")
        if shapely.get_type_id(geom) in (3, 6):
            pts = random_points_in(geom, samples, np.random.default_rng(i))
            lons.extend(p[0] for p in pts)
            lats.extend(p[1] for p in pts)
            weights.extend([value / samples] * samples)
        else:
            xy = shapely.get_coordinates(geom)
            lons.extend(xy[:, 0].tolist())
            lats.extend(xy[:, 1].tolist())
            weights.extend([value / len(xy)] * len(xy))
    return HouseholdWeights(np.asarray(lons), np.asarray(lats), np.asarray(weights))
