"""Map data and health endpoints; every answer is cut to the caller's jurisdiction."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, jsonify, request

from api.geojson_cache import LEVEL_NAMES, GeoJsonCache
from domain.kpis import KpiSnapshot, render_kpis
from domain.permissions import Action, allowed
from geo.hierarchy import Level
from runtime.context import AppContext
from security.guards import current_principal
from streams.aggregates import read_snapshot
from streams.unit_stats import read_unit_stats

__all__ = ["register"]


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the API blueprint to the Flask server."""
    cache = GeoJsonCache(ctx.hierarchy)
    cache.warm()
    guard = ctx.guard
    h = ctx.hierarchy
    bp = Blueprint("gw_api", __name__)

    def home() -> str:
        principal = current_principal()
        assert principal is not None  # the guard let us in
        return principal.unit_code

    @bp.get("/api/v1/geo/<level>.geojson")
    @guard.view(Action.VIEW_MAP)
    def level_geojson(level: str) -> Response:
        """Serve the units of one level (district, street, community) inside the caller's unit."""
        lvl = LEVEL_NAMES.get(level)
        if lvl is None or lvl is Level.GRID:
            abort(404, description="grids are served per unit: /api/v1/geo/grid/<code>.geojson")
        unit = home()
        return _geojson(cache.get(lvl, None if unit == h.city.code else unit))

    @bp.get("/api/v1/geo/<level>/<code>.geojson")
    @guard.view(Action.VIEW_MAP, scope=lambda level, code: (code,))
    def level_within_geojson(level: str, code: str) -> Response:
        """Serve the units of one level inside one unit (a district's grids; a grid worker's own grid)."""
        lvl = LEVEL_NAMES.get(level)
        if lvl is None or code not in h or h.get(code).level > lvl:
            abort(404)
        return _geojson(cache.get(lvl, code))

    @bp.get("/api/v1/geo/empty.geojson")
    def empty_geojson() -> Response:
        """Serve an empty collection (the grid layer at city zoom)."""
        return jsonify({"type": "FeatureCollection", "features": []})

    @bp.get("/api/v1/map/snapshot")
    @guard.view(Action.VIEW_MAP)
    def map_snapshot() -> Response:
        """Serve the caller's levels with the sequence number, for (re)syncing a screen."""
        principal = current_principal()
        assert principal is not None
        snap = read_snapshot(ctx.redis, ctx.keys)
        levels = snap["levels"]
        assert isinstance(levels, dict)
        whole = principal.unit_code == h.city.code  # everything is in scope: skip 13,000 checks
        mine = levels if whole else {c: v for c, v in levels.items() if guard.in_scope(principal, c)}
        city_view = principal.unit_code == h.city.code and allowed(principal, Action.VIEW_KPIS)
        kpis = snap["kpis"] if city_view else {}
        assert isinstance(kpis, dict)
        display = render_kpis(KpiSnapshot.from_mapping(kpis)) if city_view else None
        return jsonify({"seq": snap["seq"], "levels": mine, "kpis": kpis, "kpis_display": display})

    @bp.get("/api/v1/units/<code>/stats")
    @guard.view(Action.VIEW_MAP, scope=lambda code: (code,))
    def unit_stats(code: str) -> Response:
        """Serve a unit's aggregates (and its children's with ?children=1), with the sequence number."""
        if code not in h:
            abort(404)
        codes = [code]
        if request.args.get("children") == "1":
            codes += [c.code for c in h.children(code)]
        return jsonify(read_unit_stats(ctx.redis, ctx.keys, codes))

    @bp.get("/healthz")
    def healthz() -> Response:
        """Say the process is up (public: no data)."""
        return jsonify({"status": "ok"})

    def _geojson(entry: tuple[bytes, bytes, str]) -> Response:
        body, zipped, etag = entry
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        if request.accept_encodings.best_match(["gzip"]) == "gzip":  # compressed once, at cache time
            resp = Response(zipped, mimetype="application/geo+json", headers={"Content-Encoding": "gzip"})
        else:
            resp = Response(body, mimetype="application/geo+json")
        resp.vary.add("Accept-Encoding")
        resp.set_etag(etag)
        resp.cache_control.private = True
        resp.cache_control.max_age = 3600
        return resp

    server.register_blueprint(bp)
