"""The city map: district outlines, streets coloured at city zoom, a district's grids on drill-down.

The view is fitted in the browser (assets/gw_map.js) to the selection whenever the selection
or the container's size changes; center/zoom here are only the first guess.

Geometry is fetched by URL (cacheable, never inside the layout or an update); colours are
applied in the browser by assets/gw_map.js, which keeps one Leaflet layer per unit code.
"""

from __future__ import annotations

import dash_leaflet as dl

from layouts import ids

__all__ = ["city_map", "geojson_url"]

_STYLE_FILL = {"variable": "gw.map.fillStyle"}
_STYLE_OUTLINE = {"variable": "gw.map.outlineStyle"}
_REGISTER = {"variable": "gw.map.register"}
_REGISTER_OUTLINE = {"variable": "gw.map.registerOutline"}
_STYLE_FOCUS = {"variable": "gw.map.focusStyle"}
_REGISTER_FOCUS = {"variable": "gw.map.registerFocus"}


def geojson_url(level: str, district: str | None = None) -> str:
    """Return the URL the map fetches a level's (or one district's grids') GeoJSON from."""
    return f"/api/v1/geo/{level}/{district}.geojson" if district else f"/api/v1/geo/{level}.geojson"


def city_map(bounds: tuple[float, float, float, float], tile_url: str | None = None) -> dl.MapContainer:
    """Build the map container for a city with the given lon/lat bounds."""
    minx, miny, maxx, maxy = bounds
    layers: list[object] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, attribution=""))
    layers += [
        dl.GeoJSON(id=ids.LAYER_STREET, url=geojson_url("street"), style=_STYLE_FILL, onEachFeature=_REGISTER),
        dl.GeoJSON(id=ids.LAYER_GRID, data=None, style=_STYLE_FILL, onEachFeature=_REGISTER),
        dl.GeoJSON(
            id=ids.LAYER_DISTRICT,
            url=geojson_url("district"),
            style=_STYLE_OUTLINE,
            onEachFeature=_REGISTER_OUTLINE,
            interactive=False,
        ),
        # the selected unit's outline, on top (it never takes a click)
        dl.GeoJSON(id=ids.LAYER_FOCUS, data=None, style=_STYLE_FOCUS, onEachFeature=_REGISTER_FOCUS, interactive=False),
    ]
    return dl.MapContainer(
        layers,
        id=ids.MAP,
        center=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=9,
        zoomSnap=0.25,
        preferCanvas=True,
        attributionControl=False,
        className="gw-map",
    )
