"""Read and write boundary files (GeoJSON, GeoPackage, Shapefile) with geopandas and pyogrio."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas  # type: ignore[import-untyped, unused-ignore]
import pyproj
import shapely  # type: ignore[import-untyped, unused-ignore]

from geo.crs import DATUMS, to_wgs84_transform
from geo.errors import GeoImportError
from geo.hierarchy import Unit

__all__ = ["EXPORT_FORMATS", "read_layer", "write_units"]

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
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types; all mean "cannot read"
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
