"""Map data and health endpoints."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, jsonify, request

from api.geojson_cache import LEVEL_NAMES, GeoJsonCache
from domain.kpis import KpiSnapshot, render_kpis
from runtime.context import AppContext
from streams.aggregates import read_snapshot

__all__ = ["register"]


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the API blueprint to the Flask server."""
    cache = GeoJsonCache(ctx.hierarchy)
    cache.warm()
    bp = Blueprint("gw_api", __name__)

    @bp.get("/api/v1/geo/<level>.geojson")
    def level_geojson(level: str) -> Response:
        """Serve every unit of one level (district, street, community)."""
        lvl = LEVEL_NAMES.get(level)
        if lvl is None or level == "grid":
            abort(404, description="grids are served per district: /api/v1/geo/grid/<district>.geojson")
        return _geojson(cache.get(lvl))

    @bp.get("/api/v1/geo/<level>/<code>.geojson")
    def level_within_geojson(level: str, code: str) -> Response:
        """Serve the units of one level inside one unit (e.g. a district's grids)."""
        lvl = LEVEL_NAMES.get(level)
        if lvl is None or code not in ctx.hierarchy or ctx.hierarchy.get(code).level >= lvl:
            abort(404)
        return _geojson(cache.get(lvl, code))

    @bp.get("/api/v1/geo/empty.geojson")
    def empty_geojson() -> Response:
        """Serve an empty collection (the grid layer at city zoom)."""
        return jsonify({"type": "FeatureCollection", "features": []})

    @bp.get("/api/v1/map/snapshot")
    def map_snapshot() -> Response:
        """Serve the current levels with their sequence number, for (re)syncing a screen."""
        snap = read_snapshot(ctx.redis, ctx.keys)
        kpis = snap["kpis"]
        assert isinstance(kpis, dict)
        snap["kpis_display"] = render_kpis(KpiSnapshot.from_mapping(kpis))
        return jsonify(snap)

    @bp.get("/healthz")
    def healthz() -> Response:
        """Say the process is up."""
        return jsonify({"status": "ok"})

    def _geojson(entry: tuple[bytes, str]) -> Response:
        body, etag = entry
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        resp = Response(body, mimetype="application/geo+json")
        resp.set_etag(etag)
        resp.cache_control.private = True
        resp.cache_control.max_age = 3600
        return resp

    server.register_blueprint(bp)
