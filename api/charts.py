"""The leaders' trend charts over HTTP: the list, and each chart of a unit as Plotly JSON."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, jsonify, request

from domain.catalog import t
from domain.permissions import Action
from figures.leader_charts import CHARTS
from figures.theme import THEMES
from runtime.context import AppContext
from runtime.leader_charts import UnknownChart

__all__ = ["register"]


def register(server: Flask, ctx: AppContext) -> None:
    """Attach the chart endpoints (scoped: a unit outside the caller's jurisdiction is refused)."""
    guard = ctx.guard
    h = ctx.hierarchy
    bp = Blueprint("gw_charts", __name__)

    def lang() -> str:
        wanted = request.args.get("lang")
        return wanted if wanted in ("zh-CN", "en") else ctx.lang()

    @bp.get("/api/v1/charts")
    @guard.view(Action.VIEW_KPIS)
    def chart_list() -> Response:
        """The ten charts: key and title, in order."""
        return jsonify({"charts": [{"key": c.key, "title": t(c.title_key, lang())} for c in CHARTS]})

    @bp.get("/api/v1/units/<code>/charts/<key>.json")
    @guard.view(Action.VIEW_KPIS, scope=lambda code, key: (code,))
    def chart(code: str, key: str) -> Response:
        """One chart of a unit and its children (?days=14&theme=light|dark&lang=zh-CN|en)."""
        if code not in h:
            abort(404)
        days = request.args.get("days", "14")
        theme = request.args.get("theme", "light")
        if not days.isdigit() or theme not in THEMES:
            abort(400, description="days is a whole number; theme is one of " + ", ".join(THEMES))
        try:
            fig = ctx.charts.figure(key, code, days=int(days), lang=lang(), theme=theme)
        except UnknownChart:
            abort(404)
        return Response(fig.to_json(), mimetype="application/json")

    server.register_blueprint(bp)
